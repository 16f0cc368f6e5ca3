"""The metric declarations; importing this package registers every metric."""

from shequn.analytics.metrics import core, followup, groups, members, program  # noqa: F401
