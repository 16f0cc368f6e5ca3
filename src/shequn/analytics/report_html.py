"""The HTML report: one self-contained page, printable, that works offline.

The vendored Apache ECharts (static/vendor/echarts, pinned) is inlined into the page, so the file
can be mailed or opened from a USB stick with no network. All text from the store (group and
display names, last messages) is escaped by Jinja2's autoescape; chart data goes into a
`<script type="application/json">` block through `tojson`, which escapes `<`, `>`, `&` and `'`,
so a name like `</script><script>…` stays data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from shequn.analytics.report import (
    LEVEL_ORDER,
    PARTS,
    Report,
    Section,
    cell,
    format_value,
    shown_rows,
    visible_columns,
    week_start,
)
from shequn.analytics.report_labels import VALUE_LABELS, WEEKDAYS, label

if TYPE_CHECKING:
    import jinja2

ECHARTS_VERSION = "5.6.0"
NUMBER = re.compile(r"^-?[\d.]+%?$")  # right-aligned in tables
MAX_ROWS = 500  # per table; the JSON report has every row
DAILY_SERIES = 8  # groups drawn one by one in the daily chart; the rest are summed as "others"


@cache
def echarts_js() -> str:
    """The vendored echarts.min.js, checked to be safe to inline in a <script> element."""
    path = files("shequn.analytics") / "static" / "vendor" / "echarts" / "echarts.min.js"
    js = path.read_text(encoding="utf-8")
    # Inside <script>, "</script" ends the element and "<!--" changes how it is parsed.
    if "</script" in js.lower() or "<!--" in js:
        raise RuntimeError("vendored echarts.min.js cannot be inlined as it is")
    return js


@cache
def _template() -> jinja2.Template:
    import jinja2  # only the HTML report needs it

    text = (files("shequn.analytics") / "templates" / "report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(text)


def render_page(report: Report) -> str:
    """The whole page for `report` (see module docstring)."""
    lang = report.lang
    return _template().render(
        lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en",
        t=lambda key, **kw: label(key, lang, **kw),
        report=report,
        groups=", ".join(str(g["name"]) for g in report.groups) or "—",
        parts=[_part(report, key, keys) for key, keys in PARTS],
        cohorts=_cohorts(report),
        data=_chart_data(report),
        echarts_js=echarts_js(),
        echarts_version=ECHARTS_VERSION,
    )


def _part(report: Report, key: str, keys: tuple[str, ...]) -> dict[str, Any]:
    return {"title": label(key, report.lang), "sections": [_section(report, k) for k in keys]}


def _section(report: Report, key: str) -> dict[str, Any]:
    s = report.section(key)
    out: dict[str, Any] = {
        "key": key,
        "kind": s.kind,
        "title": s.title,
        "description": s.description,
        "status": _status(report, s),
    }
    if s.kind == "table" and s.ok:
        cols = visible_columns(s)
        rows = shown_rows(s)
        out["headers"] = [label(c, report.lang) for c in cols]
        out["why_col"] = cols.index("why") if "why" in cols else -1
        texts = [[cell(report, r, c) for c in cols] for r in rows[:MAX_ROWS]]
        out["rows"] = [[(t, "num" if NUMBER.match(t) else "") for t in row] for row in texts]
        out["more"] = max(0, len(rows) - MAX_ROWS)
    return out


def _status(report: Report, s: Section) -> str:
    if s.missing:
        return label("missing", report.lang)
    if s.error:
        return label("failed", report.lang) + f" ({s.error})"
    return ""


def _cohorts(report: Report) -> dict[str, Any]:
    rows = cohort_table(report)
    width = max((len(r.retention) for r in rows), default=0)
    return {
        "headers": [label("week_n", report.lang, n=n) for n in range(width)],
        "rows": [
            {
                "week": r.week,
                "size": r.size,
                "cells": [
                    (format_value(v, "retention", report.lang), _shade(v)) for v in r.retention
                ],
            }
            for r in rows
        ],
    }


def _shade(ratio: float | None) -> str:
    """A cell background: deeper blue for higher retention; none for a week not reached yet."""
    if ratio is None:
        return "transparent"
    return f"rgba(37, 99, 235, {0.08 + 0.8 * max(0.0, min(1.0, ratio)):.2f})"


def _chart_data(report: Report) -> dict[str, Any]:
    """Everything the page's charts draw, as plain JSON."""
    lang = report.lang
    grid = heatmap_grid(report)
    weeks, levels = level_series(report)
    return {
        "heatmap": {
            "weekdays": list(WEEKDAYS["zh" if lang == "zh" else "en"]),
            "hours": [str(h) for h in range(24)],
            "cells": [[h, wd, n] for wd, row in enumerate(grid) for h, n in enumerate(row)],
            "max": max((n for row in grid for n in row), default=0),
            "label": label("messages", lang),
        },
        "levels": {
            "weeks": weeks,
            "series": [
                {"name": _value_label(lv, lang), "data": counts} for lv, counts in levels.items()
            ],
        },
        "daily": _daily(report),
    }


def _value_label(code: str, lang: str) -> str:
    pair = VALUE_LABELS.get(code)
    return (pair[0] if lang == "zh" else pair[1]) if pair else code


def _daily(report: Report) -> dict[str, Any]:
    """Daily active members per day, the largest groups one by one and the rest together."""
    per: dict[Any, dict[int, int]] = {}
    for r in report.section("group_daily").rows:
        d, n = r.get("day"), r.get("dau")
        if isinstance(d, int) and isinstance(n, int | float):
            days = per.setdefault(r.get("community_id"), {})
            days[d] = days.get(d, 0) + int(n)
    all_days = sorted({d for days in per.values() for d in days})
    ranked = sorted(per, key=lambda g: (-sum(per[g].values()), str(g)))
    series = [
        {"name": report.group_name(g), "data": [per[g].get(d, 0) for d in all_days]}
        for g in ranked[:DAILY_SERIES]
    ]
    rest = ranked[DAILY_SERIES:]
    if rest:
        series.append(
            {
                "name": label("others", report.lang),
                "data": [sum(per[g].get(d, 0) for g in rest) for d in all_days],
            }
        )
    return {
        "days": [format_value(d, "day", report.lang) for d in all_days],
        "series": series,
        "label": label("dau", report.lang),
    }


# -- chart data (the terminal draws the same as grids) -------------------------------------------
def _num(row: Mapping[str, Any], column: str) -> float | None:
    value = row.get(column)
    return None if value is None or isinstance(value, str) else float(value)


def heatmap_grid(report: Report) -> list[list[int]]:
    """Messages by weekday (rows, Mon first) × hour (columns), summed over the report's groups."""
    grid = [[0] * 24 for _ in range(7)]
    for r in report.section("activity_heatmap").rows:
        wd, hour, n = _num(r, "weekday"), _num(r, "hour"), _num(r, "messages")
        if wd is not None and hour is not None and n is not None and 0 <= wd < 7 and 0 <= hour < 24:
            grid[int(wd)][int(hour)] += int(n)
    return grid


@dataclass
class CohortRow:
    """One join week: how many joined, and the share still speaking N weeks after."""

    week: str
    size: int
    retention: list[float | None]


def cohort_table(report: Report) -> list[CohortRow]:
    """join_cohorts pivoted to one row per join week; groups pooled (retained / size summed)."""
    sizes: dict[tuple[str, Any], int] = {}
    cells: dict[tuple[str, int], list[int]] = {}
    for r in report.section("join_cohorts").rows:
        week, after = r.get("cohort_week_start", r.get("cohort_week")), _num(r, "weeks_after")
        size, kept = _num(r, "size"), _num(r, "retained")
        if week is None or after is None or size is None or kept is None:
            continue
        key = format_value(week, "cohort_week" if isinstance(week, int) else "date", "en")
        sizes[(key, r.get("community_id"))] = int(size)
        total = cells.setdefault((key, int(after)), [0, 0])
        total[0] += int(kept)
        total[1] += int(size)
    if not cells:
        return []
    width = max(after for _, after in cells) + 1
    out = []
    for week in sorted({w for w, _ in cells}):
        ratios = [cells.get((week, a)) for a in range(width)]
        out.append(
            CohortRow(
                week=week,
                size=sum(n for (w, _), n in sizes.items() if w == week),
                retention=[round(c[0] / c[1], 4) if c and c[1] else None for c in ratios],
            )
        )
    return out


def level_series(report: Report) -> tuple[list[str], dict[str, list[int]]]:
    """Week starts and, per level (lowest first), members at that level each week, groups summed."""
    counts: dict[tuple[int, str], int] = {}
    for r in report.section("level_counts").rows:
        week, level, n = r.get("week"), r.get("level"), _num(r, "members")
        if isinstance(week, int) and level is not None and n is not None:
            counts[(week, str(level))] = counts.get((week, str(level)), 0) + int(n)
    weeks = sorted({w for w, _ in counts})
    found = {lv for _, lv in counts}
    levels = [lv for lv in LEVEL_ORDER if lv in found] + sorted(found - set(LEVEL_ORDER))
    series = {lv: [counts.get((w, lv), 0) for w in weeks] for lv in levels}
    return [week_start(w) for w in weeks], series
