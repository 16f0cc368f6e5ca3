"""Program metrics (R22): a weekly health score and a tier per group, and how concentrated
the program is.

Tiers go 初建 new → 成长 growing → 核心 core. A group is promoted the week it meets a tier's
bars and demoted only after `grace_weeks` consecutive weeks below 90% of them (the Discourse
habit, so a group hovering near a bar does not flap). The hysteresis is window functions, not a
loop: for each tier, the group holds it iff the last week it met the bars is later than the last
week a full grace run below 90% ended.

A tier is a state with memory, so the weeks are computed over the whole stored history up to
`until_day` (a `Base` over the same raw tables with an open start) and only the period's weeks
are shown: where a report starts does not change a group's tier. Definitions:
docs/metrics/program.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.analytics.zones import day_date

TIERS = ("new", "growing", "core")
TIER_LABELS: dict[str, dict[str, str]] = {
    "new": {"zh": "初建", "en": "new"},
    "growing": {"zh": "成长", "en": "growing"},
    "core": {"zh": "核心", "en": "core"},
}
OPEN_START = -(10**6)  # a day (and week) before any history: "joined before the history starts"
NEVER = 10**6  # a week after any history: "has not left (by until_day)"

HEALTH_PARAMS = (
    Param("active_full", 0.5, "活跃率达到多少记满分", "active ratio scoring full marks"),
    Param("ugc_full", 3.0, "人均每周 UGC 多少记满分", "UGC per member per week, full marks"),
    Param("retention_full", 0.5, "新人留存率多少记满分", "joiner retention scoring full marks"),
    Param("growth_full", 0.2, "回看期增长率多少记满分", "growth over the look-back, full marks"),
    Param("w_active", 40.0, "活跃率权重", "weight of the active ratio"),
    Param("w_ugc", 30.0, "UGC 权重", "weight of UGC per member"),
    Param("w_retention", 15.0, "留存权重", "weight of joiner retention"),
    Param("w_growth", 15.0, "增长权重", "weight of growth"),
    Param("lookback_weeks", 4, "留存与增长回看的周数", "weeks of look-back (retention, growth)"),
    Param("history_weeks", 104, "分级计算的周数", "weeks of history the tiers are worked over"),
    Param("growing_members", 20, "成长群最少成员数", "members needed for growing"),
    Param("growing_score", 40.0, "成长群最低得分", "score needed for growing"),
    Param("core_members", 30, "核心群最少成员数", "members needed for core"),
    Param("core_score", 65.0, "核心群最低得分", "score needed for core"),
    Param("core_active", 0.3, "核心群最低活跃率", "active ratio needed for core"),
    Param("hold_fraction", 0.9, "保级线（占标准的比例）", "share of a bar that keeps a tier"),
    Param("grace_weeks", 2, "连续几周低于保级线才降级", "weeks below the keep line to demote"),
)


def _cum(order: str = "week") -> Any:
    """Rows from the group's first week up to the current one."""
    return ibis.cumulative_window(group_by="community_id", order_by=order)


# -- the weekly numbers ---------------------------------------------------------------------
def _week_range(b: Base, p: Mapping[str, Any]) -> tuple[int, int]:
    """First and last week of the tier history: `history_weeks` up to until_day's week, and at
    least the period's weeks."""
    last = (b.until_day + 3) // 7
    return min((b.since_day + 3) // 7, last - int(p["history_weeks"]) + 1), last


def _history(b: Base, p: Mapping[str, Any]) -> Base:
    """The same raw tables from the first history week (less the look-back) to until_day."""
    first = _week_range(b, p)[0] - int(p["lookback_weeks"])
    return Base(b.raw, since_day=min(b.since_day, 7 * first - 3), until_day=b.until_day)


def _weeks(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Every week of the history with its Monday's date (a literal table: the engine's
    calendar starts at the first message, the weeks may start before it)."""
    first, last = _week_range(b, p)
    weeks = list(range(first, last + 1))
    return ibis.memtable(
        {"week": weeks, "week_start": [day_date(7 * w - 3).isoformat() for w in weeks]},
        schema={"week": "int64", "week_start": "string"},
    )


def _spell_weeks(h: Base) -> ir.Table:
    """Non-bot spells known by until_day as (join week, leave week); a leave after it is none."""
    s = h.spells
    s = s.filter(~s.is_bot & (s.join_day.isnull() | (s.join_day <= h.until_day)))
    left = s.left_day.notnull() & (s.left_day <= h.until_day)
    return s.select(
        "community_id",
        "account_id",
        "join_day",
        jw=ibis.ifelse(s.join_day.isnull(), OPEN_START, (s.join_day + 3) // 7).cast("int64"),
        lw=ibis.ifelse(left, (s.left_day + 3) // 7, NEVER).cast("int64"),
    )


def _members(sw: ir.Table, grid: ir.Table, lookback: int) -> ir.Table:
    """Members at the end of each week and `lookback` weeks before: a running sum of joins
    (+1 in the join week) and leaves (-1 in the leave week), evaluated at the grid's weeks."""
    d = "int64"
    parts = [
        sw.select("community_id", week=sw.jw, d=ibis.literal(1, d)),
        sw.filter(sw.lw < NEVER).select("community_id", week=sw.lw, d=ibis.literal(-1, d)),
        grid.select("community_id", week=grid.week, d=ibis.literal(0, d)),
        grid.select("community_id", week=(grid.week - lookback).cast(d), d=ibis.literal(0, d)),
    ]
    u = ibis.union(*parts)
    per = u.group_by(["community_id", "week"]).agg(d=u.d.sum())
    run = per.select("community_id", "week", n=per.d.sum().over(_cum()).cast(d))
    now = run.select(m_cid="community_id", m_week="week", members="n")
    before = run.select(b_cid="community_id", b_week="week", members_before="n")
    g = grid.join(now, [grid.community_id == now.m_cid, grid.week == now.m_week])
    g = g.join(before, [g.community_id == before.b_cid, g.week - lookback == before.b_week])
    return g.drop("m_cid", "m_week", "b_cid", "b_week")


def _speakers(h: Base) -> ir.Table:
    """(community_id, account_id, week) of every non-bot account that sent a message."""
    md = h.member_day.filter(~h.member_day.is_bot)
    md = md.mutate(week=((md.day + 3) // 7).cast("int64"))
    return md.group_by(["community_id", "account_id", "week"]).agg(n=md.messages.sum())


def _active(sw: ir.Table, spk: ir.Table) -> ir.Table:
    """Members at the end of a week who spoke in it, per (community_id, week)."""
    j = spk.join(
        sw,
        [
            spk.community_id == sw.community_id,
            spk.account_id == sw.account_id,
            sw.jw <= spk.week,
            sw.lw > spk.week,
        ],
    )
    return j.group_by(["community_id", "week"]).agg(
        active_members=j.account_id.nunique().cast("int64")
    )


def _retention(sw: ir.Table, spk: ir.Table, grid: ir.Table, lookback: int) -> ir.Table:
    """Joiners of the `lookback` weeks before each week, and how many spoke the week after
    their join week."""
    joins = sw.filter(sw.join_day.notnull())
    nxt = spk.select(s_cid="community_id", s_aid="account_id", s_week="week")
    j = joins.left_join(
        nxt,
        [
            joins.community_id == nxt.s_cid,
            joins.account_id == nxt.s_aid,
            joins.jw + 1 == nxt.s_week,
        ],
    )
    per = j.group_by(["community_id", "jw"]).agg(
        n=j.count().cast("int64"), kept=j.s_week.notnull().cast("int64").sum().cast("int64")
    )
    per = per.rename(r_cid="community_id")
    g = grid.select("community_id", "week")
    w = g.join(
        per,
        [g.community_id == per.r_cid, per.jw >= g.week - lookback, per.jw <= g.week - 1],
    )
    return w.group_by(["community_id", "week"]).agg(
        joiners=w.n.sum().cast("int64"), retained=w.kept.sum().cast("int64")
    )


def _ugc(h: Base) -> ir.Table:
    """UGC messages per (community_id, week)."""
    m = h.messages.filter(h.messages.is_ugc)
    return m.group_by(["community_id", "week"]).agg(ugc=m.count().cast("int64"))


def _attach(grid: ir.Table, part: ir.Table, cols: dict[str, Any]) -> ir.Table:
    """Left-join a per-(community_id, week) table, keeping `cols` (name → fill value)."""
    p = part.rename(p_cid="community_id", p_week="week")
    j = grid.left_join(p, [grid.community_id == p.p_cid, grid.week == p.p_week])
    keep = {c: (j[c] if fill is None else j[c].fill_null(fill)) for c, fill in cols.items()}
    return j.select(*grid.columns, **keep)


def _measures(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Per group and week: members, active ratio, UGC, retention and growth."""
    h = _history(b, p)
    lookback = int(p["lookback_weeks"])
    c = h.communities.select("community_id", "name")
    grid = c.cross_join(_weeks(b, p))
    sw, spk = _spell_weeks(h), _speakers(h)
    t = _members(sw, grid, lookback)
    t = _attach(t, _active(sw, spk), {"active_members": 0})
    t = _attach(t, _ugc(h), {"ugc": 0})
    t = _attach(t, _retention(sw, spk, grid, lookback), {"joiners": 0, "retained": 0})
    per = ibis.greatest(t.members, 1)
    return t.mutate(
        active_ratio=ibis.ifelse(t.members > 0, t.active_members / per, 0.0)
        .cast("float64")
        .round(4),
        ugc_per_member=ibis.ifelse(t.members > 0, t.ugc / per, 0.0).cast("float64").round(4),
        retention=ibis.ifelse(t.joiners > 0, t.retained / t.joiners, None).cast("float64").round(4),
        growth=((t.members - t.members_before) / ibis.greatest(t.members_before, 1))
        .cast("float64")
        .round(4),
    )


def _score(t: ir.Table, p: Mapping[str, Any]) -> ir.Table:
    """0–100: the weighted mean of the capped components; retention left out when null."""
    comp = {
        "active": (t.active_ratio / p["active_full"]).clip(upper=1.0),
        "ugc": (t.ugc_per_member / p["ugc_full"]).clip(upper=1.0),
        "growth": (0.5 + t.growth / (2 * p["growth_full"])).clip(lower=0.0, upper=1.0),
    }
    ret = (t.retention / p["retention_full"]).clip(upper=1.0)
    num = sum(p[f"w_{k}"] * v for k, v in comp.items()) + (p["w_retention"] * ret).fill_null(0.0)
    den = sum(float(p[f"w_{k}"]) for k in comp) + ibis.ifelse(
        t.retention.isnull(), 0.0, float(p["w_retention"])
    )
    score = ibis.ifelse((t.members > 0) & (den > 0), 100.0 * num / den, 0.0)
    return t.mutate(score=score.cast("float64").round(2))


# -- tiers ----------------------------------------------------------------------------------
def _flags(t: ir.Table, p: Mapping[str, Any]) -> dict[str, ir.BooleanValue]:
    """Meets (`m_`) and is below the keep line (`b_`) of each tier's bars, this week."""
    keep = float(p["hold_fraction"])
    return {
        "m_growing": (t.members >= p["growing_members"]) & (t.score >= p["growing_score"]),
        "m_core": (t.members >= p["core_members"])
        & (t.score >= p["core_score"])
        & (t.active_ratio >= p["core_active"]),
        "b_growing": (t.members < p["growing_members"]) | (t.score < keep * p["growing_score"]),
        "b_core": (t.members < p["core_members"])
        | (t.score < keep * p["core_score"])
        | (t.active_ratio < keep * p["core_active"]),
    }


def _hold(t: ir.Table, p: Mapping[str, Any]) -> ir.Table:
    """For each tier: last week its bars were met, and whether the group holds it now."""
    t = t.mutate(**_flags(t, p))
    w, none = _cum(), ibis.null("int64")
    cols: dict[str, Any] = {"first_week": t.week.min().over(w)}
    for k in ("growing", "core"):
        cols[f"reach_{k}"] = ibis.ifelse(t[f"m_{k}"], t.week, none).max().over(w)
        cols[f"ok_{k}"] = ibis.ifelse(~t[f"b_{k}"], t.week, none).max().over(w)
    t = t.mutate(**cols)
    # weeks in a row below the keep line, ending this week
    t = t.mutate(
        **{
            f"run_{k}": (t.week - t[f"ok_{k}"].fill_null(t.first_week - 1)).cast("int64")
            for k in ("growing", "core")
        }
    )
    grace = int(p["grace_weeks"])
    t = t.mutate(
        **{
            f"drop_{k}": ibis.ifelse(t[f"run_{k}"] >= grace, t.week, none).max().over(w)
            for k in ("growing", "core")
        }
    )
    held = {
        k: t[f"reach_{k}"].notnull()
        & (t[f"drop_{k}"].isnull() | (t[f"reach_{k}"] > t[f"drop_{k}"]))
        for k in ("growing", "core")
    }
    raw = ibis.cases((t.m_core, "core"), (t.m_growing, "growing"), else_="new")
    tier = ibis.cases((held["core"], "core"), (held["growing"], "growing"), else_="new")
    return t.mutate(raw_tier=raw, tier=tier)


def _rank(tier: ir.StringValue) -> ir.IntegerValue:
    return ibis.cases((tier == "core", 2), (tier == "growing", 1), else_=0).cast("int64")


def _movements(t: ir.Table) -> ir.Table:
    """Previous week's tier, whether it changed, weeks below the held tier's line, a reason."""
    prev = t.tier.lag(1).over(ibis.window(group_by="community_id", order_by="week"))
    t = t.mutate(previous_tier=prev.fill_null("new"))
    now, before = _rank(t.tier), _rank(t.previous_tier)
    below = ibis.cases(
        (t.previous_tier == "core", t.run_core),
        (t.previous_tier == "growing", t.run_growing),
        else_=0,
    ).cast("int64")
    reason = ibis.cases(
        (now > before, "promoted"),
        (now < before, "demoted"),
        (t.tier == "new", "new"),
        (_rank(t.raw_tier) >= now, "meets"),
        (below > 0, "grace"),
        else_="hovering",
    )
    return t.mutate(changed=now != before, weeks_below=below, reason=reason)


HEALTH_COLUMNS = (
    *("community_id", "name", "week", "week_start", "members", "members_before"),
    *("active_members", "active_ratio", "ugc", "ugc_per_member", "joiners", "retained"),
    *("retention", "growth", "score", "raw_tier", "tier", "previous_tier", "changed"),
    *("weeks_below", "reason"),
)


def _health_history(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """group_health for every week of the history up to until_day's week; built once per Base
    for the four program metrics with these parameters."""
    key = ("health_history", tuple((q.name, p[q.name]) for q in HEALTH_PARAMS))

    def build() -> ir.Table:
        t = _movements(_hold(_score(_measures(b, p), p), p))
        return t.select(*HEALTH_COLUMNS)

    return b.shared(key, build)


def _group_health(b: Base, p: Mapping[str, Any]) -> ir.Table:
    t = _health_history(b, p)
    return t.filter(t.week >= (b.since_day + 3) // 7)


def _tier_movements(b: Base, p: Mapping[str, Any]) -> ir.Table:
    t = _group_health(b, p)
    return t.filter(t.changed)


def _group_tiers(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Each group's tier in until_day's week, and the week it got there."""
    t = _health_history(b, p)
    # never changed: held since the group's first week with members or UGC
    seen = (t.members > 0) | (t.ugc > 0)
    since = t.group_by("community_id").agg(
        since_week=ibis.coalesce(
            ibis.ifelse(t.changed, t.week, None).max(),
            ibis.ifelse(seen, t.week, None).min(),
            t.week.max(),
        ),
    )
    since = since.rename(s_cid="community_id")
    weeks = t.select(d_cid="community_id", d_week="week", since_date="week_start")
    now = t.filter(t.week == (b.until_day + 3) // 7)
    j = now.join(since, now.community_id == since.s_cid)
    j = j.join(weeks, [j.community_id == weeks.d_cid, j.since_week == weeks.d_week])
    return j.select(
        "community_id",
        "name",
        "week",
        "tier",
        since_week=j.since_week.cast("int64"),
        since_date=j.since_date,
        members=j.members,
        active_ratio=j.active_ratio,
        score=j.score,
        weeks_below=j.weeks_below,
        reason=j.reason,
    )


def _program_concentration(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """One row: how much of the period's UGC the top `top_percent`% of groups produce."""
    m = b.messages.filter(b.messages.is_ugc)
    per = m.group_by("community_id").agg(u=m.count().cast("int64")).rename(u_cid="community_id")
    tiers = _group_tiers(b, p).select(t_cid="community_id", tier="tier")
    c = b.communities.select("community_id")
    g = c.left_join(per, c.community_id == per.u_cid).left_join(
        tiers, c.community_id == tiers.t_cid
    )
    g = g.select("community_id", ugc=g.u.fill_null(0), tier=g.tier)
    pct = int(p["top_percent"])
    everyone = ibis.window(order_by=[ibis.desc("ugc"), "community_id"])
    g = g.mutate(rank=ibis.row_number().over(everyone), active=(g.ugc > 0).cast("int64"))
    g = g.mutate(k=((g.active.sum().over(ibis.window()) * pct + 99) // 100).cast("int64"))
    top = (g.rank < g.k) & (g.ugc > 0)
    r = g.aggregate(
        groups=g.count().cast("int64"),
        active_groups=g.active.sum().fill_null(0).cast("int64"),
        ugc_total=g.ugc.sum().fill_null(0).cast("int64"),
        top_groups=g.k.max().fill_null(0).cast("int64"),
        top_ugc=ibis.ifelse(top, g.ugc, 0).sum().fill_null(0).cast("int64"),
        **{
            f"groups_{k}": (g.tier == k).cast("int64").sum().fill_null(0).cast("int64")
            for k in TIERS
        },
    )
    share = ibis.ifelse(r.ugc_total > 0, r.top_ugc / r.ugc_total, None)
    return r.select(
        top_percent=ibis.literal(pct, "int64"),
        groups=r.groups,
        active_groups=r.active_groups,
        ugc_total=r.ugc_total,
        top20_groups=r.top_groups,
        top20_ugc=r.top_ugc,
        top20_share=share.cast("float64").round(4),
        groups_new=r.groups_new,
        groups_growing=r.groups_growing,
        groups_core=r.groups_core,
    )


# -- one-line reasons -----------------------------------------------------------------------
def _label(tier: str, lang: str) -> str:
    return TIER_LABELS[tier]["zh"] + "群" if lang == "zh" else TIER_LABELS[tier]["en"]


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{round(100 * x)}%"


def health_why(row: Row, lang: str) -> str:
    """'升为核心群：活跃率 41%，得分 72' / 'demoted to growing after 2 weeks below 90% of …'."""
    tier, zh = _label(row["tier"], lang), lang == "zh"
    held = _label(row["previous_tier"], lang)
    facts = (
        f"成员 {row['members']}，活跃率 {_pct(row['active_ratio'])}，得分 {row['score']:.0f}"
        if zh
        else f"{row['members']} members, {_pct(row['active_ratio'])} active, "
        f"score {row['score']:.0f}"
    )
    n = row["weeks_below"]
    text = {
        "promoted": (f"升为{tier}：{facts}", f"promoted to {tier}: {facts}"),
        "demoted": (
            f"降为{tier}：连续 {n} 周低于{held}标准的保级线",
            f"demoted to {tier} after {n} weeks below 90% of the {held} bar",
        ),
        "meets": (f"{tier}，达标：{facts}", f"{tier}, meets the bar: {facts}"),
        "hovering": (
            f"仍为{tier}：略低于标准但在保级线以上；{facts}",
            f"still {tier}: below the bar but within 90% of it; {facts}",
        ),
        "grace": (
            f"仍为{tier}：已连续 {n} 周低于保级线（宽限期）；{facts}",
            f"still {tier}: {n} week(s) below 90% of the bar (grace); {facts}",
        ),
        "new": (f"初建群，未达成长群标准：{facts}", f"new, not yet at the growing bar: {facts}"),
    }[row["reason"]]
    return text[0] if zh else text[1]


def tier_why(row: Row, lang: str) -> str:
    """'核心群（自 2026-03-02 起）：成员 34，活跃率 41%，得分 72'."""
    tier, since = _label(row["tier"], lang), row["since_date"]
    ratio, score = _pct(row["active_ratio"]), f"{row['score']:.0f}"
    if lang == "zh":
        return f"{tier}（自 {since} 所在周起）：成员 {row['members']}，活跃率 {ratio}，得分 {score}"
    return (
        f"{tier} since the week of {since}: {row['members']} members, {ratio} active, score {score}"
    )


def concentration_why(row: Row, lang: str) -> str:
    """'前 20% 的群贡献了 78% 的内容' / 'the top 20% of groups produce 78% of the content'."""
    top, share = row["top_percent"], _pct(row["top20_share"])
    k, n = row["top20_groups"], row["active_groups"]
    if row["top20_share"] is None:
        return "所选时段没有 UGC" if lang == "zh" else "no UGC in the period"
    if lang == "zh":
        return f"前 {top}% 的群（{n} 个有内容的群中的 {k} 个）贡献了 {share} 的内容"
    return f"the top {top}% of groups ({k} of {n} with content) produce {share} of the content"


register(
    Metric(
        name="group_health",
        subject="group",
        zh="群健康度",
        en="Group health",
        description_zh="每个群每周的成员数、活跃率、UGC、新人留存、增长、健康分与分级（初建/成长/核心），"
        "达标即升级，连续低于保级线才降级。",
        description_en="Per group and week: members, active ratio, UGC, joiner retention, growth, "
        "a 0–100 health score and the tier (new/growing/core), promoted when the bars are met "
        "and demoted only after weeks below the keep line.",
        compute=_group_health,
        order_by=("community_id", "week"),
        params=HEALTH_PARAMS,
        why=health_why,
    )
)
register(
    Metric(
        name="group_tiers",
        subject="group",
        zh="群分级",
        en="Group tiers",
        description_zh="截至结束日所在周，每个群的分级及其起始周。",
        description_en="Each group's tier in the week of the end day, and since when it holds it.",
        compute=_group_tiers,
        order_by=("community_id",),
        params=HEALTH_PARAMS,
        why=tier_why,
    )
)
register(
    Metric(
        name="tier_movements",
        subject="group",
        zh="分级变动",
        en="Tier movements",
        description_zh="所选时段内分级发生变化（升级或降级）的群周。",
        description_en="The weeks in the period in which a group's tier changed (up or down).",
        compute=_tier_movements,
        order_by=("week", "community_id"),
        params=HEALTH_PARAMS,
        why=health_why,
    )
)
register(
    Metric(
        name="program_concentration",
        subject="program",
        zh="内容集中度",
        en="Program concentration",
        description_zh="UGC 最多的前 20% 的群贡献了多少内容（二八法则），以及各分级的群数。",
        description_en="Share of the period's UGC produced by the top 20% of groups (the 2/8 "
        "rule), and how many groups are in each tier.",
        compute=_program_concentration,
        order_by=("groups",),
        params=(
            *HEALTH_PARAMS,
            Param("top_percent", 20, "头部群的比例（%）", "share of groups counted as the top (%)"),
        ),
        why=concentration_why,
    )
)
