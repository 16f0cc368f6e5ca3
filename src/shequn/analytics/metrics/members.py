"""members metrics: being written."""
