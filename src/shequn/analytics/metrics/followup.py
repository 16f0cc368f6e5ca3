"""followup metrics: being written."""
