"""core metrics: being written."""
