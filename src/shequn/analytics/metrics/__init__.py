"""The metric declarations; importing this package registers every metric."""

from shequn.analytics.metrics import groups  # noqa: F401
