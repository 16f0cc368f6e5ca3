"""Running metrics: pick an engine for the store, build the base tables for a period, execute.

The CLI, the reports and the benchmark call these; nothing else builds engines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine

from shequn.analytics.base import Base
from shequn.analytics.engines import AnalyticsEngine, DuckDBEngine, PostgresEngine, SparkEngine
from shequn.analytics.registry import Metric, all_metrics, get_metric
from shequn.analytics.zones import day_number
from shequn.config import get_settings
from shequn.errors import InputError, NotFound

log = logging.getLogger(__name__)
ENGINES = ("auto", "duckdb", "postgres", "spark")


def default_zone() -> str:
    """Zone for groups that have none: the `timezone` setting, else this machine's zone."""
    configured = get_settings().timezone
    if configured:
        return configured
    from shequn.importing import resolve_timezone

    return resolve_timezone(None)[1]


def cache_path(store: Engine) -> Path | None:
    """The DuckDB cache beside a SQLite store file (`shequn.db` → `shequn.analytics.duckdb`)."""
    if store.dialect.name != "sqlite" or store.url.database in (None, "", ":memory:"):
        return None
    db = Path(str(store.url.database))
    return db.with_name(db.stem + ".analytics.duckdb")


def open_engine(store: Engine, kind: str = "auto", *, cache: bool = True) -> AnalyticsEngine:
    """The engine to run metrics with; `auto` is PostgreSQL for a PostgreSQL store, else DuckDB.

    The DuckDB engine is refreshed here (only new messages are read).
    """
    if kind not in ENGINES:
        raise InputError(f"unknown engine {kind!r} (one of {', '.join(ENGINES)})", field="--engine")
    zone = default_zone()
    if kind == "auto":
        kind = "postgres" if store.dialect.name == "postgresql" else "duckdb"
    if kind == "postgres":
        if store.dialect.name != "postgresql":
            raise InputError("the postgres engine needs a PostgreSQL store", field="--engine")
        return PostgresEngine(store, default_tz=zone)
    if kind == "spark":
        return SparkEngine(store, default_tz=zone)
    engine = DuckDBEngine(store, default_tz=zone, cache=cache_path(store) if cache else None)
    engine.refresh()
    return engine


def make_base(
    engine: AnalyticsEngine, *, since: date | None = None, until: date | None = None
) -> Base:
    """Base tables for [since, until]; by default from the first to the newest message's day."""
    today = day_number(datetime.now(UTC).date())
    bounds = engine.day_range() or (today, today)
    lo = day_number(since) if since else bounds[0]
    hi = day_number(until) if until else bounds[1]
    if hi < lo:
        raise InputError("--until is before --since", field="--until")
    return Base(engine.raw(), since_day=lo, until_day=hi)


@dataclass
class Result:
    """One metric's rows, ordered, with a 'why' line per row where the metric has one."""

    metric: Metric
    params: dict[str, Any]
    table: pa.Table
    seconds: float
    whys: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        rows = self.table.to_pylist()
        if self.whys:
            for row, why in zip(rows, self.whys, strict=True):
                row["why"] = why
        return rows


def run_metric(
    metric: Metric | str,
    base: Base,
    engine: AnalyticsEngine,
    *,
    params: Mapping[str, Any] | None = None,
    lang: str = "en",
    community_ids: Iterable[int] | None = None,
) -> Result:
    """Compute one metric over `base` on `engine`; optionally only for some groups."""
    m = get_metric(metric) if isinstance(metric, str) else metric
    values = m.resolve_params(params)
    t0 = time.perf_counter()
    expr = m.compute(base, values)
    if community_ids is not None and "community_id" in expr.columns:
        expr = expr.filter(expr.community_id.isin(list(community_ids)))
    table = engine.execute(expr.order_by(list(m.order_by)))
    seconds = time.perf_counter() - t0
    whys = [m.why(r, lang) for r in table.to_pylist()] if m.why else []
    return Result(metric=m, params=values, table=table, seconds=seconds, whys=whys)


def run_all(base: Base, engine: AnalyticsEngine, *, lang: str = "en") -> dict[str, Result]:
    """Every registered metric with its defaults."""
    return {m.name: run_metric(m, base, engine, lang=lang) for m in all_metrics()}


def resolve_groups(store: Engine, refs: Iterable[str]) -> list[int] | None:
    """Store ids of the groups named by id, platform id or name; None when none are named."""
    from sqlalchemy import or_, select

    from shequn.store import schema as t

    refs = list(refs)
    if not refs:
        return None
    ids: list[int] = []
    with store.connect() as conn:
        for ref in refs:
            c = t.community.c
            cond = or_(c.name == ref, c.platform_id == ref)
            if ref.isdigit():
                cond = or_(cond, c.id == int(ref))
            found = [r.id for r in conn.execute(select(c.id).where(cond))]
            if not found:
                raise NotFound(f"no group {ref!r} (see `shequn groups`)")
            ids.extend(found)
    return sorted(set(ids))


def compute_metric(
    store: Engine,
    name: str,
    *,
    groups: Iterable[str] = (),
    since: date | None = None,
    until: date | None = None,
    params: Mapping[str, Any] | None = None,
    engine_kind: str = "auto",
    lang: str = "en",
) -> Result:
    """One metric for the CLI and API: open the engine, build the period, run, filter groups."""
    metric = get_metric(name)
    metric.resolve_params(params)  # a bad parameter fails before any work
    community_ids = resolve_groups(store, groups)
    engine = open_engine(store, engine_kind)
    base = make_base(engine, since=since, until=until)
    return run_metric(metric, base, engine, params=params, lang=lang, community_ids=community_ids)
