"""The report in the terminal with rich: shaded grids where the HTML page has charts, and every
list as a table capped at a few rows (the JSON and HTML reports have them all)."""

from __future__ import annotations

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shequn.analytics.report import (
    PARTS,
    Report,
    Section,
    cell,
    format_value,
    shown_rows,
    visible_columns,
)
from shequn.analytics.report_html import cohort_table, heatmap_grid, level_series
from shequn.analytics.report_labels import WEEKDAYS, label

SHADES = " ░▒▓█"
# The terminal is narrow: these columns of a section (where present) besides the group, the
# member and the why; a section not listed shows every column. HTML and JSON have them all.
BRIEF: dict[str, tuple[str, ...]] = {
    "group_summary": (
        "members", "new_members", "departed", "messages", "avg_dau", "active_ratio",
        "d1_retention", "w1_retention",
    ),
    "group_health": ("tier", "score"),
    "group_tiers": ("tier", "since_date", "score"),
    "tier_movements": ("week_start", "previous_tier", "tier"),
    "program_concentration": ("groups", "top20_share"),
    "core_members": ("messages", "share_of_group"),
    "leavers": ("left_day",),
    "slipping_members": ("last_active_day", "days_quiet"),
    "silent_members": ("last_active_day",),
    "prune_candidates": ("prune_day", "missed"),
}  # fmt: skip
NAMES = ("group", "name", "display_name", "why")
LEVEL_WEEKS = 8  # weeks of level counts shown; the HTML chart has all


def print_report(report: Report, console: Console, *, max_rows: int = 15) -> None:
    """Print every part of `report` to `console`."""
    lang = report.lang
    groups = ", ".join(str(g["name"]) for g in report.groups) or "—"
    console.print(Text(label("report_title", lang), style="bold"))
    console.print(f"{label('period', lang)}: {report.since} – {report.until}")
    console.print(Text(f"{label('groups', lang)}: {groups}"))
    for part, keys in PARTS:
        console.rule(Text(label(part, lang), style="bold"))
        for key in keys:
            _print_section(report, report.section(key), console, max_rows)


def _print_section(report: Report, s: Section, console: Console, max_rows: int) -> None:
    lang = report.lang
    console.print(Text(s.title, style="bold cyan"))
    if s.missing or s.error:
        note = label("missing" if s.missing else "failed", lang)
        console.print(Text(f"— {note}" + (f" ({s.error})" if s.error else ""), style="dim"))
        return
    printer = {"heatmap": _heatmap, "cohorts": _cohorts, "levels": _levels}.get(s.kind, _table)
    printer(report, s, console, max_rows)


def _table(report: Report, s: Section, console: Console, max_rows: int) -> None:
    if s.kind == "daily":  # a chart in HTML; the summary above has the same numbers per group
        console.print(Text(label("see_html", report.lang), style="dim"))
        return
    rows = shown_rows(s)
    if not rows:
        console.print(Text(label("no_rows", report.lang), style="dim"))
        return
    brief = BRIEF.get(s.key)
    cols = [c for c in visible_columns(s) if brief is None or c in NAMES or c in brief]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for c in cols:
        wide = c == "why"
        table.add_column(label(c, report.lang), overflow="fold", min_width=30 if wide else None)
    for r in rows[:max_rows]:
        # Text, not markup: a display name like "[bold]x" is shown as typed.
        table.add_row(*(Text(cell(report, r, c)) for c in cols))
    console.print(table)
    if len(rows) > max_rows:
        console.print(Text(label("more_rows", report.lang, n=len(rows) - max_rows), style="dim"))


def _heatmap(report: Report, s: Section, console: Console, max_rows: int) -> None:
    grid = heatmap_grid(report)
    top = max((n for row in grid for n in row), default=0)
    if not top:
        console.print(Text(label("no_rows", report.lang), style="dim"))
        return
    console.print(Text(label("weekday_hour", report.lang), style="dim"))
    # one character per hour: label every sixth hour above its column
    ruler = "".join(f"{h:<6d}" for h in range(0, 24, 6))
    names = WEEKDAYS["zh" if report.lang == "zh" else "en"]
    width = max(cell_len(n) for n in names) + 1
    console.print(" " * width + ruler)
    for wd, row in enumerate(grid):
        # each hour shaded by its share of the busiest hour of the week
        shades = "".join(SHADES[min(4, -(-n * 4 // top))] for n in row)
        pad = " " * (width - cell_len(names[wd]))
        console.print(Text(f"{names[wd]}{pad}{shades}  {sum(row)}"))


def _cohorts(report: Report, s: Section, console: Console, max_rows: int) -> None:
    rows = cohort_table(report)
    if not rows:
        console.print(Text(label("no_rows", report.lang), style="dim"))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column(label("cohort", report.lang))
    table.add_column(label("size", report.lang), justify="right")
    width = max(len(r.retention) for r in rows)
    for n in range(width):
        table.add_column(label("week_n", report.lang, n=n), justify="right")
    for r in rows[-max_rows:]:
        cells = [
            format_value(v, "retention", report.lang) if v is not None else "" for v in r.retention
        ]
        table.add_row(r.week, str(r.size), *cells)
    console.print(table)


def _levels(report: Report, s: Section, console: Console, max_rows: int) -> None:
    weeks, series = level_series(report)
    if not weeks:
        console.print(Text(label("no_rows", report.lang), style="dim"))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    table.add_column(label("week_of", report.lang))
    for level in series:
        table.add_column(format_value(level, "level", report.lang), justify="right")
    for i in range(max(0, len(weeks) - LEVEL_WEEKS), len(weeks)):
        table.add_row(weeks[i], *(str(counts[i]) for counts in series.values()))
    console.print(table)
