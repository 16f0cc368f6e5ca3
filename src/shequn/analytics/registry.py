"""Metrics declared as data: a name, zh/en titles, parameters with defaults, one Ibis expression.

The Zulip `CountStat` habit: a metric is a record in a registry, not a function somebody has to
know to call. The expression is written once against the base tables of `analytics.base` and runs
on every engine (DuckDB in-process, PostgreSQL, Spark). `why` turns a result row into the one
line an operator reads ("sent 212 messages on 41 days; top 20% of this group"); it runs after the
engine, on the rows, so the numbers themselves never depend on presentation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shequn.errors import InputError, NotFound

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from shequn.analytics.base import Base

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Param:
    """One parameter of a metric; every number from the articles is a default, never a constant."""

    name: str
    default: Any
    zh: str
    en: str

    def parse(self, text: str) -> Any:
        """A value given on the command line, in the type of the default."""
        kind = type(self.default)
        try:
            if kind is bool:
                return text.lower() in {"1", "true", "yes", "y", "on"}
            return kind(text)
        except ValueError as exc:
            raise InputError(
                f"expected {kind.__name__}, got {text!r}", field=f"param {self.name}"
            ) from exc


@dataclass(frozen=True)
class Metric:
    """A metric: what it is called and means, its parameters, and how it is computed."""

    name: str
    subject: str  # "member", "group", "program" or "event": what one row is about
    zh: str
    en: str
    description_zh: str
    description_en: str
    compute: Callable[[Base, Mapping[str, Any]], ir.Table]
    order_by: tuple[str, ...]
    params: tuple[Param, ...] = ()
    why: Callable[[Row, str], str] | None = None
    tags: tuple[str, ...] = field(default=())

    def resolve_params(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults overlaid with `given`; an unknown name is an error naming it."""
        values = {p.name: p.default for p in self.params}
        for key, value in (given or {}).items():
            if key not in values:
                known = ", ".join(values) or "none"
                raise InputError(f"unknown parameter (known: {known})", field=f"param {key}")
            param = next(p for p in self.params if p.name == key)
            values[key] = param.parse(value) if isinstance(value, str) else value
        return values

    def title(self, lang: str = "en") -> str:
        return self.zh if lang == "zh" else self.en

    def description(self, lang: str = "en") -> str:
        return self.description_zh if lang == "zh" else self.description_en


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    """Add a metric to the registry; names are unique."""
    if metric.name in METRICS:
        raise ValueError(f"metric {metric.name!r} registered twice")
    METRICS[metric.name] = metric
    return metric


def get_metric(name: str) -> Metric:
    """The metric called `name`, or NotFound listing the known names."""
    load_all()
    try:
        return METRICS[name]
    except KeyError:
        raise NotFound(f"no metric {name!r}; known: {', '.join(sorted(METRICS))}") from None


def all_metrics() -> list[Metric]:
    """Every registered metric, in registration order."""
    load_all()
    return list(METRICS.values())


def load_all() -> None:
    """Import the modules that declare metrics (each registers itself on import)."""
    from shequn.analytics import metrics  # noqa: F401
