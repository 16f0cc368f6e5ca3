"""Follow-up lists (R10, R12, R13, R14): who left, who is slipping, who is silent, who may be
pruned, and how each discussion session was attended.

Every list here looks back from `until_day` ("today") over the whole stored history up to it, not
only the report period: someone who last spoke before `since` is still "silent for 40 days". The
period chooses which events are listed (leaves in it, sessions in it, prune days in it).
Members are non-bot accounts whose role is not owner/admin/operator: the operator is the one
who follows up, not someone to follow up. Exact definitions: docs/metrics/followup.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import OPERATOR_ROLES, Base
from shequn.analytics.features import member_day
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.analytics.windows import (
    latest_sessions,
    present_at,
    session_messages,
    sessions,
)
from shequn.errors import InputError

# -- shared pieces ------------------------------------------------------------------------------


def _activity(b: Base) -> ir.Table:
    """(community_id, account_id, day, messages) over all history up to `until_day`."""
    md = b.raw.get("member_day_all")
    if md is None:
        md = member_day(b.raw["message_f"])
    md = md.filter(md.day <= b.until_day)
    return md.select("community_id", "account_id", "day", "messages")


def _last_spoke(b: Base) -> ir.Table:
    """(community_id, account_id, last_active_day): the last day each account spoke up to today."""
    md = _activity(b)
    return md.group_by(["community_id", "account_id"]).agg(last_active_day=md.day.max())


def _members_now(b: Base) -> ir.Table:
    """Members in their group at the end of `until_day`, with names and the current join day."""
    s = b.members_on(b.until_day)
    s = s.filter(~s.role.isin(OPERATOR_ROLES))
    names = b.accounts.select("account_id", "display_name")
    j = s.join(names, "account_id")
    groups = b.communities.select("community_id", "name")
    j = j.join(groups, "community_id")
    return j.select("community_id", "name", "account_id", "person_id", "display_name", "join_day")


def _with_last_spoke(b: Base, t: ir.Table) -> ir.Table:
    """`t` (community_id, account_id, …) with last_active_day (null: never spoke)."""
    last = _last_spoke(b).rename(l_c="community_id", l_a="account_id")
    j = t.left_join(last, [t.community_id == last.l_c, t.account_id == last.l_a])
    return j.drop("l_c", "l_a")


def _positive(p: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if p[name] < 1:
            raise InputError(f"must be at least 1, got {p[name]}", field=f"param {name}")


def _zh(lang: str) -> bool:
    return lang == "zh"


# -- leavers (R10) ------------------------------------------------------------------------------


def _leavers(b: Base, p: Mapping[str, Any]) -> ir.Table:
    s = b.spells
    s = s.filter(~s.is_bot & (s.left_day >= b.since_day) & (s.left_day <= b.until_day))
    f = b.raw["message_f"]
    f = f.filter(f.account_id.notnull()).select(
        m_c="community_id", m_a="account_id", m_id="id", m_epoch="epoch", m_day="day"
    )
    # a spell's messages: sent by the account in the group between joining and leaving
    in_spell = [
        s.community_id == f.m_c,
        s.account_id == f.m_a,
        # no OR here: it would turn the join into a nested loop (measured: > 150 s at 10M)
        f.m_epoch >= s.joined_epoch.fill_null(-(2**62)),
        f.m_epoch <= s.left_epoch,
    ]
    j = s.left_join(f, in_spell)
    latest = [ibis.desc(j.m_epoch), ibis.desc(j.m_id)]
    j = j.mutate(
        rank=ibis.row_number().over(group_by=j.spell_id, order_by=latest),
        n=j.m_id.count().over(group_by=j.spell_id),
    )
    j = j.filter(j["rank"] == 0)
    j = j.join(b.accounts.select("account_id", "display_name"), "account_id")
    j = j.join(b.communities.select("community_id", "name"), "community_id")
    return j.select(
        community_id=j.community_id,
        name=j.name,
        account_id=j.account_id,
        person_id=j.person_id,
        display_name=j.display_name,
        joined_day=j.join_day.cast("int64"),
        left_day=j.left_day.cast("int64"),
        left_reason=j.left_reason,
        days_in_group=(j.left_day - j.join_day).cast("int64"),
        messages_in_spell=j.n.cast("int64"),
        last_active_day=j.m_day.cast("int64"),
        last_message_id=j.m_id.cast("int64"),
        inviter_account_id=j.inviter_account_id.cast("int64"),
        spell_id=j.spell_id.cast("int64"),
    )


def _leaver_why(row: Row, lang: str) -> str:
    removed = row["left_reason"] == "remove"
    days, last = row["days_in_group"], row["last_active_day"]
    if _zh(lang):
        stay = "在记录开始前入群，" if days is None else f"入群 {days} 天后"
        out = stay + ("被移出" if removed else "主动退出")
        if last is None:
            return out + "，从未发言"
        gap = row["left_day"] - last
        return out + ("，当天还发过言" if gap == 0 else f"，最后发言在 {gap} 天前")
    out = "removed" if removed else "left on their own"
    out += " (member since before the history)" if days is None else f" after {days} days"
    if last is None:
        return out + "; never spoke"
    gap = row["left_day"] - last
    return out + ("; spoke on the day they left" if gap == 0 else f"; last spoke {gap} days before")


register(
    Metric(
        name="leavers",
        subject="member",
        zh="退群名单",
        en="Leavers",
        description_zh="本时段内退群或被移出的成员：何时入群、待了多久、发言多少、最后一次发言，"
        "用于私下询问原因、尝试挽回。同一人两次退群记两行。",
        description_en="Members who left or were removed in the period: when they joined, how "
        "long they stayed, how much they said and when they last spoke — the list to follow up "
        "privately. Someone who left twice has two rows.",
        compute=_leavers,
        order_by=("community_id", "left_day", "account_id", "spell_id"),
        why=_leaver_why,
        tags=("R10",),
    )
)

# -- slipping members (R10) ---------------------------------------------------------------------


def _slipping(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _positive(p, "quiet_days", "lookback_days", "min_active_days")
    m = _with_last_spoke(b, _members_now(b))
    m = m.filter(m.last_active_day.notnull() & (b.until_day - m.last_active_day >= p["quiet_days"]))
    md = _activity(b).rename(a_c="community_id", a_a="account_id", a_day="day")
    # the activity of the `lookback_days` days ending on the last day they spoke
    j = m.join(
        md,
        [
            m.community_id == md.a_c,
            m.account_id == md.a_a,
            md.a_day > m.last_active_day - p["lookback_days"],
        ],
    )
    keys = ["community_id", "name", "account_id", "person_id", "display_name", "last_active_day"]
    g = j.group_by(keys).agg(
        active_days_before=j.a_day.nunique().cast("int64"),
        messages_before=j.messages.sum().cast("int64"),
    )
    g = g.filter(g.active_days_before >= p["min_active_days"])
    return g.mutate(
        last_active_day=g.last_active_day.cast("int64"),
        days_quiet=(b.until_day - g.last_active_day).cast("int64"),
    ).relocate("days_quiet", after="last_active_day")


def _slipping_why(row: Row, lang: str) -> str:
    if _zh(lang):
        return (
            f"此前活跃 {row['active_days_before']} 天（{row['messages_before']} 条），"
            f"已 {row['days_quiet']} 天未发言"
        )
    return (
        f"active on {row['active_days_before']} days ({row['messages_before']} messages), "
        f"then silent for {row['days_quiet']} days"
    )


register(
    Metric(
        name="slipping_members",
        subject="member",
        zh="渐冷成员",
        en="Slipping members",
        description_zh="仍在群内、曾经活跃（沉默前 30 天内至少 3 天发言）但已连续 14 天以上未发言"
        "的成员。",
        description_en="Members still in the group who were active (spoke on at least 3 of the "
        "30 days before going quiet) and have not spoken for 14 days or more.",
        compute=_slipping,
        order_by=("community_id", "days_quiet", "account_id"),
        params=(
            Param("quiet_days", 14, "连续未发言天数", "days without a message"),
            Param("lookback_days", 30, "沉默前回看天数", "days looked back before going quiet"),
            Param("min_active_days", 3, "回看期内最少活跃天数", "active days needed in them"),
        ),
        why=_slipping_why,
        tags=("R10",),
    )
)

# -- silent members (R12) -----------------------------------------------------------------------


def _last_session_flags(b: Base) -> ir.Table:
    """(community_id, account_id, silent_in_last_session) for members present at the latest
    session of their group; groups without a session in the period have no rows."""
    latest = latest_sessions(b)
    pres = present_at(b, latest).select("community_id", "account_id")
    msgs = b.raw["message_f"].filter(lambda f: (f.day >= b.since_day) & (f.day <= b.until_day))
    spoke = session_messages(msgs, latest).select(sp_c="community_id", sp_a="account_id")
    spoke = spoke.distinct()
    j = pres.left_join(spoke, [pres.community_id == spoke.sp_c, pres.account_id == spoke.sp_a])
    return j.select(f_c=j.community_id, f_a=j.account_id, silent_in_last_session=j.sp_a.isnull())


def _silent(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _positive(p, "silent_days")
    m = _with_last_spoke(b, _members_now(b))
    m = m.filter(m.last_active_day.isnull() | (m.last_active_day <= b.until_day - p["silent_days"]))
    flags = _last_session_flags(b)
    has = latest_sessions(b).select(h_c="community_id").distinct()
    m = m.left_join(flags, [m.community_id == flags.f_c, m.account_id == flags.f_a])
    m = m.left_join(has, m.community_id == has.h_c)
    in_last = ibis.ifelse(
        m.h_c.notnull(), m.silent_in_last_session.fill_null(False), ibis.null("boolean")
    )
    return m.select(
        "community_id",
        "name",
        "account_id",
        "person_id",
        "display_name",
        joined_day=m.join_day.cast("int64"),
        last_active_day=m.last_active_day.cast("int64"),
        days_since_last_message=(b.until_day - m.last_active_day).cast("int64"),
        silent_in_last_session=in_last.cast("boolean"),
    )


def _silent_why(row: Row, lang: str) -> str:
    days, last_session = row["days_since_last_message"], row["silent_in_last_session"]
    if _zh(lang):
        out = "从未发言" if days is None else ("今天未发言" if days == 1 else f"已 {days} 天未发言")
        return out + ("；最近一次讨论在群但未发言" if last_session else "")
    out = "never spoke" if days is None else f"no message for {days} days"
    if days == 1:
        out = "no message today (last spoke yesterday)"
    return out + ("; silent in the latest discussion" if last_session else "")


register(
    Metric(
        name="silent_members",
        subject="member",
        zh="沉默成员",
        en="Silent members",
        description_zh="截至今天仍在群内、最近 N 天（默认 7；1 即今天）没有发言的成员，附上次发言"
        "距今天数；有讨论时段的群另标出最近一次讨论在群却未发言者，便于 @ 他们。",
        description_en="Members in the group today who have not spoken in the last N days "
        "(default 7; 1 means today), with days since their last message; in groups with "
        "discussion windows, also whether they were silent in the latest session — to @ them.",
        compute=_silent,
        order_by=("community_id", "account_id"),
        params=(
            Param("silent_days", 7, "未发言天数（1 = 今天）", "days without a message (1 = today)"),
        ),
        why=_silent_why,
        tags=("R12",),
    )
)

# -- prune candidates (R13) ---------------------------------------------------------------------


def _days_in_month(month: ir.IntegerValue) -> ir.IntegerValue:
    """Days in a month given as year*12 + month - 1, in integer arithmetic every engine shares."""
    year, mo = month // 12, month % 12 + 1
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return ibis.cases(
        (mo == 2, ibis.ifelse(leap, 29, 28)),
        (mo.isin([4, 6, 9, 11]), 30),
        else_=31,
    ).cast("int64")


def _prune_days(b: Base, prune_day: int) -> ir.Table:
    """One row per month whose prune day (the `prune_day`th, or the month's last day if it is
    shorter) lies in the period: month_idx, month 'YYYY-MM', prune_date, p_day."""
    c = b.calendar
    c = c.filter(c.dom == ibis.least(ibis.literal(prune_day), _days_in_month(c.month)))
    return c.select(
        month_idx=c.month.cast("int64"),
        month=c.date.substr(0, 7),
        prune_date=c.date,
        p_day=c.day.cast("int64"),
    )


def _opportunities(b: Base, pdays: ir.Table, first_day: int) -> ir.Table:
    """community_id, month_idx, kind, opp_day, last_day, start_minute, end_minute:
    the sessions of groups with windows, else the weeks starting on a Monday, from the 1st of
    each month (or the group's first message) to its prune day."""
    keyed = pdays.select(pk="month_idx", pd="p_day")
    s = sessions(b, first_day, b.until_day)
    s = s.join(keyed, [s.month == keyed.pk, s.day <= keyed.pd])
    sess = s.select(
        "community_id",
        month_idx=s.month,
        kind=ibis.literal("session"),
        opp_day=s.day,
        last_day=s.day,
        start_minute=s.start_minute,
        end_minute=s.end_minute,
    )
    cal = b.raw["calendar"]
    mondays = cal.filter((cal.weekday == 0) & (cal.day >= first_day) & (cal.day <= b.until_day))
    mondays = mondays.join(keyed, [mondays.month == keyed.pk, mondays.day <= keyed.pd])
    has = b.windows.select(w_c="community_id").distinct()
    groups = b.communities.select("community_id")
    groups = groups.anti_join(has, groups.community_id == has.w_c)
    w = groups.cross_join(mondays)
    weeks = w.select(
        "community_id",
        month_idx=w.month.cast("int64"),
        kind=ibis.literal("week"),
        opp_day=w.day.cast("int64"),
        last_day=ibis.least(w.day + 6, w.pd).cast("int64"),
        start_minute=ibis.literal(0, "int64"),
        end_minute=ibis.literal(1440, "int64"),
    )
    # judged only from the group's first stored message on: nothing is known before it
    md = _activity(b)
    start = md.group_by(h_c=md.community_id).agg(h_day=md.day.min())
    opps = sess.union(weeks)
    return opps.join(start, [opps.community_id == start.h_c, opps.opp_day >= start.h_day]).drop(
        "h_c", "h_day"
    )


def _attended(b: Base, opps: ir.Table, first_day: int) -> ir.Table:
    """Distinct (community_id, opp_day, start_minute, account_id) of members who took part."""
    f = b.raw["message_f"]
    f = f.filter((f.day >= first_day) & (f.day <= b.until_day) & f.account_id.notnull())
    m = f.select(m_c="community_id", m_a="account_id", m_day="day", m_min="minute_of_day")
    m = m.mutate(m_week=(m.m_day + 3) // 7)
    # the week is an equality key the engines can hash on; the ranges then pick the opportunity
    j = opps.join(
        m,
        [
            opps.community_id == m.m_c,
            ((opps.opp_day + 3) // 7) == m.m_week,
            m.m_day >= opps.opp_day,
            m.m_day <= opps.last_day,
            m.m_min >= opps.start_minute,
            m.m_min < opps.end_minute,
        ],
    )
    return j.select(
        a_c=j.community_id, a_d=j.opp_day, a_s=j.start_minute, a_a=j.m_a, took_part=True
    ).distinct()


def _prune(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _positive(p, "prune_day", "min_missed")
    if p["prune_day"] > 31:
        raise InputError(f"must be 1..31, got {p['prune_day']}", field="param prune_day")
    from shequn.analytics.zones import day_date, day_number

    since = day_date(b.since_day)
    first_day = day_number(since.replace(day=1))
    pdays = _prune_days(b, p["prune_day"])
    groups = b.communities.select("community_id", "name")
    events = groups.cross_join(pdays).mutate(day=lambda t: t.p_day)
    present = present_at(b, events)
    opps = _opportunities(b, pdays, first_day)
    o = opps.rename(o_c="community_id", o_m="month_idx")
    # only the sessions/weeks that begin after the day the member joined
    mo = present.join(
        o,
        [
            present.community_id == o.o_c,
            present.month_idx == o.o_m,
            present.join_day.isnull() | (o.opp_day > present.join_day),
        ],
    )
    att = _attended(b, opps, first_day)
    mo = mo.left_join(
        att,
        [
            mo.community_id == att.a_c,
            mo.start_minute == att.a_s,
            mo.opp_day == att.a_d,
            mo.account_id == att.a_a,
        ],
    )
    keys = ["community_id", "name", "month", "prune_date", "account_id", "person_id", "kind"]
    g = mo.group_by(keys).agg(
        opportunities=mo.count().cast("int64"),
        attended=mo.took_part.notnull().cast("int64").sum().cast("int64"),
    )
    g = g.mutate(missed=(g.opportunities - g.attended).cast("int64"))
    g = g.filter(g.missed >= p["min_missed"])
    g = g.join(b.accounts.select("account_id", "display_name"), "account_id")
    return g.select(
        "community_id",
        "name",
        "month",
        prune_day=g.prune_date,
        account_id=g.account_id,
        person_id=g.person_id,
        display_name=g.display_name,
        participation=g.kind,
        opportunities=g.opportunities,
        attended=g.attended,
        missed=g.missed,
    )


def _prune_why(row: Row, lang: str) -> str:
    n, missed = row["opportunities"], row["missed"]
    if row["participation"] == "week":
        if _zh(lang):
            return f"本月 {n} 周中有 {missed} 周未发言"
        return f"silent in {missed} of {n} weeks this month"
    if _zh(lang):
        return f"本月 {n} 次讨论缺席 {missed} 次"
    return f"missed {missed} of {n} discussions this month"


register(
    Metric(
        name="prune_candidates",
        subject="member",
        zh="待清理成员",
        en="Prune candidates",
        description_zh="每月清理日（默认 15 号）仍在群内、本月 1 号至清理日缺席至少 3 次的成员："
        "有讨论时段的群按讨论场次计，否则按周（当月清理日前开始的周一起算的周）计；"
        "入群后的场次/周才计入。只列名单，移出须运营确认。",
        description_en="Members in the group on each month's prune day (default the 15th) who "
        "missed at least 3 participations from the 1st to that day: discussion sessions if the "
        "group has windows, else weeks (Monday-based weeks starting in the month on or before "
        "the prune day); only those after joining count. A list to confirm, never a removal.",
        compute=_prune,
        order_by=("community_id", "month", "account_id"),
        params=(
            Param("prune_day", 15, "每月清理日", "day of the month to prune on"),
            Param("min_missed", 3, "最少缺席次数", "missed participations to be listed"),
        ),
        why=_prune_why,
        tags=("R13",),
    )
)
