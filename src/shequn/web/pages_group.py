"""The Group page (`/groups/{id}`): its metrics over time, when it talks, join cohorts and
retention, the lifecycle funnel, levels, theme fit by week, connections between members, waiting
questions, KOLs beside the core users, and the members table. The data comes from views_groups
(shared with the API); this module draws the charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from shequn.analytics.metrics.connections import STEPS
from shequn.analytics.registry import get_metric
from shequn.analytics.snapshot import Insights
from shequn.text.answers import DEFAULT_WINDOW_MINUTES
from shequn.web import i18n
from shequn.web import views_groups as views
from shequn.web.auth import CurrentUser, Store, check_group
from shequn.web.insights import InsightsDep
from shequn.web.render import page

router = APIRouter(include_in_schema=False)
EPOCH = date(1970, 1, 1)
STEP_EN = {code: en for code, _zh, en in STEPS}
FLAGGED_SHOWN = 8  # flagged theme-fit weeks listed on the page, latest first
INTROS_SHOWN = 15  # newest newcomers listed with whether they introduced themselves
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
        "group.funnel": ("成员生命周期漏斗", "Lifecycle funnel"),
        "group.step": ("步骤", "Step"),
        "group.conversion": ("上一步转化", "From previous step"),
        "group.of_joined": ("占加入者", "Of joined"),
        "group.levels": ("等级分布（每周）", "Levels by week"),
        "group.theme_fit": ("主题契合度（每周）", "Theme fit by week"),
        "group.intros": ("新人自我介绍", "Newcomers' introductions"),
        "group.intro_stats": (
            "{joiners} 位新成员中 {n} 位在加入 {hours} 小时内做了自我介绍（{share}）；"
            "用时中位数 {median}。",
            "{n} of {joiners} newcomers introduced themselves within {hours} h of joining "
            "({share}); median time {median}.",
        ),
        "group.joined": ("加入日期", "Joined"),
        "group.intro_after": ("介绍用时（小时）", "Intro after (h)"),
        "group.first_message_after": ("首次发言（小时）", "First message (h)"),
        "group.on_theme": ("切题占比", "On theme"),
        "group.off_topic": ("离题占比", "Off topic"),
        "group.keywords": ("关键词", "Keywords"),
        "group.no_theme": (
            "本群未设主题和关键词：消息按群名「{name}」打分，设置主题后更准确。",
            "No theme or keywords set for this group: messages are scored against its name, "
            "“{name}”; a theme makes the score truer.",
        ),
        "group.not_scored": (
            "本群消息还没有主题分（主题设置晚于标注，或尚未运行 `shequn refresh`）。",
            "No theme scores for this group's messages yet (theme set after they were labelled, "
            "or `shequn refresh` not run).",
        ),
        "group.flagged_weeks": ("切题过低的周", "Weeks with little on theme"),
        "group.flagged_more": (
            "最近 {n} 周，共 {total} 周（见 CSV）",
            "the latest {n} of {total} weeks (all in the CSV)",
        ),
        "group.week": ("周", "Week"),
        "group.no_flags": ("没有切题过低的周。", "No week with too little on theme."),
        "group.connections": ("成员连接", "Member connections"),
        "group.member_messages": ("成员发言", "Member messages"),
        "group.member_replies": ("成员间回复", "Member-to-member replies"),
        "group.questions_asked": ("提问", "Questions"),
        "group.by_members": ("成员首先解答", "First answered by members"),
        "group.by_operators": ("运营首先解答", "First answered by operators"),
        "group.no_reply": ("无人回复", "No reply"),
        "group.invitations": ("邀请入群", "Invited in"),
        "group.inviters": ("{n} 位邀请人", "by {n} members"),
        "group.metric_missing": (
            "快照中还没有这项指标（运行 `shequn refresh`）。",
            "Not in the snapshot yet (run `shequn refresh`).",
        ),
        "group.questions": ("待回答的问题", "Unanswered questions"),
        "group.questions_stats": (
            "共 {q} 个问题，未回答占 {share}，回复中位时间 {median}（回应时限 {window} 分钟）",
            "{q} questions, {share} unanswered, median response {median} "
            "(answer window {window} min)",
        ),
        "group.questions_missing": (
            "快照中还没有问题数据（运行 `shequn refresh`）。",
            "No question data in the snapshot yet (run `shequn refresh`).",
        ),
        "group.kols": ("KOL 候选（意见领袖）", "KOL candidates"),
        "group.score": ("得分", "Score"),
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


def funnel_steps(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The funnel metric's seven rows, each with its step's name in the user's language."""
    for r in rows:
        r["label"] = r["step_zh"] if lang == "zh" else STEP_EN.get(r["step"], r["step"])
    return rows


def funnel_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Members at each step, widest first (a true funnel never widens)."""
    top = max((r["members"] for r in rows), default=0)
    return {
        "tooltip": {"trigger": "item"},
        "series": [{"type": "funnel", "sort": "none", "min": 0, "max": max(top, 1), "gap": 2,
                    "left": "10%", "width": "80%", "label": {"formatter": "{b}: {c}"},
                    "data": [{"name": r["label"], "value": r["members"]} for r in rows]}],
    }  # fmt: skip


def theme_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """On-theme and off-topic shares (percent) per week."""
    tr = lambda key: i18n.text(lang, key)  # noqa: E731
    series = [("group.on_theme", "on_theme_share"), ("group.off_topic", "off_topic_share")]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": [tr(key) for key, _ in series]},
        "xAxis": {"type": "category", "data": [r["week_start"] for r in rows]},
        "yAxis": {"type": "value", "min": 0, "max": 100, "axisLabel": {"formatter": "{value}%"}},
        "series": [
            {"name": tr(key), "type": "line",
             "data": [round(r[column] * 100, 1) for r in rows]}
            for key, column in series
        ],
    }  # fmt: skip


def _theme(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    """The theme fit card: the chart, the latest flagged weeks first (a long history can flag
    dozens; the CSV has them all), and whether the group's messages were scored at all."""
    flagged = [r for r in reversed(rows) if r["flagged"]]
    return {
        "theme_chart": theme_chart(rows, lang) if rows else None,
        "theme_flagged": flagged[:FLAGGED_SHOWN],
        "theme_flagged_total": len(flagged),
        "theme_scored": any(r["theme_scored"] for r in rows),
    }


def _param_default(metric: str, name: str) -> Any:
    """A metric parameter's default: the snapshot is computed with the defaults."""
    return next(p.default for p in get_metric(metric).params if p.name == name)


def _sections(insights: Insights, cid: int, lang: str) -> dict[str, Any]:
    """Every insights part of the page but the members table."""

    def table(name: str, limit: int | None = None) -> list[dict[str, Any]]:
        return views.group_table(insights, cid, name, limit=limit, lang=lang).rows

    daily, heat, levels = table("daily"), table("heatmap"), table("levels")
    cohorts, width = cohort_grid(table("cohorts"))
    unanswered = views.group_table(insights, cid, "unanswered", limit=20, lang=lang)
    steps = funnel_steps(table("funnel"), lang)
    return {
        "daily_chart": daily_chart(daily, lang) if daily else None,
        "heatmap_chart": heatmap_chart(heat, lang) if heat else None,
        "levels_chart": levels_chart(levels, lang) if levels else None,
        "cohorts": cohorts,
        "cohort_width": width,
        "unanswered": unanswered,
        "has_questions": insights.has("unanswered_questions"),
        "core": table("core", limit=20),
        "kols": table("kols", limit=20),
        "funnel": steps,
        "funnel_chart": funnel_chart(steps) if steps else None,
        **_theme(table("theme_fit"), lang),
        "intros": table("intros", limit=INTROS_SHOWN),
        "intro_rate": next(iter(table("intro_rate")), None),
        "intro_window": _param_default("intro_rate", "intro_hours"),
        "default_window": DEFAULT_WINDOW_MINUTES,
        "has": {
            n: insights.has(views.GROUP_TABLES[n][0])
            for n in ("funnel", "kols", "connections", "theme_fit", "intros")
        },
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
