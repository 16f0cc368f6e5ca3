"""The Group page (`/groups/{id}`): its metrics over time, when it talks, join cohorts and
retention, a funnel from what is measured, levels, waiting questions, core users and the members
table. The data comes from views_groups (shared with the API); this module draws the charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shequn.analytics.snapshot import Insights
from shequn.web import i18n
from shequn.web import views_groups as views
from shequn.web.auth import CurrentUser, Store, check_group
from shequn.web.render import page
from shequn.web.views_groups import InsightsDep

router = APIRouter(include_in_schema=False)
EPOCH = date(1970, 1, 1)
KOL_TABLES = ("kols", "kol_ranking", "group_kols")
THEME_TABLES = ("theme_fit", "group_theme_fit")
MEMBER_SORTS = (
    "display_name", "level_rank", "messages", "active_days", "replies_given",
    "replies_received", "repliers", "reactions_received", "last_seen_day",
)  # fmt: skip

i18n.add(
    {
        "group.members": ("成员", "Members"),
        "group.active_ratio": ("活跃率（近 7 天）", "Active ratio (7 days)"),
        "group.trend": ("周活跃率变化", "Weekly active change"),
        "group.avg_dau": ("日均发言人数", "Avg daily speakers"),
        "group.messages": ("消息数", "Messages"),
        "group.open_tasks": ("待办", "Open tasks"),
        "group.theme": ("主题", "Theme"),
        "group.over_time": ("指标变化", "Over time"),
        "group.dau": ("日发言人数", "Daily speakers"),
        "group.joins": ("入群", "Joins"),
        "group.leaves": ("退群", "Leaves"),
        "group.heatmap": ("活跃时段（星期 × 小时）", "When it talks (weekday × hour)"),
        "group.weekdays": ("周一,周二,周三,周四,周五,周六,周日", "Mon,Tue,Wed,Thu,Fri,Sat,Sun"),
        "group.cohorts": ("入群周队列留存", "Join cohorts (weekly retention)"),
        "group.cohort_week": ("入群周", "Joined week"),
        "group.cohort_size": ("人数", "Joins"),
        "group.weeks_after": ("第 {k} 周", "week {k}"),
        "group.retention": ("新成员留存", "Newcomer retention"),
        "group.d1": ("次日留存", "Next-day retention"),
        "group.w1": ("次周留存", "Next-week retention"),
        "group.of_joins": ("{n} / {d} 次入群", "{n} of {d} joins"),
        "group.funnel": ("漏斗", "Funnel"),
        "group.funnel_note": (
            "尚无专门的漏斗指标：以下步骤取自留存和等级数据。",
            "No funnel metric yet: these steps come from retention and levels.",
        ),
        "group.f_joined": ("入群", "Joined"),
        "group.f_day1": ("次日发言", "Spoke the next day"),
        "group.f_week1": ("次周发言", "Spoke the next week"),
        "group.f_members": ("本周成员", "Members this week"),
        "group.f_participants": ("参与者及以上", "Participant or above"),
        "group.f_contributors": ("贡献者及以上", "Contributor or above"),
        "group.f_core": ("核心", "Core"),
        "group.levels": ("等级分布（每周）", "Levels by week"),
        "group.theme_fit": ("主题契合度", "Theme fit"),
        "group.not_yet": ("暂未提供（尚无此指标）", "Not yet (no such metric yet)"),
        "group.questions": ("待回答的问题", "Unanswered questions"),
        "group.questions_stats": (
            "共 {q} 个问题，未回答占 {share}，回复中位时间 {median}",
            "{q} questions, {share} unanswered, median response {median}",
        ),
        "group.questions_missing": (
            "快照中还没有问题数据（运行 `shequn refresh`）。",
            "No question data in the snapshot yet (run `shequn refresh`).",
        ),
        "group.kols": ("KOL（意见领袖）", "KOLs"),
        "group.kols_missing": (
            "快照中还没有 KOL 指标。",
            "No KOL metric in the snapshot yet.",
        ),
        "group.core": ("核心成员", "Core members"),
        "group.rank": ("排名", "Rank"),
        "group.share": ("占比", "Share"),
        "group.member_list": ("成员列表", "Members"),
        "group.name": ("名字", "Name"),
        "group.level": ("等级", "Level"),
        "group.active_days": ("活跃天数", "Active days"),
        "group.replies_given": ("回复他人", "Replies given"),
        "group.replies_received": ("被回复", "Replies received"),
        "group.repliers": ("回复者", "Repliers"),
        "group.reactions": ("获得回应", "Reactions"),
        "group.last_seen": ("最近发言", "Last spoke"),
        "group.since": ("等级始于", "Level since"),
        "group.total_members": ("共 {n} 人", "{n} members"),
        "group.none": ("暂无", "None"),
        "level.lurker": ("潜水", "lurker"),
        "level.newcomer": ("新人", "newcomer"),
        "level.participant": ("参与者", "participant"),
        "level.contributor": ("贡献者", "contributor"),
        "level.core": ("核心", "core"),
    }
)


def _day(value: Any) -> str:
    return "" if value is None else (EPOCH + timedelta(days=int(value))).isoformat()


def daily_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """DAU and messages (left axis), joins and leaves (right axis) per day."""
    tr = lambda key: i18n.text(lang, key)  # noqa: E731
    series = [
        ("group.dau", "dau", 0, "line"),
        ("group.messages", "messages", 0, "line"),
        ("group.joins", "new_members", 1, "bar"),
        ("group.leaves", "departed", 1, "bar"),
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [tr(s[0]) for s in series]},
        "xAxis": {"type": "category", "data": [r["date"] for r in rows]},
        "yAxis": [{"type": "value"}, {"type": "value"}],
        "dataZoom": [{"type": "inside"}, {"type": "slider"}],
        "series": [
            {"name": tr(key), "type": kind, "yAxisIndex": axis, "showSymbol": False,
             "data": [r[column] for r in rows]}
            for key, column, axis, kind in series
        ],
    }  # fmt: skip


def heatmap_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Messages per weekday and hour (the group's zone)."""
    days = i18n.text(lang, "group.weekdays").split(",")
    top = max((r["messages"] for r in rows), default=0)
    return {
        "tooltip": {"position": "top"},
        "grid": {"left": 50, "right": 20, "top": 10, "bottom": 60},
        "xAxis": {"type": "category", "data": [str(h) for h in range(24)]},
        "yAxis": {"type": "category", "data": days, "inverse": True},
        "visualMap": {"min": 0, "max": max(top, 1), "calculable": True, "orient": "horizontal",
                      "left": "center", "bottom": 0},
        "series": [{"type": "heatmap",
                    "data": [[r["hour"], r["weekday"], r["messages"]] for r in rows]}],
    }  # fmt: skip


def levels_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """Members at each level, stacked, per week."""
    weeks = sorted({r["week_start_day"] for r in rows})
    counts = {(r["week_start_day"], r["level"]): r["members"] for r in rows}
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {},
        "xAxis": {"type": "category", "data": [_day(w) for w in weeks]},
        "yAxis": {"type": "value"},
        "series": [
            {"name": i18n.text(lang, f"level.{level}"), "type": "line", "stack": "levels",
             "areaStyle": {}, "showSymbol": False,
             "data": [counts.get((w, level), 0) for w in weeks]}
            for level in views.LEVELS
        ],
    }  # fmt: skip


def cohort_grid(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Join cohorts as table rows (one per cohort week, retention by weeks after) and the
    largest weeks-after."""
    cohorts: dict[int, dict[str, Any]] = {}
    for r in rows:
        c = cohorts.setdefault(
            r["cohort_week"], {"start": r["cohort_week_start"], "size": r["size"], "cells": {}}
        )
        c["cells"][r["weeks_after"]] = r["retention"]
    width = max((r["weeks_after"] for r in rows), default=-1) + 1
    return [cohorts[k] for k in sorted(cohorts)], width


def funnel(parts: dict[str, Any], level_rows: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """The steps measured today: joins → spoke next day / next week (retention), and members →
    participant → contributor → core in the latest week (levels)."""
    steps: list[tuple[str, Any]] = []
    ret = parts.get("retention")
    if ret:
        steps += [("group.f_joined", ret["joined"]), ("group.f_day1", ret["d1_retained"]),
                  ("group.f_week1", ret["w1_retained"])]  # fmt: skip
    if level_rows:
        last = max(r["week"] for r in level_rows)
        rank = {r["level"]: r["members"] for r in level_rows if r["week"] == last}
        above = lambda *names: sum(rank.get(n, 0) for n in names)  # noqa: E731
        steps += [
            ("group.f_members", above(*views.LEVELS)),
            ("group.f_participants", above("participant", "contributor", "core")),
            ("group.f_contributors", above("contributor", "core")),
            ("group.f_core", above("core")),
        ]
    return steps


def _first_table(insights: Insights | None, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if insights is not None and insights.has(n)), None)


def _sections(insights: Insights, cid: int, lang: str) -> dict[str, Any]:
    """Every insights part of the page but the members table."""

    def table(name: str, limit: int | None = None) -> list[dict[str, Any]]:
        return views.group_table(insights, cid, name, limit=limit, lang=lang).rows

    daily, heat, levels = table("daily"), table("heatmap"), table("levels")
    cohorts, width = cohort_grid(table("cohorts"))
    unanswered = views.group_table(insights, cid, "unanswered", limit=20, lang=lang)
    return {
        "daily_chart": daily_chart(daily, lang) if daily else None,
        "heatmap_chart": heatmap_chart(heat, lang) if heat else None,
        "levels_chart": levels_chart(levels, lang) if levels else None,
        "levels_raw": levels,
        "cohorts": cohorts,
        "cohort_width": width,
        "unanswered": unanswered,
        "has_questions": insights.has("unanswered_questions"),
        "core": table("core", limit=20),
        "kol_table": _first_table(insights, KOL_TABLES),
        "theme_table": _first_table(insights, THEME_TABLES),
    }


@router.get("/groups/{community_id}")
def group_page(
    request: Request,
    community_id: int,
    store: Store,
    user: CurrentUser,
    insights: InsightsDep,
    sort: str = "messages",
    desc: bool = True,
    level: str | None = None,
    name: str | None = None,
    page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> Response:
    check_group(user, community_id)
    parts = views.group_summary(store, insights, community_id, lang=user.lang)
    values: dict[str, Any] = {"members": None}
    if insights is not None:
        values.update(_sections(insights, community_id, user.lang))
        values["funnel"] = funnel(parts, values.pop("levels_raw"))
        where = views.members_where(store, community_id, level=level or None, name=name or None)
        values["members"] = views.group_table(
            insights, community_id, "members", where=where,
            sort=sort if sort in MEMBER_SORTS else "messages", desc=desc,
            limit=views.PER_PAGE, offset=(page_no - 1) * views.PER_PAGE, lang=user.lang,
        )  # fmt: skip
    return page(
        request, user, "group.html.j2", active="overview", insights=insights, cid=community_id,
        sort=sort, desc=desc, level=level or "", name_filter=name or "", page_no=page_no,
        levels=views.LEVELS, day=_day, **parts, **values,
    )  # fmt: skip
