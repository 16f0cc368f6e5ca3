"""The operator's routines: the inbox of tasks derived from the insights (issue 5)."""
