"""The operator's report: every section's metric run once, then shown as terminal tables, JSON or
one self-contained HTML page (`report_html`).

`build_report` only runs metrics through `run.run_metric` and keeps their rows; what a section
looks like is decided by the renderers. A metric that is not registered (yet), or that fails,
becomes an empty section marked missing or failed, and a column a renderer expects but does not
find shows "—": one broken number must not cost the operator the rest of the report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from shequn.analytics.registry import get_metric
from shequn.analytics.report_labels import VALUE_LABELS, WEEKDAYS, label
from shequn.analytics.run import run_metric
from shequn.analytics.zones import day_date
from shequn.errors import NotFound

if TYPE_CHECKING:
    from rich.console import Console

    from shequn.analytics.base import Base
    from shequn.analytics.engines import AnalyticsEngine

log = logging.getLogger(__name__)

# (section key = metric name, how it is shown) in report order. "table" sections list their rows;
# the others are drawn as charts in HTML and as grids in the terminal.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("group_summary", "table"),
    ("group_daily", "daily"),
    ("activity_heatmap", "heatmap"),
    ("join_cohorts", "cohorts"),
    ("level_counts", "levels"),
    ("group_health", "table"),
    ("group_tiers", "table"),
    ("tier_movements", "table"),
    ("program_concentration", "table"),
    ("core_members", "table"),
    ("leavers", "table"),
    ("slipping_members", "table"),
    ("silent_members", "table"),
    ("prune_candidates", "table"),
    ("discussion_attendance", "table"),
    ("member_levels", "data"),  # every member: JSON only; level_counts shows it in charts
)
# Sections grouped under one heading in HTML and the terminal.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("part_groups", ("group_summary", "group_daily", "activity_heatmap", "join_cohorts")),
    ("part_levels", ("level_counts",)),
    ("part_program", ("group_health", "group_tiers", "tier_movements", "program_concentration")),
    ("part_core", ("core_members",)),
    ("part_followup", ("leavers", "slipping_members")),
    ("part_prune", ("prune_candidates", "silent_members", "discussion_attendance")),
)

LEVEL_ORDER = ("lurker", "newcomer", "participant", "contributor", "core")
NO_VALUE = "—"
# Shown in HTML and the terminal without these (they repeat a parameter or another column);
# the JSON report keeps every column and row.
HIDDEN_COLUMNS = frozenset(
    {"size_min", "size_ideal_max", "size_max", "members_before", "raw_tier", "weeks_below"}
    | {"level_rank", "reason", "reason_zh"}  # codes the why says in words
)
# Sections with a row per group and week (or month): HTML and the terminal show the latest.
LATEST_ONLY = {"group_health": "week", "prune_candidates": "prune_day"}
CODE_COLUMNS = ("tier", "level", "reason", "status", "participation")
RATIO_WORDS = ("ratio", "retention", "share", "rate", "pct")


@dataclass
class Section:
    """One metric's rows as the report shows them."""

    key: str
    kind: str
    title: str
    description: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    missing: bool = False
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.missing and self.error is None


@dataclass
class Report:
    """A period's sections for some groups (or all), in one language."""

    lang: str
    since_day: int
    until_day: int
    groups: list[dict[str, Any]]
    sections: list[Section]
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def section(self, key: str) -> Section:
        """The section for metric `key` (an empty, missing one if the report has none)."""
        for s in self.sections:
            if s.key == key:
                return s
        return Section(key=key, kind="table", title=key, missing=True)

    @property
    def since(self) -> date:
        return day_date(self.since_day)

    @property
    def until(self) -> date:
        return day_date(self.until_day)

    def group_name(self, community_id: Any) -> str:
        for g in self.groups:
            if g["community_id"] == community_id:
                return str(g["name"])
        return NO_VALUE if community_id is None else str(community_id)

    def group_zone(self, community_id: Any) -> str:
        for g in self.groups:
            if g["community_id"] == community_id and g.get("timezone"):
                return str(g["timezone"])
        return "UTC"


def build_report(
    base: Base,
    engine: AnalyticsEngine,
    *,
    community_ids: list[int] | None,
    lang: str,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> Report:
    """Run every report section's metric over `base` for the given groups (all when None).

    `params` optionally overrides parameters per metric name, e.g. {"slipping_members": {...}}.
    """
    c = base.communities
    groups = engine.execute(c.order_by("community_id")).to_pylist()
    if community_ids is not None:
        wanted = set(community_ids)
        groups = [g for g in groups if g["community_id"] in wanted]
    sections = [
        _run_section(key, kind, base, engine, community_ids, lang, (params or {}).get(key))
        for key, kind in SECTIONS
    ]
    return Report(lang, base.since_day, base.until_day, groups, sections)


def _run_section(
    key: str,
    kind: str,
    base: Base,
    engine: AnalyticsEngine,
    community_ids: Iterable[int] | None,
    lang: str,
    params: Mapping[str, Any] | None,
) -> Section:
    try:
        metric = get_metric(key)
    except NotFound:
        return Section(key=key, kind=kind, title=label(key, lang), missing=True)
    except Exception as exc:  # a metric module that does not import: the rest still report
        log.warning("report: metrics did not load: %s", exc, exc_info=True)
        return Section(key=key, kind=kind, title=key, error=f"{type(exc).__name__}: {exc}")
    section = Section(
        key=key, kind=kind, title=metric.title(lang), description=metric.description(lang)
    )
    try:
        result = run_metric(
            metric, base, engine, params=params, lang=lang, community_ids=community_ids
        )
    except Exception as exc:  # one failing metric must not sink the whole report
        log.warning("report: metric %s failed: %s", key, exc, exc_info=True)
        section.error = f"{type(exc).__name__}: {exc}"
        return section
    section.columns = list(result.table.column_names) + (["why"] if result.whys else [])
    section.rows = result.rows()
    section.seconds = result.seconds
    return section


# -- cells --------------------------------------------------------------------------------------
def visible_columns(section: Section) -> list[str]:
    """Columns a person reads: ids hidden; the group's name, the member and the why first (so a
    wide table, scrolled or printed, never loses them), then the numbers in the metric's order."""
    hidden = HIDDEN_COLUMNS | ({"week"} if "week_start" in section.columns else set())
    cols = [c for c in section.columns if not (c in hidden or c == "id" or c.endswith("_id"))]
    if "community_id" in section.columns and "name" not in cols:
        cols.insert(0, "group")
    first = [c for c in ("group", "name", "display_name", "why") if c in cols]
    return first + [c for c in cols if c not in first]


def shown_rows(section: Section) -> list[dict[str, Any]]:
    """The rows a person reads; for weekly or monthly sections, each group's latest period."""
    col = LATEST_ONLY.get(section.key)
    if col is None or col not in section.columns:
        return section.rows
    last: dict[Any, Any] = {}
    for r in section.rows:
        cid, when = r.get("community_id"), r.get(col)
        if when is not None and (cid not in last or when > last[cid]):
            last[cid] = when
    return [r for r in section.rows if r.get(col) == last.get(r.get("community_id"))]


def cell(report: Report, row: Mapping[str, Any], column: str) -> str:
    """One value as text for a person: dates for day numbers, % for ratios, words for codes."""
    if column == "group":
        return report.group_name(row.get("community_id"))
    if column not in row:
        return NO_VALUE
    return format_value(
        row[column], column, report.lang, zone=report.group_zone(row.get("community_id"))
    )


def format_value(value: Any, column: str, lang: str, *, zone: str = "UTC") -> str:
    """`value` of `column` as the report prints it; None is "—"."""
    if value is None:
        return NO_VALUE
    if isinstance(value, bool):
        return label("yes" if value else "no", lang)
    if isinstance(value, int):
        return _format_int(value, column, lang, zone)
    if isinstance(value, float | Decimal):
        if any(w in column for w in RATIO_WORDS):
            return f"{float(value) * 100:.1f}%"
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    if isinstance(value, datetime | date):
        return value.isoformat()[:16].replace("T", " ")
    if isinstance(value, str) and any(w in column for w in CODE_COLUMNS):
        pair = VALUE_LABELS.get(value)
        return (pair[0] if lang == "zh" else pair[1]) if pair else value
    return str(value)


def _format_int(value: int, column: str, lang: str, zone: str) -> str:
    if column == "weekday" and 0 <= value <= 6:
        return WEEKDAYS["zh" if lang == "zh" else "en"][value]
    if column == "week" or column.endswith("_week"):
        return week_start(value)
    if column == "day" or column.endswith(("_day", "_start")):
        return day_date(value).isoformat()
    if column == "epoch" or column.endswith("_epoch"):
        local = datetime.fromtimestamp(value, UTC).astimezone(ZoneInfo(zone))
        return local.strftime("%Y-%m-%d %H:%M")
    return str(value)


def week_start(week: int) -> str:
    """The Monday of week number `week` ((day + 3) // 7, as in `analytics.base`)."""
    return day_date(week * 7 - 3).isoformat()


def jsonable(value: Any) -> Any:
    """A row value as JSON: dates as ISO text, decimals as floats, the rest unchanged."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


# -- renderers --------------------------------------------------------------------------------
def render_json(report: Report) -> dict[str, Any]:
    """The report as a JSON-ready dict: period, groups and every section with its raw rows."""
    return {
        "lang": report.lang,
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "generated_at": report.generated_at.isoformat(),
        "groups": [{k: jsonable(v) for k, v in g.items()} for g in report.groups],
        "sections": {
            s.key: {
                "title": s.title,
                "description": s.description,
                "missing": s.missing,
                "error": s.error,
                "columns": s.columns,
                "rows": [{k: jsonable(v) for k, v in r.items()} for r in s.rows],
            }
            for s in report.sections
        },
    }


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (charts inlined; no network needed)."""
    from shequn.analytics.report_html import render_page

    return render_page(report)


def render_tables(report: Report, console: Console, *, max_rows: int = 15) -> None:
    """The report in the terminal: grids for the charts, tables capped at `max_rows` rows."""
    from shequn.analytics.report_terminal import print_report

    print_report(report, console, max_rows=max_rows)
