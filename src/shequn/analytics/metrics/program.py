"""program metrics: being written."""
