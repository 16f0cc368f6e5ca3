"""Rituals (issue 4 §5): do newcomers introduce themselves soon after joining?

`newcomer_intros` lists every membership spell that began in the period (bots and operators are
not newcomers) with the hours from joining to the member's first self-introduction and to their
first message at all; `intro_rate` sums it up per group. Self-introductions are the enrichment
step's `is_intro` label (`Base.signals`, `text.rituals.detect_self_intro`); join times come from
the spells. Hours are worked out in whole seconds and rounded half up in integer arithmetic, so
every engine prints the same tenth. Exact definitions: docs/metrics/rituals.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import OPERATOR_ROLES, Base
from shequn.analytics.metrics.connections import CID, ratio
from shequn.analytics.metrics.groups import with_iso_date
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.errors import InputError

SECONDS_PER_HOUR = 3600
FAR_FUTURE = 2**62  # the left_epoch of a spell still running


def _check(p: Mapping[str, Any]) -> None:
    if float(p["intro_hours"]) <= 0:
        raise InputError("must be more than 0", field="param intro_hours")


def _joiners(b: Base) -> ir.Table:
    """Spells of non-bot, non-operator accounts that began in the period."""
    s = b.spells
    s = s.filter(
        ~s.is_bot.fill_null(False)
        & s.join_day.between(b.since_day, b.until_day)
        & ~s.role.isin(OPERATOR_ROLES)
    )
    return s.anti_join(b.operators, [CID, "account_id"])


def _first_after_join(spells: ir.Table, events: ir.Table, name: str) -> ir.Table:
    """(f_spell, `name`): seconds from each spell's join to its account's first event in the
    group during the spell (events: community_id, account_id, epoch); spells without one are
    not in the result."""
    e = events.select(e_cid=CID, e_aid="account_id", e_epoch="epoch")
    s = spells.select("spell_id", CID, "account_id", "joined_epoch", "left_epoch")
    during = [
        s[CID] == e.e_cid,
        s.account_id == e.e_aid,
        e.e_epoch >= s.joined_epoch,
        # no OR: it would turn the join into a nested loop (see followup._leavers)
        e.e_epoch <= s.left_epoch.fill_null(FAR_FUTURE),
    ]
    j = s.join(e, during)
    first = j.group_by([j.spell_id.name("f_spell"), j.joined_epoch.name("f_at")]).agg(
        f_epoch=j.e_epoch.min()
    )
    return first.select("f_spell", **{name: (first.f_epoch - first.f_at).cast("int64")})


def _tenths(seconds: ir.IntegerValue) -> ir.FloatingValue:
    """Hours to one decimal, half up, from whole seconds (360 s to a tenth)."""
    return ((seconds + 180) // 360).cast("float64") / 10.0


def _spell_figures(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Each newcomer spell with intro_s and first_s (seconds from joining; null: none)."""
    s = _joiners(b)
    f = b.raw["message_f"]
    f = f.filter(
        (f.day >= b.since_day)
        & (f.day <= b.until_day)
        & f.account_id.notnull()
        & (f.kind != "system")
    )
    intros = b.signals.filter(b.signals.is_intro)
    for events, name in ((intros, "intro_s"), (f, "first_s")):
        first = _first_after_join(s, events.select(CID, "account_id", "epoch"), name)
        s = s.left_join(first, s.spell_id == first.f_spell).drop("f_spell")
    window = float(p["intro_hours"]) * SECONDS_PER_HOUR
    return s.mutate(
        within=(s.intro_s.notnull() & (s.intro_s.cast("float64") <= window)).fill_null(False)
    )


def _newcomer_intros(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _check(p)
    s = _spell_figures(b, p)
    names = b.accounts.select(n_aid="account_id", display_name="display_name")
    s = s.left_join(names, s.account_id == names.n_aid).drop("n_aid")
    s = with_iso_date(s, "join_day", "join_date")
    return s.select(
        CID,
        "account_id",
        "person_id",
        "display_name",
        join_day=s.join_date,
        introduced=s.intro_s.notnull(),
        intro_hours=ibis.ifelse(s.intro_s.notnull(), _tenths(s.intro_s), ibis.null("float64")),
        within_window=s.within,
        first_message_hours=ibis.ifelse(
            s.first_s.notnull(), _tenths(s.first_s), ibis.null("float64")
        ),
        days_since_join=(b.until_day - s.join_day).cast("int64"),
        spell_id=s.spell_id.cast("int64"),
    )


def _hours(value: float) -> str:
    return f"{value:g}"


def _newcomer_why(row: Row, lang: str) -> str:
    zh = lang == "zh"
    hours = row["intro_hours"]
    if hours is not None:
        late = "" if row["within_window"] else ("（超出时限）" if zh else " (past the window)")
        if zh:
            return f"加入 {_hours(hours)} 小时后做了自我介绍{late}"
        return f"introduced themselves {_hours(hours)} h after joining{late}"
    days = row["days_since_join"]
    first = row["first_message_hours"]
    if zh:
        said = "，也未发言" if first is None else f"，加入 {_hours(first)} 小时后首次发言"
        return f"加入 {days} 天未自我介绍{said}"
    said = ", silent" if first is None else f"; first spoke {_hours(first)} h after joining"
    return f"no self-introduction {days} days after joining{said}"


def _median_seconds(s: ir.Table) -> ir.Table:
    """(m_cid, median_s2): twice the median of intro_s over each group's introduced spells
    (the sum of the middle one or two values), by row numbers so every engine agrees."""
    t = s.filter(s.intro_s.notnull())
    order = [t.intro_s, t.spell_id]
    t = t.mutate(
        rn=ibis.row_number().over(group_by=t[CID], order_by=order),
        n=t.count().over(group_by=t[CID]),
    )
    mid = t.filter((t.rn == (t.n - 1) // 2) | (t.rn == t.n // 2))
    g = mid.group_by(mid[CID].name("m_cid"))
    return g.agg(median_s2=(mid.intro_s.min() + mid.intro_s.max()).cast("int64"))


def _intro_rate(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _check(p)
    s = _spell_figures(b, p)
    counts = s.group_by(s[CID].name("k")).agg(
        joiners=s.count(), introduced_within=s.within.cast("int64").sum()
    )
    med = _median_seconds(s)
    g = b.communities.select(CID, "name")
    g = g.left_join(counts, g[CID] == counts.k).drop("k")
    g = g.left_join(med, g[CID] == med.m_cid).drop("m_cid")
    joiners = g.joiners.fill_null(0).cast("int64")
    within = g.introduced_within.fill_null(0).cast("int64")
    # median_s2 is twice the median: (2m + 360) // 720 is m in tenths of an hour, half up
    median = ((g.median_s2 + 360) // 720).cast("float64") / 10.0
    return g.select(
        CID,
        "name",
        joiners=joiners,
        introduced_within=within,
        intro_share=ratio(within, joiners),
        median_intro_hours=ibis.ifelse(g.median_s2.notnull(), median, ibis.null("float64")),
    )


def _rate_why(row: Row, lang: str) -> str:
    zh = lang == "zh"
    n, k = row["joiners"], row["introduced_within"]
    if not n:
        return "期间没有新成员加入" if zh else "no newcomers in the period"
    share = f"{row['intro_share'] * 100:.0f}%"
    median = row["median_intro_hours"]
    if zh:
        text = f"新成员 {n} 人，{k} 人按时自我介绍（{share}）"
        return text + (f"，中位用时 {_hours(median)} 小时" if median is not None else "")
    text = f"{k} of {n} newcomers introduced themselves in time ({share})"
    return text + (f"; median {_hours(median)} h after joining" if median is not None else "")


_WINDOW = Param(
    "intro_hours", 48, "加入后几小时内自我介绍算按时", "hours after joining an intro is in time"
)

register(
    Metric(
        name="newcomer_intros",
        subject="member",
        zh="新成员自我介绍",
        en="Newcomer introductions",
        description_zh="期间加入的每位新成员：加入后多久做了自我介绍、是否在时限内、多久首次发言。",
        description_en="Every member who joined in the period: hours from joining to their "
        "self-introduction, whether it was in time, and to their first message.",
        compute=_newcomer_intros,
        order_by=(CID, "join_day", "account_id", "spell_id"),
        params=(_WINDOW,),
        why=_newcomer_why,
    )
)

register(
    Metric(
        name="intro_rate",
        subject="group",
        zh="自我介绍率",
        en="Introduction rate",
        description_zh="每群期间加入的新成员中按时自我介绍的人数与比例，以及自我介绍用时的中位数。",
        description_en="Per group, how many of the period's newcomers introduced themselves in "
        "time, their share, and the median hours to an introduction.",
        compute=_intro_rate,
        order_by=(CID,),
        params=(_WINDOW,),
        why=_rate_why,
    )
)
