"""Member metrics: what each member did in the period, and an engagement level that does not flap.

`member_stats` counts one member's activity in [since_day, until_day]. The engagement level
(潜水 lurker / 新人 newcomer / 参与 participant / 贡献 contributor / 核心 core) is computed per
member and week from a score over a trailing window, with Discourse's hysteresis: promote the
week the bar is reached, demote only after `grace_weeks` consecutive weeks below
`demote_ratio` × the bar.
Levels look back: they read the whole history up to `until_day`, because a level held since
before the period is still held. Exact definitions: docs/metrics/members.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.metrics.levels import (
    BARRED,
    KEY,
    LEVEL_PARAMS,
    _attach,
    _bar,
    _effective_spells,
    _level_grid,
    _reply_edges,
)
from shequn.analytics.metrics.levels import _in_windows as _in_windows  # tests import it here
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.analytics.zones import day_date

LEVELS = ("lurker", "newcomer", "participant", "contributor", "core")
LEVEL_LABELS: dict[str, dict[str, str]] = {
    "lurker": {"zh": "潜水", "en": "lurker"},
    "newcomer": {"zh": "新人", "en": "newcomer"},
    "participant": {"zh": "参与者", "en": "participant"},
    "contributor": {"zh": "贡献者", "en": "contributor"},
    "core": {"zh": "核心", "en": "core"},
}
# The reason a member is at a level in a week; {level} etc. are that row's values.
REASONS = {
    "en": {
        "start": "starts as {level}",
        "stays": "stays {level} (score {score})",
        "new": "newcomer: joined within the last {newcomer_days} days",
        "ended": "joined over {newcomer_days} days ago, now {level}",
        "up": "promoted to {level}: score {score} ≥ {bar} (active days {days}, members who "
        "replied {repliers}, messages {messages} in the last {window_days} days)",
        "down": "demoted to {level} after {grace_weeks} weeks below {pct}% of the {from_level} "
        "bar (score under {threshold})",
    },
    "zh": {
        "start": "初始等级：{level}",
        "stays": "保持{level}（得分 {score}）",
        "new": "新人：近 {newcomer_days} 天内入群",
        "ended": "入群已满 {newcomer_days} 天，转为{level}",
        "up": "升为{level}：近 {window_days} 天活跃 {days} 天、被 {repliers} 人回复、"
        "发言 {messages} 条，得分 {score} ≥ {bar}",
        "down": "连续 {grace_weeks} 周得分低于{from_level}门槛的 {pct}%（{threshold} 分），"
        "降为{level}",
    },
}


def _label(col: ir.StringValue, lang: str) -> ir.StringValue:
    """The zh/en label of a level key column ('' for null)."""
    pairs = [(col == k, v[lang]) for k, v in LEVEL_LABELS.items()]
    return ibis.cases(*pairs, else_="")


def _fmt(template: str, values: Mapping[str, Any]) -> ir.StringValue:
    """`template` with each {name} replaced by a value: a column (integers as plain digits)
    or a Python value, concatenated in the engine so every engine writes the same text."""
    out: Any = ibis.literal("")
    for i, part in enumerate(re.split(r"\{(\w+)\}", template)):
        value = values[part] if i % 2 else part
        if not isinstance(value, ir.Value):
            out = out + str(value)
        elif value.type().is_string():
            out = out + value
        else:
            out = out + value.cast("int64").cast("string")
    return out


# -- member_stats --------------------------------------------------------------------------------
def _period_members(b: Base) -> ir.Table:
    """(community_id, account_id) of non-bot members in the period, or speakers in it."""
    s = _effective_spells(b)
    s = s.filter(s.left_day.isnull() | (s.left_day >= b.since_day)).select(*KEY)
    md = b.member_day
    spoke = md.filter(~md.is_bot.fill_null(False)).select(*KEY)
    return s.union(spoke, distinct=True)


def _activity(b: Base) -> ir.Table:
    md = b.member_day
    md = md.filter(~md.is_bot.fill_null(False))
    return md.group_by(list(KEY)).agg(
        messages=md.messages.sum().cast("int64"),
        active_days=md.day.count().cast("int64"),
        first_seen_day=md.day.min().cast("int64"),
        last_seen_day=md.day.max().cast("int64"),
        mentions=md.mentions.sum().cast("int64"),
        links_shared=md.links.sum().cast("int64"),
        files_shared=md.files.sum().cast("int64"),
    )


def _replies(b: Base) -> tuple[ir.Table, ir.Table]:
    e = _reply_edges(b)
    given = e.group_by(list(KEY)).agg(
        replies_given=e.count().cast("int64"), replied_to=e.target.nunique().cast("int64")
    )
    got = e.group_by(["community_id", "target"]).agg(
        replies_received=e.count().cast("int64"), repliers=e.account_id.nunique().cast("int64")
    )
    return given, got.rename(account_id="target")


def _reactions_received(b: Base) -> ir.Table:
    """Reactions to the member's messages of the period, not their own nor a bot's."""
    r = b.reactions
    r = r.filter(r.target_account_id.notnull())
    r = r.filter(r.account_id.isnull() | (r.account_id != r.target_account_id))
    bots = b.accounts.filter(b.accounts.is_bot).select(bot_id="account_id")
    r = r.anti_join(bots, r.account_id == bots.bot_id)
    out = r.group_by(["community_id", "target_account_id"]).agg(
        reactions_received=r["count"].sum().cast("int64")
    )
    return out.rename(account_id="target_account_id")


def _streaks(b: Base) -> ir.Table:
    """Longest run of consecutive check-in days, and the run ending on until_day or the day
    before (today may not be over), within the period: gaps and islands on day - row number."""
    md = b.member_day
    c = md.filter((md.checkins > 0) & ~md.is_bot.fill_null(False)).select(*KEY, "day")
    rn = ibis.row_number().over(
        ibis.window(group_by=[c.community_id, c.account_id], order_by=c.day)
    )
    c = c.mutate(island=(c.day - rn).cast("int64"))
    runs = c.group_by([*KEY, "island"]).agg(length=c.count(), last=c.day.max())
    current = ibis.ifelse(runs["last"] >= b.until_day - 1, runs.length, 0)
    return runs.group_by(list(KEY)).agg(
        longest_checkin_streak=runs.length.max().cast("int64"),
        current_checkin_streak=current.max().cast("int64"),
    )


STAT_COUNTS = (
    "messages",
    "active_days",
    "replies_given",
    "replies_received",
    "repliers",
    "replied_to",
    "mentions",
    "links_shared",
    "files_shared",
    "reactions_received",
    "longest_checkin_streak",
    "current_checkin_streak",
)


def _member_stats(b: Base, p: Mapping[str, Any]) -> ir.Table:
    t = _period_members(b)
    given, got = _replies(b)
    for part in (_activity(b), given, got, _reactions_received(b), _streaks(b)):
        t = _attach(t, part)
    now = _level_grid(b, p)
    now = now.filter(now.week == (b.until_day + 3) // 7).select(*KEY, "level")
    t = _attach(t, now)
    a = b.accounts.select(r_a="account_id", person_id="person_id", display_name="display_name")
    t = t.join(a, t.account_id == a.r_a).drop("r_a")
    counts = {c: t[c].fill_null(0).cast("int64") for c in STAT_COUNTS}
    return t.select(
        "community_id",
        "account_id",
        "person_id",
        "display_name",
        first_seen_day=t.first_seen_day.cast("int64"),
        last_seen_day=t.last_seen_day.cast("int64"),
        level=t.level.fill_null("lurker"),
        **counts,
    )


def _stats_why(row: Row, lang: str) -> str:
    level = LEVEL_LABELS.get(row["level"], {}).get(lang if lang == "zh" else "en", row["level"])
    if lang == "zh":
        return (
            f"发言 {row['messages']} 条，活跃 {row['active_days']} 天；回复他人 "
            f"{row['replies_given']} 次，被 {row['repliers']} 人回复；获得回应 "
            f"{row['reactions_received']} 个；最长连续打卡 {row['longest_checkin_streak']} 天；"
            f"等级：{level}"
        )
    return (
        f"messages {row['messages']}, active days {row['active_days']}; replies to others "
        f"{row['replies_given']}, members who replied {row['repliers']}; reactions "
        f"{row['reactions_received']}; longest check-in streak {row['longest_checkin_streak']} "
        f"days; level: {level}"
    )


# -- engagement levels ---------------------------------------------------------------------------
def _rank(col: ir.StringValue) -> ir.IntegerValue:
    return ibis.cases(*((col == k, i) for i, k in enumerate(LEVELS)), else_=-1).cast("int64")


def _reason(t: Mapping[str, Any], p: Mapping[str, Any], lang: str) -> ir.StringValue:
    """Why a member is at `level` this week, from that row's columns (`t` maps name → column)."""
    level, prev = t["level"], t["previous_level"]
    ratio = float(p["demote_ratio"])
    v = {
        **p,
        "level": _label(level, lang),
        "score": t["score"],
        "days": t["window_active_days"],
        "repliers": t["window_repliers"],
        "messages": t["window_messages"],
        "bar": ibis.cases(*((level == L, _bar(p, L)) for L in BARRED), else_=0),
        "pct": f"{ratio * 100:g}",
    }
    text = {k: _fmt(tpl, v) for k, tpl in REASONS[lang].items() if k != "down"}
    downs = [
        (
            prev == L,
            _fmt(
                REASONS[lang]["down"],
                v | {"from_level": LEVEL_LABELS[L][lang], "threshold": f"{ratio * _bar(p, L):g}"},
            ),
        )
        for L in BARRED
    ]
    return ibis.cases(
        (prev.isnull(), text["start"]),
        (level == prev, text["stays"]),
        (level == "newcomer", text["new"]),
        ((prev == "newcomer") & level.isin(("lurker", "participant")), text["ended"]),
        (_rank(level) > _rank(prev), text["up"]),
        *downs,
        else_=text["stays"],
    )


def _named(b: Base, t: ir.Table) -> ir.Table:
    a = b.accounts.select(r_a="account_id", person_id="person_id", display_name="display_name")
    return t.join(a, t.account_id == a.r_a).drop("r_a")


LEVEL_COLUMNS = ("score", "window_active_days", "window_messages", "window_repliers")


HISTORY_PARAMS = (
    *LEVEL_PARAMS,
    Param(
        "changes_only",
        True,
        "只列出等级变化的周（成员的第一周也算变化）",
        "only the weeks a level changed (a member's first week counts as a change)",
    ),
)


def _level_history(b: Base, p: Mapping[str, Any]) -> ir.Table:
    g = _level_grid(b, p, previous=True)
    g = g.filter((g.week >= (b.since_day + 3) // 7) & g.in_group)
    if p["changes_only"]:
        # every member-week is 100 times the rows (5M on the benchmark) for the same story
        g = g.filter(g.changed)
    g = _named(b, g)
    return g.select(
        *KEY,
        "person_id",
        "display_name",
        "week",
        week_start_day=(g.week * 7 - 3).cast("int64"),
        **{c: g[c].cast("int64") for c in LEVEL_COLUMNS},
        level=g.level,
        level_rank=_rank(g.level),
        previous_level=g.previous_level,
        changed=g.changed,
        reason=_reason(g, p, "en"),
        reason_zh=_reason(g, p, "zh"),
    )


def _member_levels(b: Base, p: Mapping[str, Any]) -> ir.Table:
    g = _level_grid(b, p, previous=True)
    cum = ibis.cumulative_window(group_by=list(KEY), order_by="week")
    since = ibis.ifelse(g.changed, g.week, ibis.null("int64")).max().over(cum)
    g = g.mutate(since_week=since)
    now = g.filter((g.week == (b.until_day + 3) // 7) & g.in_group)
    now = now.select(*KEY, "since_week", "level", *LEVEL_COLUMNS)
    then = g.select(*KEY, "week", "previous_level", **{f"then_{c}": g[c] for c in LEVEL_COLUMNS})
    t = _named(b, _attach(now, then.rename(since_week="week"), (*KEY, "since_week")))
    facts = {c: t[f"then_{c}"] for c in LEVEL_COLUMNS}
    facts |= {"level": t.level, "previous_level": t.previous_level}
    return t.select(
        *KEY,
        "person_id",
        "display_name",
        level=t.level,
        level_rank=_rank(t.level),
        since_week=t.since_week.cast("int64"),
        since_day=(t.since_week * 7 - 3).cast("int64"),
        previous_level=t.previous_level,
        **{c: t[c].cast("int64") for c in LEVEL_COLUMNS},
        reason=_reason(facts, p, "en"),
        reason_zh=_reason(facts, p, "zh"),
    )


def _level_counts(b: Base, p: Mapping[str, Any]) -> ir.Table:
    g = _level_grid(b, p)
    g = g.filter((g.week >= (b.since_day + 3) // 7) & g.in_group)
    n = g.group_by(["community_id", "week", "level"]).agg(members=g.count().cast("int64"))
    weeks = b.calendar.select("week").distinct()
    per_level = [weeks.mutate(level=ibis.literal(L), level_rank=i) for i, L in enumerate(LEVELS)]
    c = b.communities.select("community_id", "name")
    groups = c.semi_join(g, c.community_id == g.community_id)
    dense = groups.cross_join(ibis.union(*per_level))
    t = _attach(dense, n, ("community_id", "week", "level"), {"members": 0})
    return t.select(
        "community_id",
        "name",
        week=t.week.cast("int64"),
        week_start_day=(t.week * 7 - 3).cast("int64"),
        level=t.level,
        level_rank=t.level_rank.cast("int64"),
        members=t.members.cast("int64"),
    )


# -- registration ----------------------------------------------------------------------------
def _history_why(row: Row, lang: str) -> str:
    return str(row["reason_zh"] if lang == "zh" else row["reason"])


def _levels_why(row: Row, lang: str) -> str:
    when = day_date(row["since_day"]).isoformat()
    label = LEVEL_LABELS[row["level"]]["zh" if lang == "zh" else "en"]
    if lang == "zh":
        return f"{label}（自 {when} 那周起）：{row['reason_zh']}"
    return f"{label} since the week of {when}: {row['reason']}"


register(
    Metric(
        name="member_stats",
        subject="member",
        zh="成员数据",
        en="Member stats",
        description_zh="每个成员在所选时段的发言、活跃天数、回复、提及、链接、文件、获得的回应、"
        "连续打卡，以及截止日所在周的等级。",
        description_en="Per member in the period: messages, active days, replies given and "
        "received, mentions, links, files, reactions received, check-in streaks, and the "
        "engagement level in until_day's week.",
        compute=_member_stats,
        order_by=KEY,
        params=LEVEL_PARAMS,
        why=_stats_why,
    )
)
register(
    Metric(
        name="level_history",
        subject="member",
        zh="等级变化",
        en="Level history",
        description_zh="每个成员每周的得分与等级（潜水/新人/参与者/贡献者/核心），升级即时，"
        "降级需连续数周低于门槛的 90%。",
        description_en="Score and engagement level per member and week; promotion at once, "
        "demotion only after weeks below 90% of the bar.",
        compute=_level_history,
        order_by=(*KEY, "week"),
        params=HISTORY_PARAMS,
        why=_history_why,
    )
)
register(
    Metric(
        name="member_levels",
        subject="member",
        zh="成员等级",
        en="Member levels",
        description_zh="截止日所在周每个成员的等级、从哪一周起，以及原因。",
        description_en="Each member's level in until_day's week, since when, and why.",
        compute=_member_levels,
        order_by=KEY,
        params=LEVEL_PARAMS,
        why=_levels_why,
    )
)
register(
    Metric(
        name="level_counts",
        subject="group",
        zh="各等级人数",
        en="Members per level",
        description_zh="每个群每周各等级的成员人数（等级随时间变化图）。",
        description_en="Members at each level per group and week (the levels-over-time chart).",
        compute=_level_counts,
        order_by=("community_id", "week", "level_rank"),
        params=LEVEL_PARAMS,
    )
)
