"""The data behind the Overview and Group pages and their API: one function per page part.

Everything reads the insights snapshot (DuckDB over Parquet) and, for names and open tasks, a few
index-backed store queries, so no page scans the messages. Filtering, sorting and paging run in
DuckDB through `Insights.rows`; only the two overview columns that are not stored in one table
(the active-ratio trend and open tasks) are sorted in Python, over the filtered groups' ids.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.responses import Response
from sqlalchemy import Engine, select

from shequn.analytics.snapshot import Insights
from shequn.errors import InputError, NotFound
from shequn.store import schema as t

try:  # the inbox arrives with another change; the overview shows "—" without it
    from shequn.ops.tasks import open_counts as _open_counts
except ImportError:  # pragma: no cover - only before the inbox exists
    _open_counts = None  # type: ignore[assignment]

TASKS_INSTALLED = _open_counts is not None
PER_PAGE = 50
MAX_LIMIT = 1000
TIERS = ("new", "growing", "core")
SIZES = ("small", "ideal", "large", "over")
# overview sort key → (snapshot table, column); trend and open tasks are sorted in Python
SORTS: dict[str, tuple[str, str]] = {
    "name": ("group_summary", "name"),
    "platform": ("group_summary", "platform"),
    "members": ("group_summary", "members"),
    "size": ("group_summary", "members"),
    "active_ratio": ("group_summary", "active_ratio"),
    "messages": ("group_summary", "messages"),
    "new_members": ("group_summary", "new_members"),
    "departed": ("group_summary", "departed"),
    "tier": ("group_tiers", "tier"),
}
PY_SORTS = ("trend", "open_tasks")
# group tables of the API: URL name → (snapshot table, default sort, descending)
GROUP_TABLES: dict[str, tuple[str, str, bool]] = {
    "daily": ("group_daily", "day", False),
    "heatmap": ("activity_heatmap", "weekday", False),
    "cohorts": ("join_cohorts", "cohort_week", False),
    "retention": ("retention", "community_id", False),
    "levels": ("level_counts", "week", False),
    "level_history": ("level_history", "week", False),
    "member_levels": ("member_levels", "level_rank", True),
    "core": ("core_members", "rank", False),
    "members": ("member_stats", "messages", True),
    "unanswered": ("unanswered_questions", "sent_at", True),
    "questions": ("question_response", "community_id", False),
    "health": ("group_health", "week", False),
    "tier": ("group_tiers", "community_id", False),
    "tier_movements": ("tier_movements", "week", False),
    "summary": ("group_summary", "community_id", False),
    "concentration": ("core_concentration", "community_id", False),
    "leavers": ("leavers", "left_day", True),
    "slipping": ("slipping_members", "days_quiet", True),
    "silent": ("silent_members", "days_since_last_message", True),
    "prune": ("prune_candidates", "month", True),
    "funnel": ("funnel", "step_no", False),
    "kols": ("kol_candidates", "rank", False),
    "connections": ("connections", "community_id", False),
    "theme_fit": ("theme_fit", "week", False),
    "intros": ("newcomer_intros", "join_day", True),
    "intro_rate": ("intro_rate", "community_id", False),
}
# member_levels columns added to the members table (member_stats has `level` already)
LEVEL_EXTRA = ("level_rank", "since_day", "score", "reason", "reason_zh")
LEVELS = ("lurker", "newcomer", "participant", "contributor", "core")


@dataclass
class Page:
    """One page of rows, with the count of all matching rows."""

    rows: list[dict[str, Any]]
    total: int
    limit: int
    offset: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.rows) < self.total


@dataclass
class OverviewQuery:
    """The overview's filters, sort and page (all optional)."""

    platform: str | None = None
    tier: str | None = None
    size: str | None = None
    q: str | None = None
    sort: str = "members"
    desc: bool = True
    limit: int = PER_PAGE
    offset: int = 0

    def check(self) -> None:
        if self.sort not in SORTS and self.sort not in PY_SORTS:
            known = ", ".join([*SORTS, *PY_SORTS])
            raise InputError(f"cannot sort by {self.sort!r}; one of {known}", field="sort")
        if self.tier is not None and self.tier not in TIERS:
            raise InputError(f"tier is one of {', '.join(TIERS)}", field="tier")
        if self.size is not None and self.size not in SIZES:
            raise InputError(f"size is one of {', '.join(SIZES)}", field="size")
        check_paging(self.limit, self.offset)


def check_paging(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit is 1 to {MAX_LIMIT}", field="limit")
    if offset < 0:
        raise InputError("offset is 0 or more", field="offset")


def _intersect(a: Collection[int] | None, b: Collection[int] | None) -> list[int] | None:
    if a is None:
        return None if b is None else sorted(b)
    return sorted(set(a) if b is None else set(a) & set(b))


def _named(store: Engine, text: str) -> list[int]:
    """Groups whose name contains `text` (any case): the store's small community table."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    c = t.community.c
    with store.connect() as conn:
        return list(conn.scalars(select(c.id).where(c.name.ilike(pattern, escape="\\"))))


def _filtered_groups(
    store: Engine, insights: Insights, scope: Collection[int] | None, query: OverviewQuery
) -> list[int] | None:
    """The groups the name and tier filters leave (None: no such filter and all groups)."""
    groups = _intersect(scope, None)
    if query.q:
        groups = _intersect(groups, _named(store, query.q))
    if query.tier:
        tiered = insights.rows("group_tiers", groups=groups, where={"tier": query.tier})
        groups = _intersect(groups, [r["community_id"] for r in tiered])
    return groups


def _summary_where(query: OverviewQuery) -> dict[str, Any]:
    where: dict[str, Any] = {}
    if query.platform:
        where["platform"] = query.platform
    if query.size:
        where["size_status"] = query.size
    return where


def trend_weeks(insights: Insights) -> tuple[int, int]:
    """The last complete week of the snapshot and the one before (group_health's week numbers):
    a week still under way would compare a partial week with a whole one."""
    day = (insights.until - date(1970, 1, 1)).days
    week = (day + 3) // 7
    last = week if insights.until.weekday() == 6 else week - 1
    return last, last - 1


def trends(insights: Insights, groups: Collection[int]) -> dict[int, float | None]:
    """Weekly active ratio, last complete week minus the week before, per group."""
    if not groups or not insights.has("group_health"):
        return {}
    last, prev = trend_weeks(insights)
    ratios: dict[tuple[int, int], float] = {}
    for r in insights.rows("group_health", groups=groups, where={"week": [last, prev]}):
        ratios[(r["community_id"], r["week"])] = r["active_ratio"]
    out: dict[int, float | None] = {}
    for cid in groups:
        a, b = ratios.get((cid, last)), ratios.get((cid, prev))
        out[cid] = None if a is None or b is None else round(a - b, 4)
    return out


def open_tasks(store: Engine, groups: Collection[int] | None) -> dict[int, int] | None:
    """Open inbox tasks per group; None when the inbox is not installed."""
    if _open_counts is None:
        return None
    return _open_counts(store, groups=groups)


def _decorate(
    store: Engine, insights: Insights, rows: list[dict[str, Any]], lang: str
) -> list[dict[str, Any]]:
    """Add tier, trend and open tasks to summary rows (queries for these ids only)."""
    ids = [r["community_id"] for r in rows]
    tiers = {r["community_id"]: r for r in insights.rows("group_tiers", groups=ids, lang=lang)}
    trend = trends(insights, ids)
    tasks = open_tasks(store, ids)
    for r in rows:
        tier = tiers.get(r["community_id"], {})
        r["tier"] = tier.get("tier")
        r["tier_why"] = tier.get("why")
        r["trend"] = trend.get(r["community_id"])
        r["open_tasks"] = None if tasks is None else tasks.get(r["community_id"], 0)
    return rows


def overview(
    store: Engine,
    insights: Insights,
    *,
    scope: Collection[int] | None,
    query: OverviewQuery,
    lang: str = "en",
) -> Page:
    """The overview rows: each visible group with platform, tier, size, activity and its trend,
    and open tasks; filtered, sorted and paged."""
    query.check()
    groups = _filtered_groups(store, insights, scope, query)
    where = _summary_where(query)
    total = insights.count("group_summary", groups=groups, where=where)
    if query.sort in PY_SORTS:
        every = insights.rows("group_summary", groups=groups, where=where, lang=lang)
        rows = _sorted_here(_decorate(store, insights, every, lang), query.sort, query.desc)
        page = rows[query.offset : query.offset + query.limit]
        return Page(page, total, query.limit, query.offset)
    table, column = SORTS[query.sort]
    if table == "group_summary":
        rows = insights.rows(
            table,
            groups=groups,
            where=where,
            order_by=[column],
            desc=query.desc,
            limit=query.limit,
            offset=query.offset,
            lang=lang,
        )
    else:  # tier: alphabetical core < growing < new is the reverse of the tiers' rank
        if where:
            kept = insights.rows("group_summary", groups=groups, where=where)
            groups = [r["community_id"] for r in kept]
        ids = [
            r["community_id"]
            for r in insights.rows(
                table,
                groups=groups,
                order_by=[column],
                desc=not query.desc,
                limit=query.limit,
                offset=query.offset,
            )
        ]
        found = {
            r["community_id"]: r for r in insights.rows("group_summary", groups=ids, lang=lang)
        }
        rows = [found[i] for i in ids if i in found]
    return Page(_decorate(store, insights, rows, lang), total, query.limit, query.offset)


def _sorted_here(rows: list[dict[str, Any]], key: str, desc: bool) -> list[dict[str, Any]]:
    """Sorted by `key` (stable: ties keep the stored order), rows without a value last."""
    known = [r for r in rows if r[key] is not None]
    known.sort(key=lambda r: r[key], reverse=desc)
    return known + [r for r in rows if r[key] is None]


def platforms(insights: Insights, scope: Collection[int] | None) -> list[str]:
    """The platforms among the visible groups (for the filter's choices)."""
    return sorted({r["platform"] for r in insights.rows("group_summary", groups=scope)})


def program_totals(
    store: Engine, insights: Insights, *, scope: Collection[int] | None, lang: str = "en"
) -> dict[str, Any]:
    """Totals over the visible groups; the 2/8 concentration only for users who see them all
    (it is computed over the whole program)."""
    rows = insights.rows("group_summary", groups=scope)
    members = sum(r["members"] or 0 for r in rows)
    active = sum(round((r["active_ratio"] or 0) * (r["members"] or 0)) for r in rows)
    tasks = open_tasks(store, scope)
    totals: dict[str, Any] = {
        "groups": len(rows),
        "members": members,
        "active_members": active,
        "active_ratio": round(active / members, 4) if members else 0.0,
        "messages": sum(r["messages"] or 0 for r in rows),
        "new_members": sum(r["new_members"] or 0 for r in rows),
        "open_tasks": None if tasks is None else sum(tasks.values()),
        "since": insights.since,
        "until": insights.until,
        "concentration": None,
    }
    if scope is None and insights.has("program_concentration"):
        found = insights.rows("program_concentration", lang=lang)
        totals["concentration"] = found[0] if found else None
    return totals


# -- one group ------------------------------------------------------------------------------


def community(store: Engine, community_id: int) -> dict[str, Any]:
    """The group's own record (name, platform, theme and its keywords as a list); NotFound when
    there is no such group."""
    c = t.community.c
    q = select(
        c.id, c.name, c.platform, c.kind, c.theme, c.keywords, c.timezone, c.answer_window
    ).where(c.id == community_id)
    with store.connect() as conn:
        row = conn.execute(q).mappings().first()
    if row is None:
        raise NotFound(f"no group {community_id} / 没有这个群")
    return {**row, "keywords": _keywords(row["keywords"])}


def _keywords(stored: str | None) -> list[str]:
    """The JSON array of keywords the store keeps; anything else reads as none (it is typed in
    by hand and must not break the page)."""
    try:
        words = json.loads(stored) if stored else []
    except ValueError:
        return []
    return [str(w) for w in words] if isinstance(words, list) else []


def _one(insights: Insights, table: str, cid: int, lang: str) -> dict[str, Any] | None:
    if not insights.has(table):
        return None
    found = insights.rows(table, groups=[cid], limit=1, lang=lang)
    return found[0] if found else None


def group_summary(
    store: Engine, insights: Insights | None, community_id: int, *, lang: str = "en"
) -> dict[str, Any]:
    """The group's record and its one-row insights (summary, tier, retention, questions,
    concentration, connections, trend and open tasks); insights parts are None when missing."""
    out: dict[str, Any] = {"group": community(store, community_id)}
    parts = {
        "summary": "group_summary",
        "tier": "group_tiers",
        "retention": "retention",
        "questions": "question_response",
        "concentration": "core_concentration",
        "connections": "connections",
    }
    for key, table in parts.items():
        out[key] = None if insights is None else _one(insights, table, community_id, lang)
    out["trend"] = None if insights is None else trends(insights, [community_id]).get(community_id)
    tasks = open_tasks(store, [community_id])
    out["open_tasks"] = None if tasks is None else tasks.get(community_id, 0)
    return out


def group_table(
    insights: Insights,
    community_id: int,
    name: str,
    *,
    where: Mapping[str, Any] | None = None,
    sort: str | None = None,
    desc: bool | None = None,
    limit: int | None = PER_PAGE,
    offset: int = 0,
    lang: str = "en",
) -> Page:
    """One allow-listed table of the group (`GROUP_TABLES`), sorted and paged; an empty page
    when the snapshot has no such table yet."""
    if name not in GROUP_TABLES:
        raise NotFound(f"no group table {name!r}; one of {', '.join(GROUP_TABLES)}")
    table, default_sort, default_desc = GROUP_TABLES[name]
    if limit is not None:
        check_paging(limit, offset)
    if not insights.has(table):
        return Page([], 0, limit or 0, offset)
    groups = [community_id]
    if name == "members" and sort == "level_rank":
        return _members_by_level(
            insights, community_id, where=where, desc=desc, limit=limit, offset=offset, lang=lang
        )
    order = [sort or default_sort]
    if order[0] == "weekday":
        order.append("hour")
    rows = insights.rows(
        table,
        groups=groups,
        where=where,
        order_by=order,
        desc=default_desc if desc is None else desc,
        limit=limit,
        offset=offset,
        lang=lang,
    )
    total = insights.count(table, groups=groups, where=where)
    if name == "members":
        rows = _with_levels(insights, community_id, rows)
    if name == "unanswered":
        for r in rows:
            r["context"] = json.loads(r["context"]) if isinstance(r["context"], str) else []
    return Page(rows, total, limit or total, offset)


def _members_by_level(
    insights: Insights,
    community_id: int,
    *,
    where: Mapping[str, Any] | None,
    desc: bool | None,
    limit: int | None,
    offset: int,
    lang: str,
) -> Page:
    """Members ordered by level rank (member_stats keeps only the level's name, whose alphabet
    is not its rank): members of until's week, as member_levels lists them."""
    groups = [community_id]
    levels = insights.rows(
        "member_levels",
        groups=groups,
        where=where,
        order_by=["level_rank"],
        desc=True if desc is None else desc,
        limit=limit,
        offset=offset,
    )
    ids = [r["account_id"] for r in levels]
    stats = insights.rows("member_stats", groups=groups, where={"account_id": ids}, lang=lang)
    by_id = {r["account_id"]: r for r in stats}
    rows = _with_levels(insights, community_id, [by_id[i] for i in ids if i in by_id])
    total = insights.count("member_levels", groups=groups, where=where)
    return Page(rows, total, limit or total, offset)


def _with_levels(
    insights: Insights, community_id: int, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """member_stats rows with their member_levels columns (since when, score, reason)."""
    ids = [r["account_id"] for r in rows]
    levels: dict[int, dict[str, Any]] = {}
    if ids and insights.has("member_levels"):
        found = insights.rows("member_levels", groups=[community_id], where={"account_id": ids})
        levels = {r["account_id"]: r for r in found}
    for r in rows:
        extra = levels.get(r["account_id"], {})
        for column in LEVEL_EXTRA:
            r[column] = extra.get(column)
    return rows


def members_where(
    store: Engine, community_id: int, *, level: str | None, name: str | None
) -> dict[str, Any]:
    """The members table's filters as `where`: a level, and accounts of the group whose name
    contains `name` (found in the store's account and membership tables, both indexed)."""
    where: dict[str, Any] = {}
    if level:
        if level not in LEVELS:
            raise InputError(f"level is one of {', '.join(LEVELS)}", field="level")
        where["level"] = level
    if name:
        pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        a, m = t.account.c, t.membership.c
        q = (
            select(a.id)
            .join(t.membership, m.account_id == a.id)
            .where(m.community_id == community_id, a.display_name.ilike(pattern, escape="\\"))
            .distinct()
        )
        with store.connect() as conn:
            where["account_id"] = list(conn.scalars(q))
    return where


def table_columns(insights: Insights, name: str) -> list[str]:
    """The columns a group table's rows carry (one `why`; members add their level columns)."""
    table = GROUP_TABLES[name][0]
    if not insights.has(table):
        return []
    stored = insights.columns(table)
    columns = [c for c in stored if c not in ("why_zh", "why_en")]
    if "why_zh" in stored:
        columns.append("why")
    return columns + list(LEVEL_EXTRA) if name == "members" else columns


def csv_response(rows: list[dict[str, Any]], *, columns: list[str], filename: str) -> Response:
    """Rows as a CSV download: the header, then one line per row (lists and dicts as JSON)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for r in rows:
        values = [r.get(c) for c in columns]
        writer.writerow(
            [
                json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, list | dict) else v
                for v in values
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
