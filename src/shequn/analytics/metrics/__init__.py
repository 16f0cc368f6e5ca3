"""The metric declarations; importing this package registers every metric."""

from shequn.analytics.metrics import (  # noqa: F401
    connections,
    core,
    followup,
    groups,
    kol,
    members,
    program,
    rituals,
    theme,
)
