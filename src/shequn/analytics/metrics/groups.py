"""Group metrics (R7, R21): daily activity and membership, retention of joiners, cohorts, size.

Definitions are in docs/metrics/groups.md. Everything per day comes from one table of events per
(group, local day) — joins, leaves, first/last day of a speaker's rolling windows, messages —
summed per day and, for the running figures (members, cumulative joins, WAU, MAU), summed from
the start of history. That keeps WAU/MAU exact distinct counts without a range join of every
speaker against every day.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.registry import Metric, Param, Row, register

WAU_DAYS, MAU_DAYS = 7, 30  # the standard rolling windows, not policy: fixed by definition
FAR_PAST = -1_000_000  # stands for "before the history starts" (a null join day)
DAILY = ("new_members", "departed", "left_voluntarily", "removed", "dau", "messages", "ugc")
RUNNING = ("cumulative_joined", "members", "wau", "mau")


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num/den rounded to 4 places; 0 when den is 0 (an empty group is not an error)."""
    # nullif, not a CASE around the division: some engines evaluate both branches
    # both sides as float: PostgreSQL divides integers as integers (2 / 7 = 0)
    return (
        (num.cast("float64") / den.cast("float64").nullif(0))
        .fill_null(0.0)
        .round(4)
        .cast("float64")
    )


def _week(day: ir.IntegerValue) -> ir.IntegerValue:
    return ((day + 3) // 7).cast("int64")


def _group_totals(b: Base, p: Mapping[str, Any]) -> ir.Table:
    md = b.member_day
    per = md.group_by("community_id").agg(
        messages=md.messages.sum().cast("int64"),
        speakers=md.account_id.nunique().cast("int64"),
        active_days=md.day.nunique().cast("int64"),
    )
    c = b.communities
    return c.left_join(per, c.community_id == per.community_id).select(
        c.community_id,
        c.name,
        c.platform,
        messages=per.messages.fill_null(0),
        speakers=per.speakers.fill_null(0),
        active_days=per.active_days.fill_null(0),
    )


# -- group_daily -------------------------------------------------------------------------------
def _events(t: ir.Table, day: ir.IntegerValue, **values: Any) -> ir.Table:
    """Per (group, day): the sums of `values` (booleans count 1) and 0 for every other column.

    Each source is summed to one row per (group, day) before the sources are stacked, so the
    stacked table stays small however many messages or speakers there are."""
    cols = {
        k: (v.cast("int64") if isinstance(v, ir.Value) else ibis.literal(v, "int64"))
        for k, v in values.items()
    }
    e = t.select(community_id=t.community_id.cast("int64"), day=day.cast("int64"), **cols)
    e = e.group_by(["community_id", "day"]).agg(**{k: e[k].sum() for k in cols})
    zero = ibis.literal(0, "int64")
    return e.select(
        "community_id",
        "day",
        **{k: e[k].cast("int64") if k in cols else zero for k in (*DAILY, *RUNNING)},
    )


def _membership_events(b: Base) -> list[ir.Table]:
    s = b.spells.filter(~b.spells.is_bot)
    joined = s.join_day.notnull()
    opened = _events(
        s, s.join_day.fill_null(FAR_PAST), new_members=joined, cumulative_joined=joined, members=1
    )
    gone = s.filter(s.left_day.notnull())
    removed = gone.left_reason.fill_null("leave") == "remove"
    closed = _events(
        gone, gone.left_day, departed=1, left_voluntarily=~removed, removed=removed, members=-1
    )
    return [opened, closed]


def _speaker_events(b: Base) -> ir.Table:
    # A speaker counts in WAU from a speaking day s until the day before min(s+7, next speaking
    # day): the intervals of one speaker never overlap, so their running sum is a distinct count.
    md = Base(b.raw, since_day=b.since_day - MAU_DAYS + 1, until_day=b.until_day).member_day
    md = md.filter(~md.is_bot)
    nxt = md.day.lead().over(group_by=[md.community_id, md.account_id], order_by=md.day)
    md = md.mutate(nxt=nxt)

    def end(n: int) -> ir.IntegerValue:
        return ibis.ifelse(x.nxt.isnull() | (x.nxt > x.day + n), x.day + n, x.nxt)

    # One pass: each speaking day yields its start (k=0), WAU end (k=1) and MAU end (k=2).
    x = md.cross_join(ibis.memtable({"k": [0, 1, 2]}).cast({"k": "int64"}))
    first = x.k == 0
    at = ibis.cases((first, x.day), (x.k == 1, end(WAU_DAYS)), else_=end(MAU_DAYS))
    return _events(
        x,
        at,
        dau=first,
        wau=ibis.cases((first, 1), (x.k == 1, -1), else_=0),
        mau=ibis.cases((first, 1), (x.k == 2, -1), else_=0),
    )


def _authored(b: Base) -> ir.Table:
    """Messages of the period with an author, and whether each is UGC (`Base.messages`)."""
    m = b.messages
    return m.filter(m.account_id.notnull()).select("community_id", "day", "hour", "is_ugc")


def _message_events(b: Base) -> ir.Table:
    m = _authored(b)
    return _events(m, m.day, messages=1, ugc=m.is_ugc)


def _group_daily(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Per group and day of the period; built once per Base (group_summary reads it too)."""
    return b.shared(("group_daily", b.since_day, b.until_day), lambda: _build_group_daily(b))


def _build_group_daily(b: Base) -> ir.Table:
    ev = ibis.union(*_membership_events(b), _speaker_events(b), _message_events(b))
    ev = ev.filter(ev.day <= b.until_day)
    # Events before the period only move the running figures: folded into a starting value.
    pre = ev.filter(ev.day < b.since_day)
    pre = pre.group_by(pre.community_id.name("p_cid")).agg(
        **{f"{k}_0": pre[k].sum() for k in RUNNING}
    )
    inside = ev.filter(ev.day >= b.since_day)
    inside = inside.group_by([inside.community_id.name("e_cid"), inside.day.name("e_day")]).agg(
        **{k: inside[k].sum() for k in (*DAILY, *RUNNING)}
    )
    grid = b.communities.select("community_id", "name").cross_join(b.calendar.select("day", "date"))
    g = grid.left_join(inside, [grid.community_id == inside.e_cid, grid.day == inside.e_day]).drop(
        "e_cid", "e_day"
    )
    g = g.left_join(pre, g.community_id == pre.p_cid).drop("p_cid")
    w = ibis.cumulative_window(group_by=g.community_id, order_by=g.day)
    running = {k: (g[k].fill_null(0).sum().over(w) + g[f"{k}_0"].fill_null(0)) for k in RUNNING}
    g = g.mutate(**{k: v.cast("int64") for k, v in running.items()})
    daily = {k: g[k].fill_null(0).cast("int64") for k in DAILY}
    return g.select(
        "community_id",
        "name",
        "day",
        "date",
        "members",
        new_members=daily["new_members"],
        departed=daily["departed"],
        left_voluntarily=daily["left_voluntarily"],
        removed=daily["removed"],
        cumulative_joined=g.cumulative_joined,
        dau=daily["dau"],
        wau=g.wau,
        mau=g.mau,
        active_ratio=_ratio(daily["dau"], g.members),
        messages=daily["messages"],
        ugc=daily["ugc"],
    )


# -- retention and cohorts ---------------------------------------------------------------------
def _joins(b: Base) -> ir.Table:
    """Non-bot joins (one row per spell) on a day of the period."""
    s = b.spells
    s = s.filter(~s.is_bot & s.join_day.between(b.since_day, b.until_day))
    return s.select("community_id", "account_id", "join_day", cohort_week=_week(s.join_day))


def _speak_weeks(b: Base) -> ir.Table:
    """(group, account, week) with the last day the account spoke in that week."""
    md = b.member_day
    return md.group_by(
        [md.community_id.name("s_cid"), md.account_id.name("s_aid"), _week(md.day).name("s_week")]
    ).agg(s_last=md.day.max())


def _retention(b: Base, p: Mapping[str, Any]) -> ir.Table:
    j = _joins(b)
    md = b.member_day
    spoke = md.select(s_cid="community_id", s_aid="account_id", s_day="day", s_hit=ibis.literal(1))
    d1 = j.filter(j.join_day + 1 <= b.until_day)
    d1 = d1.left_join(
        spoke,
        [
            d1.community_id == spoke.s_cid,
            d1.account_id == spoke.s_aid,
            d1.join_day + 1 == spoke.s_day,
        ],
    )
    d1 = d1.group_by(d1.community_id.name("d_cid")).agg(
        joined=d1.count(), d1_retained=d1.s_hit.fill_null(0).sum()
    )
    # w1 needs week w+1 whole inside the period: its Sunday (7w + 10) on or before until_day.
    w1 = j.filter(j.cohort_week * 7 + 10 <= b.until_day)
    sw = _speak_weeks(b)
    w1 = w1.left_join(
        sw,
        [w1.community_id == sw.s_cid, w1.account_id == sw.s_aid, w1.cohort_week + 1 == sw.s_week],
    )
    w1 = w1.group_by(w1.community_id.name("w_cid")).agg(
        w1_joined=w1.count(), w1_retained=w1.s_last.notnull().cast("int64").sum()
    )
    c = b.communities.select("community_id", "name")
    t = c.left_join(d1, c.community_id == d1.d_cid).drop("d_cid")
    t = t.left_join(w1, t.community_id == w1.w_cid).drop("w_cid")
    n = {
        k: t[k].fill_null(0).cast("int64")
        for k in ("joined", "d1_retained", "w1_joined", "w1_retained")
    }
    return t.select(
        "community_id",
        "name",
        joined=n["joined"],
        d1_retained=n["d1_retained"],
        d1_retention=_ratio(n["d1_retained"], n["joined"]),
        w1_joined=n["w1_joined"],
        w1_retained=n["w1_retained"],
        w1_retention=_ratio(n["w1_retained"], n["w1_joined"]),
    )


def with_iso_date(t: ir.Table, day: str, out: str) -> ir.Table:
    """`t` with column `out` = 'YYYY-MM-DD' of day number `day`, in integer arithmetic (Howard
    Hinnant's civil_from_days), so a week's Monday has a date even before the calendar starts.
    One step per mutate: nested expressions would repeat each term in the SQL many times."""
    z = t[day] + 719468
    t = t.mutate(_era=z // 146097, _z=z)
    t = t.mutate(_doe=t._z - t._era * 146097)
    t = t.mutate(_yoe=(t._doe - t._doe // 1460 + t._doe // 36524 - t._doe // 146096) // 365)
    t = t.mutate(_doy=t._doe - (365 * t._yoe + t._yoe // 4 - t._yoe // 100))
    t = t.mutate(_mp=(5 * t._doy + 2) // 153)
    t = t.mutate(_d=t._doy - (153 * t._mp + 2) // 5 + 1, _m=ibis.ifelse(t._mp < 10, 3, -9) + t._mp)
    t = t.mutate(_y=t._yoe + t._era * 400 + ibis.ifelse(t._m <= 2, 1, 0))

    def pad(v: ir.IntegerValue, n: int) -> ir.StringValue:
        return v.cast("int64").cast("string").lpad(n, "0")

    t = t.mutate(**{out: pad(t._y, 4) + "-" + pad(t._m, 2) + "-" + pad(t._d, 2)})
    return t.drop("_era", "_z", "_doe", "_yoe", "_doy", "_mp", "_d", "_m", "_y")


def _join_cohorts(b: Base, p: Mapping[str, Any]) -> ir.Table:
    j = _joins(b)
    size = j.group_by(["community_id", "cohort_week"]).agg(size=j.count())
    size = with_iso_date(size.mutate(monday=size.cohort_week * 7 - 3), "monday", "start")
    weeks = b.calendar.group_by(week=b.calendar.week).agg()
    pairs = size.join(
        weeks,
        [weeks.week >= size.cohort_week, weeks.week - size.cohort_week <= p["max_weeks"]],
    )
    sw = _speak_weeks(b)
    # Spoke in week w+k on or after the join day (week 0 does not count talk before joining).
    hit = j.join(
        sw,
        [
            j.community_id == sw.s_cid,
            j.account_id == sw.s_aid,
            sw.s_week >= j.cohort_week,
            sw.s_week - j.cohort_week <= p["max_weeks"],
            sw.s_last >= j.join_day,
        ],
    )
    hit = hit.group_by(
        [hit.community_id.name("h_cid"), hit.cohort_week.name("h_cw"), hit.s_week.name("h_w")]
    ).agg(retained=hit.count())
    t = pairs.left_join(
        hit, [pairs.community_id == hit.h_cid, pairs.cohort_week == hit.h_cw, pairs.week == hit.h_w]
    )
    retained = t.retained.fill_null(0).cast("int64")
    return t.select(
        community_id=t.community_id.cast("int64"),
        cohort_week=t.cohort_week.cast("int64"),
        cohort_week_start=t.start,
        size=t.size.cast("int64"),
        weeks_after=(t.week - t.cohort_week).cast("int64"),
        retained=retained,
        retention=_ratio(retained, t.size),
    )


def _activity_heatmap(b: Base, p: Mapping[str, Any]) -> ir.Table:
    cells = ibis.memtable(
        {"weekday": [d for d in range(7) for _ in range(24)], "hour": list(range(24)) * 7}
    ).cast({"weekday": "int64", "hour": "int64"})
    m = _authored(b)
    per = m.group_by(
        [m.community_id.name("m_cid"), ((m.day + 3) % 7).name("m_wd"), m.hour.name("m_h")]
    ).agg(n=m.count())
    grid = b.communities.select("community_id").cross_join(cells)
    t = grid.left_join(
        per, [grid.community_id == per.m_cid, grid.weekday == per.m_wd, grid.hour == per.m_h]
    )
    return t.select("community_id", "weekday", "hour", messages=t.n.fill_null(0).cast("int64"))


# -- group_summary -----------------------------------------------------------------------------
def _active_members(b: Base, days: int) -> ir.Table:
    """Per group: members at the end of until_day who spoke in the last `days` days."""
    mem = b.members_on(b.until_day).select(a_cid="community_id", a_aid="account_id")
    md = Base(b.raw, since_day=b.until_day - days + 1, until_day=b.until_day).member_day
    spoke = md.group_by(["community_id", "account_id"]).agg()
    hit = mem.join(spoke, [mem.a_cid == spoke.community_id, mem.a_aid == spoke.account_id])
    return hit.group_by("a_cid").agg(active=hit.a_aid.nunique())


def _group_summary(b: Base, p: Mapping[str, Any]) -> ir.Table:
    d = _group_daily(b, p)
    per = d.group_by(d.community_id.name("t_cid")).agg(
        new_members=d.new_members.sum(),
        departed=d.departed.sum(),
        messages=d.messages.sum(),
        ugc=d.ugc.sum(),
        avg_dau=d.dau.mean(),
    )
    last = d.filter(d.day == b.until_day).select(l_cid="community_id", wau="wau", mau="mau")
    mem = b.members_on(b.until_day)
    size = mem.group_by(mem.community_id.name("m_cid")).agg(members=mem.account_id.nunique())
    act = _active_members(b, p["active_window_days"])
    ret = _retention(b, p).select("community_id", "d1_retention", "w1_retention")
    c = b.communities.select("community_id", "name", "platform")
    t = c.left_join(per, c.community_id == per.t_cid).drop("t_cid")
    t = t.left_join(last, t.community_id == last.l_cid).drop("l_cid")
    t = t.left_join(size, t.community_id == size.m_cid).drop("m_cid")
    t = t.left_join(act, t.community_id == act.a_cid).drop("a_cid")
    t = t.join(ret, "community_id")
    n = {
        k: t[k].fill_null(0).cast("int64")
        for k in ("members", "new_members", "departed", "messages", "ugc", "wau", "mau", "active")
    }
    members = n["members"]
    status = ibis.cases(
        (members < p["size_min"], "small"),
        (members <= p["size_ideal_max"], "ideal"),
        (members <= p["size_max"], "large"),
        else_="over",
    )
    return t.select(
        "community_id",
        "name",
        "platform",
        members=members,
        new_members=n["new_members"],
        departed=n["departed"],
        messages=n["messages"],
        ugc=n["ugc"],
        avg_dau=t.avg_dau.fill_null(0).round(4).cast("float64"),
        wau=n["wau"],
        mau=n["mau"],
        active_ratio=_ratio(n["active"], members),
        d1_retention=t.d1_retention,
        w1_retention=t.w1_retention,
        size_status=status.cast("string"),
        size_min=ibis.literal(p["size_min"]).cast("int64"),
        size_ideal_max=ibis.literal(p["size_ideal_max"]).cast("int64"),
        size_max=ibis.literal(p["size_max"]).cast("int64"),
    )


_SIZE_WHY = {
    "small": (
        "{m} 人，少于 {lo} 人：先拉新，再考虑分群",
        "{m} members — below {lo}; grow it before splitting",
    ),
    "ideal": ("{m} 人，在 {lo}–{hi} 人的理想区间", "{m} members — within the {lo}–{hi} ideal"),
    "large": (
        "{m} 人，超过 {hi} 人的理想上限：考虑拆分或开下一个群",
        "{m} members — above the {hi} ideal; split or open the next group",
    ),
    "over": (
        "{m} 人，超过 {top} 人上限：停止拉人，开下一个群",
        "{m} members — over the {top} limit; stop adding, open the next group",
    ),
}


def _summary_why(row: Row, lang: str) -> str:
    zh, en = _SIZE_WHY[row["size_status"]]
    text = (zh if lang == "zh" else en).format(
        m=row["members"], lo=row["size_min"], hi=row["size_ideal_max"], top=row["size_max"]
    )
    pct = round(100 * row["active_ratio"])
    return text + (f"；活跃成员 {pct}%" if lang == "zh" else f"; {pct}% of members active")


# -- the registry ------------------------------------------------------------------------------
SIZE_PARAMS = (
    Param("size_min", 30, "理想群规模下限（人）", "smallest ideal group size (members)"),
    Param("size_ideal_max", 50, "理想群规模上限（人）", "largest ideal group size (members)"),
    Param("size_max", 100, "群规模上限（人），超过即告警", "size limit (members); above it: over"),
)
for metric in (
    Metric(
        name="group_totals",
        subject="group",
        zh="群总览",
        en="Group totals",
        description_zh="每个群在所选时段的消息数、发言人数和有发言的天数。",
        description_en="Messages, distinct speakers and days with messages per group.",
        compute=_group_totals,
        order_by=("community_id",),
    ),
    Metric(
        name="group_daily",
        subject="group",
        zh="群每日指标",
        en="Group by day",
        description_zh="每群每天：成员数、新进/退出/被移出、累计入群、DAU/WAU/MAU、活跃率、消息与UGC。",
        description_en="Per group and local day: members, joins, departures, cumulative joins, "
        "DAU/WAU/MAU, active ratio, messages and UGC.",
        compute=_group_daily,
        order_by=("community_id", "day"),
    ),
    Metric(
        name="group_summary",
        subject="group",
        zh="群概况",
        en="Group summary",
        description_zh="每群在时段内的规模、增减、消息与UGC、活跃率、次日/次周留存，及规模是否合适。",
        description_en="Per group over the period: size, joins and departures, messages and UGC, "
        "active ratio, next-day and next-week retention, and size against the size policy.",
        compute=_group_summary,
        order_by=("community_id",),
        params=(
            Param("active_window_days", 7, "活跃率统计最近几天", "active ratio looks back N days"),
            *SIZE_PARAMS,
        ),
        why=_summary_why,
    ),
    Metric(
        name="retention",
        subject="group",
        zh="新成员留存",
        en="Joiner retention",
        description_zh="次日留存：d 日入群、d+1 日发言的比例；"
        "次周留存：w 周入群、w+1 周发言的比例。",
        description_en="Next-day retention (joined on day d, spoke on d+1) and next-week "
        "retention (joined in week w, spoke in week w+1) per group.",
        compute=_retention,
        order_by=("community_id",),
    ),
    Metric(
        name="join_cohorts",
        subject="group",
        zh="入群周队列留存",
        en="Weekly join cohorts",
        description_zh="按入群周分组，第 N 周仍发言的人数和比例。",
        description_en="Members by week of joining, and how many spoke N weeks later.",
        compute=_join_cohorts,
        order_by=("community_id", "cohort_week", "weeks_after"),
        params=(Param("max_weeks", 12, "最多看几周", "weeks after joining to follow"),),
    ),
    Metric(
        name="activity_heatmap",
        subject="group",
        zh="活跃时段热力图",
        en="Activity heatmap",
        description_zh="每群按星期几 × 小时（群所在时区）统计的消息数，7×24 格全列出。",
        description_en="Messages per group by weekday × hour in the group's zone; all 7×24 cells.",
        compute=_activity_heatmap,
        order_by=("community_id", "weekday", "hour"),
    ),
):
    register(metric)
