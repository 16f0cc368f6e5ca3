"""The level grid: every member × every week, with the window counts, the score, spell cover,
and the engagement level that does not flap (members.py's level metrics read it).

Built once per Base (`_level_grid`). Exact definitions: docs/metrics/members.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.registry import Param
from shequn.errors import InputError

BARRED = ("participant", "contributor", "core")  # the levels reached by score
KEY = ("community_id", "account_id")
HISTORY_START = -(10**6)  # a day before any history: levels read everything up to until_day
NO_END_WEEK = 10**7  # "still a member": a week after any report

LEVEL_PARAMS = (
    Param(
        "window_days",
        28,
        "得分窗口（天，截至每周日或截止日）",
        "score window, days up to each Sunday",
    ),
    Param("days_weight", 1, "每个活跃日的分数", "points per active day in the window"),
    Param(
        "repliers_weight", 2, "每位回复过 TA 的成员的分数", "points per distinct member replying"
    ),
    Param("messages_per_point", 10, "每多少条消息记 1 分", "messages per point"),
    Param("message_points_cap", 10, "消息分上限", "most points from message volume"),
    Param("participant_bar", 1, "参与者门槛（分）", "participant bar (score)"),
    Param("contributor_bar", 10, "贡献者门槛（分）", "contributor bar (score)"),
    Param("core_bar", 25, "核心门槛（分）", "core bar (score)"),
    Param("newcomer_days", 14, "入群多少天内算新人", "days after joining that count as new"),
    Param(
        "demote_ratio", 0.9, "低于门槛的多少倍开始计降级", "demotion below this share of the bar"
    ),
    Param("grace_weeks", 2, "连续低于多少周才降级", "consecutive weeks below before demotion"),
)


def _bar(p: Mapping[str, Any], level: str) -> int:
    return int(p[f"{level}_bar"])


def _under(ratio: float, bar: int) -> int:
    """An integer score is below ratio × bar iff it is below this integer (no float in SQL)."""
    return math.ceil(round(ratio * bar, 9))


def _effective_spells(b: Base) -> ir.Table:
    """Non-bot spells begun by until_day; a speaker without any is a member from the start
    (the store's own rule in `rebuild_memberships`, repeated for stores filled by hand)."""
    s = b.spells
    s = s.filter(~s.is_bot.fill_null(False) & (s.join_day.isnull() | (s.join_day <= b.until_day)))
    s = s.select("community_id", "account_id", "join_day", "left_day")
    md = _history(b).member_day
    md = md.filter(~md.is_bot.fill_null(False))
    speakers = md.select(*KEY).distinct()
    missing = speakers.anti_join(s, list(KEY)).mutate(
        join_day=ibis.null("int64"), left_day=ibis.null("int64")
    )
    return s.union(missing)


def _history(b: Base) -> Base:
    return replace(b, since_day=HISTORY_START)


def _attach(
    left: ir.Table,
    right: ir.Table,
    on: tuple[str, ...] = KEY,
    fill: Mapping[str, int] | None = None,
) -> ir.Table:
    """Left-join `right`'s other columns on `on` (per member by default), nulls from `fill`."""
    r = right.rename(**{f"r_{k}": k for k in on})
    j = left.left_join(r, [left[k] == r[f"r_{k}"] for k in on])
    j = j.drop(*(f"r_{k}" for k in on))
    return j.mutate(**{k: j[k].fill_null(v) for k, v in (fill or {}).items()})


def _reply_edges(b: Base) -> ir.Table:
    """Replies in the period by a non-bot account to another non-bot account's message:
    community_id, account_id (who replied), target (whom), day. Read from the per-message
    facts directly: the full `messages` table would join operators and names for nothing."""
    f = b.raw["message_f"]
    r = f.filter(
        (f.day >= b.since_day)
        & (f.day <= b.until_day)
        & f.account_id.notnull()
        & f.reply_to.notnull()
    )
    r = r.mutate(target=r.reply_account_id)  # every engine's facts carry the reply's author
    r = r.filter(r.target.notnull() & (r.target != r.account_id))
    bots = b.accounts.filter(b.accounts.is_bot)
    by, to = bots.select(by_bot="account_id"), bots.select(to_bot="account_id")
    r = r.anti_join(by, r.account_id == by.by_bot)
    r = r.anti_join(to, r.target == to.to_bot)
    return r.select("community_id", "account_id", "target", "day")


def _weeks(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Weeks of the calendar up to until_day's; each scores the window ending on its Sunday
    (7·week + 3), or on until_day for the week that holds it."""
    c = b.raw["calendar"]
    w = c.filter(c.day <= b.until_day).select("week").distinct()
    end = ibis.least(w.week * 7 + 3, b.until_day).cast("int64")
    return w.mutate(end_day=end, start_day=(end - int(p["window_days"]) + 1).cast("int64"))


def _in_windows(t: ir.Table, weeks: ir.Table, p: Mapping[str, Any]) -> ir.Table:
    """`t` (…, day) joined to every week whose window holds its day. A day d can only be in
    the windows of weeks week(d) … week(d) + ⌈window_days / 7⌉ (a window ends on its week's
    Sunday or before), so those candidates are made with a small offset table and matched on
    the week number: a range join of every member-day against every week is many times slower.
    """
    offsets = list(range(-(-int(p["window_days"]) // 7) + 1))
    k = ibis.memtable({"k_offset": offsets}).cast({"k_offset": "int64"})
    x = t.cross_join(k)
    x = x.mutate(k_week=((x.day + 3) // 7 + x.k_offset).cast("int64")).drop("k_offset")
    j = x.join(weeks, x.k_week == weeks.week).drop("k_week")
    return j.filter((j.day >= j.start_day) & (j.day <= j.end_day))


def _window_stats(h: Base, weeks: ir.Table, p: Mapping[str, Any]) -> ir.Table:
    """Per member and week: active days, messages in the window, and messages in the week."""
    md = h.member_day
    md = md.filter(~md.is_bot.fill_null(False)).select(*KEY, "day", "messages")
    j = _in_windows(md, weeks, p)
    in_week = j.day >= j.week * 7 - 3
    return j.group_by([*KEY, "week"]).agg(
        window_active_days=j.day.count().cast("int64"),
        window_messages=j.messages.sum().cast("int64"),
        week_messages=ibis.ifelse(in_week, j.messages, 0).sum().cast("int64"),
    )


def _window_repliers(h: Base, weeks: ir.Table, p: Mapping[str, Any]) -> ir.Table:
    e = _reply_edges(h).select("community_id", "account_id", "target", "day").distinct()
    j = _in_windows(e, weeks, p)
    out = j.group_by(["community_id", "target", "week"]).agg(
        window_repliers=j.account_id.nunique().cast("int64")
    )
    return out.rename(account_id="target")


def _spell_weeks(b: Base) -> ir.Table:
    """Each spell as the weeks whose window end it covers: from its join week (the start of
    history when unknown) to the week before it left (for ever when it has not)."""
    s = _effective_spells(b)
    left = s.left_day.notnull() & (s.left_day <= b.until_day)
    return s.mutate(
        first_w=ibis.ifelse(s.join_day.isnull(), HISTORY_START, (s.join_day + 3) // 7).cast(
            "int64"
        ),
        last_w=ibis.ifelse(left, (s.left_day + 3) // 7 - 1, NO_END_WEEK).cast("int64"),
    )


def _spell_events(s: ir.Table, weeks: ir.Table) -> ir.Table:
    """Per member and week, what the spells `s` (from `_spell_weeks`) change from that week
    on: the latest join day, and +1 for a spell that starts covering, -1 for one that stops.
    Running over the grid, the maximum join day is the last join day so far and the sum is
    how many spells cover the week: no range join of the grid against the spells. Events
    before the calendar's first week are moved to it (the grid starts there)."""
    lo = weeks.aggregate(lo_w=weeks.week.min())
    s = s.cross_join(lo)
    covers = s.first_w <= s.last_w
    starts = s.select(
        *KEY,
        week=ibis.greatest(s.first_w, s.lo_w).cast("int64"),
        join_day=s.join_day.cast("int64"),
        delta=ibis.ifelse(covers, 1, 0).cast("int64"),
    )
    ends = s.filter(covers & (s.last_w < NO_END_WEEK)).select(
        *KEY,
        week=ibis.greatest(s.last_w + 1, s.lo_w).cast("int64"),
        join_day=ibis.null("int64"),
        delta=ibis.literal(-1, "int64"),
    )
    e = starts.union(ends)
    return e.group_by([*KEY, "week"]).agg(
        join_event=e.join_day.max().cast("int64"), cover_delta=e.delta.sum().cast("int64")
    )


def _score(g: ir.Table, p: Mapping[str, Any]) -> ir.IntegerValue:
    per_point = max(int(p["messages_per_point"]), 1)
    msg_points = ibis.least(g.window_messages // per_point, int(p["message_points_cap"]))
    days = g.window_active_days * int(p["days_weight"])
    repliers = g.window_repliers * int(p["repliers_weight"])
    return (days + repliers + msg_points).cast("int64")


def _grid(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Every member × every week from their first spell or message to until_day's week, with
    the window counts, the score and the spell events of the week (`_spell_events`)."""
    h, weeks = _history(b), _weeks(b, p)
    s = _spell_weeks(b)
    stats = _window_stats(h, weeks, p)
    spoke = stats.group_by(list(KEY)).agg(first_w=stats.week.min().cast("int64"))
    starts = s.select(*KEY, "first_w").union(spoke)
    keys = starts.group_by(list(KEY)).agg(start_w=starts.first_w.min())
    g = keys.join(weeks, weeks.week >= keys.start_w).select(*KEY, "week", "end_day")
    on = (*KEY, "week")
    zero = {"window_active_days": 0, "window_messages": 0, "week_messages": 0}
    g = _attach(g, stats, on, zero)
    g = _attach(g, _window_repliers(h, weeks, p), on, {"window_repliers": 0})
    g = _attach(g, _spell_events(s, weeks), on, {"cover_delta": 0})
    return g.mutate(score=_score(g, p))


def _level_grid(b: Base, p: Mapping[str, Any], *, previous: bool = False) -> ir.Table:
    """The level grid, built once per Base for all member metrics with these parameters
    (always with `previous_level` and `changed`, which callers not asking for them ignore)."""
    del previous  # one shared grid serves both kinds of caller
    key = ("level_grid", tuple((q.name, p[q.name]) for q in LEVEL_PARAMS))
    return b.shared(key, lambda: _build_level_grid(b, p, previous=True))


def _level(
    held: Mapping[str, ir.BooleanValue],
    *,
    joined: ir.IntegerValue,
    end_day: ir.IntegerValue,
    days: int,
) -> ir.StringValue:
    """The level from which barred levels are held and the last join day before `end_day`."""
    new = joined.notnull() & (joined >= end_day - days + 1)
    return ibis.cases(
        (held["core"], "core"),
        (held["contributor"], "contributor"),
        (new, "newcomer"),
        (held["participant"], "participant"),
        else_="lurker",
    )


def _build_level_grid(b: Base, p: Mapping[str, Any], *, previous: bool = False) -> ir.Table:
    """The grid with `level` and `in_group` (and `previous_level`, `changed` if asked).

    A member holds a barred level L in week w iff the last week up to w whose score reached
    bar(L) is later than the last week up to w that ended `grace_weeks` consecutive weeks below
    demote_ratio × bar(L). Both events go in one running maximum per level: a reach in week v
    counts 2v + 1, a completed grace run 2v, so the level is held iff the maximum is odd.
    The last join day and spell cover are running too (`_spell_events`), in the same pass.
    """
    bars = [_bar(p, L) for L in BARRED]
    if bars != sorted(bars):
        raise InputError("bars must rise: participant ≤ contributor ≤ core", field="param core_bar")
    g = _grid(b, p)
    ratio, grace = float(p["demote_ratio"]), max(int(p["grace_weeks"]), 1)
    key = list(KEY)
    # How many demotion thresholds the score is under: under core's only (1) … under all (3);
    # its minimum over the last `grace` weeks says which levels had a full grace run.
    g = g.mutate(under=sum((g.score < _under(ratio, bar)).cast("int64") for bar in bars))
    g = _with_run_min(g, grace)
    cum = ibis.cumulative_window(group_by=key, order_by="week")
    state: dict[str, ir.Value] = {}
    for i, (L, bar) in enumerate(zip(BARRED, bars, strict=True)):
        run_done = g.under_run >= len(BARRED) - i
        event = ibis.cases((g.score >= bar, g.week * 2 + 1), (run_done, g.week * 2), else_=None)
        state[f"state_{L}"] = event.max().over(cum)
    g = g.mutate(
        **state,
        last_join_day=g.join_event.max().over(cum),
        in_spell=(g.cover_delta.sum().over(cum) > 0).cast("int64"),
    )
    held = {L: (g[f"state_{L}"] % 2).fill_null(0) == 1 for L in BARRED}
    level = _level(held, joined=g.last_join_day, end_day=g.end_day, days=int(p["newcomer_days"]))
    g = g.mutate(level=level, in_group=(g.in_spell > 0) | (g.week_messages > 0))
    g = g.drop("join_event", "cover_delta", "under")
    if not previous:
        return g
    g = g.mutate(previous_level=g.level.lag().over(group_by=key, order_by="week"))
    return g.mutate(changed=g.previous_level.isnull() | (g.level != g.previous_level))


def _with_run_min(g: ir.Table, grace: int) -> ir.Table:
    """`g` with `under_run`: `under`'s minimum over the member's last `grace` weeks (fewer in
    their first weeks). A member's grid weeks are consecutive (the calendar has every day), so
    the rows before are weeks w-1 … w-grace+1, found by equi-joins: cheaper than one more
    window pass, which sorts the whole grid."""
    t, back = g, [g.under]
    for k in range(1, grace):
        shifted = g.select(*KEY, week=(g.week + k).cast("int64"), **{f"under_{k}": g.under})
        t = _attach(t, shifted, (*KEY, "week"), {f"under_{k}": len(BARRED)})
    back = [t.under, *(t[f"under_{k}"] for k in range(1, grace))]
    run = ibis.least(*back) if len(back) > 1 else t.under
    return t.mutate(under_run=run.cast("int64")).drop(*(f"under_{k}" for k in range(1, grace)))
