"""Core users (R4): the 2/8 rule per group and over the program, with the operator's product data.

The rule, exactly (docs/metrics/core.md): rank a group's speakers by UGC messages in the
period, most first, ties by the smaller account id; walking down the ranking, a speaker is in
the core set when the messages of everyone ranked before them make LESS than `share` of the
group's UGC. So the set is the smallest top of the ranking whose messages reach `share`
(50/30/10/5/5 → the first two: 0 and 50% are below 80%, 80% is not).

The comparison is made on integers (messages × 10000 against the share in basis points), so
every engine draws the line at the same member; a share with more than four decimals is
rounded to four.

Product thresholds (`min_*`, 0 = not used) come from `shequn import-attributes`; `mode` says
how they combine with the rule: "activity" (the rule only), "product" (the thresholds only:
every threshold set must be met) or "both".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.errors import InputError

MODES = ("activity", "product", "both")
# product attribute -> the parameter giving its threshold
THRESHOLDS = (
    ("usage_frequency", "min_usage_frequency"),
    ("usage_minutes", "min_usage_minutes"),
    ("payments", "min_payments"),
    ("orders", "min_orders"),
)
SHARE = Param("share", 0.8, "核心成员合计贡献的发言占比（2/8 法则的 80%）", "share of activity")
RULE_PARAMS = (
    SHARE,
    Param("mode", "activity", "activity / product / both", "activity / product / both"),
    Param("min_usage_frequency", 0.0, "每周使用次数至少（0 = 不用）", "min uses per week (0: off)"),
    Param("min_usage_minutes", 0.0, "每周使用分钟至少（0 = 不用）", "min minutes/week (0: off)"),
    Param("min_payments", 0.0, "付费金额至少（0 = 不用）", "min amount paid (0: off)"),
    Param("min_orders", 0, "订单数至少（0 = 不用）", "min number of orders (0: off)"),
)


# -- the pieces ---------------------------------------------------------------------------------
def _basis_points(value: float, name: str) -> int:
    """A share in (0, 1] as whole basis points, so the cut is integer arithmetic everywhere."""
    if not 0 < value <= 1:
        raise InputError(f"expected a share in (0, 1], got {value}", field=f"param {name}")
    return round(value * 10000)


def _mode(p: Mapping[str, Any]) -> str:
    mode = p["mode"]
    if mode not in MODES:
        raise InputError(f"expected one of {', '.join(MODES)}, got {mode!r}", field="param mode")
    if mode == "product" and not any(p[param] > 0 for _, param in THRESHOLDS):
        raise InputError(
            "mode product needs at least one threshold (min_usage_frequency, "
            "min_usage_minutes, min_payments or min_orders)",
            field="param mode",
        )
    return mode


def ugc_by_account(b: Base) -> ir.Table:
    """UGC messages per (group, account) in the period: no bots, operators or system lines."""
    m = b.messages.filter(b.messages.is_ugc)
    return m.group_by(["community_id", "account_id"]).agg(messages=m.count().cast("int64"))


def _candidates(b: Base, mode: str) -> ir.Table:
    """(community_id, account_id, messages): the speakers, and for the product thresholds also
    the members at the end of the period who did not speak (a paying lurker can be core)."""
    speakers = ugc_by_account(b)
    if mode == "activity":
        return speakers
    members = b.members_on(b.until_day).select("community_id", "account_id")
    # an operator anywhere in a group's history is not a member there (as for is_ugc)
    members = members.anti_join(b.operators, ["community_id", "account_id"])
    keys = members.union(speakers.select("community_id", "account_id"), distinct=True)
    j = keys.left_join(
        speakers,
        [keys.community_id == speakers.community_id, keys.account_id == speakers.account_id],
    )
    return j.select("community_id", "account_id", messages=j.messages.fill_null(0).cast("int64"))


def _ranked(t: ir.Table, key: str, part: list[str], share: float) -> ir.Table:
    """`t` (key, messages, …) ranked within `part` by messages desc then `key`, with the share
    of the partition's messages, the running share, and `by_activity` (in the 2/8 set)."""
    group = part or None
    w = ibis.window(group_by=group, order_by=[ibis.desc("messages"), key], rows=(None, 0))
    whole = ibis.window(group_by=group)
    total = t.messages.sum().over(whole).cast("int64")
    cum = t.messages.sum().over(w).cast("int64")
    t = t.mutate(
        rank=(ibis.row_number().over(w) + 1).cast("int64"),
        speakers=(t.messages > 0).cast("int64").sum().over(whole).cast("int64"),
        total=total,
        cum=cum,
    )
    bp = _basis_points(share, SHARE.name)
    denominator = t.total.nullif(0)
    return t.mutate(
        share=(t.messages / denominator).fill_null(0.0).round(4).cast("float64"),
        cumulative_share=(t.cum / denominator).fill_null(0.0).round(4).cast("float64"),
        by_activity=(t.messages > 0) & ((t.cum - t.messages) * 10000 < bp * t.total),
    )


def _with_attributes(t: ir.Table, b: Base) -> ir.Table:
    a = b.attributes.select(
        a_person="person_id",
        usage_frequency=b.attributes.usage_frequency.cast("float64"),
        usage_minutes=b.attributes.usage_minutes.cast("float64"),
        payments=b.attributes.payments.cast("float64"),
        orders=b.attributes.orders.cast("int64"),
    )
    return t.left_join(a, t.person_id == a.a_person).drop("a_person")


def _selected(t: ir.Table, p: Mapping[str, Any]) -> ir.Table:
    """Rows chosen by `mode`, with `reasons`: every criterion in use that the row meets."""
    mode = _mode(p)
    checks = [
        (col, (t[col] >= p[param]).fill_null(False)) for col, param in THRESHOLDS if p[param] > 0
    ]
    product = ibis.literal(True)
    for _, ok in checks:
        product = product & ok
    chosen = {"activity": t.by_activity, "product": product, "both": t.by_activity & product}
    reasons = ibis.ifelse(t.by_activity, ";activity", "")
    for col, ok in checks:
        reasons = reasons + ibis.ifelse(ok, f";{col}", "")
    t = t.mutate(reasons=reasons.substr(1))  # drop the leading ";"
    return t.filter(chosen[mode])


# -- core_members ---------------------------------------------------------------------------
def _core_members(b: Base, p: Mapping[str, Any]) -> ir.Table:
    t = _candidates(b, _mode(p))
    t = _ranked(t, "account_id", ["community_id"], p["share"])
    a = b.accounts.select("account_id", "person_id", "display_name")
    t = t.join(a, "account_id")
    c = b.communities.select("community_id", "name")
    t = _selected(_with_attributes(t.join(c, "community_id"), b), p)
    return t.select(
        "community_id",
        "name",
        "account_id",
        "person_id",
        "display_name",
        "messages",
        share_of_group="share",
        cumulative_share="cumulative_share",
        rank="rank",
        group_members_speaking="speakers",
        usage_frequency="usage_frequency",
        usage_minutes="usage_minutes",
        payments="payments",
        orders="orders",
        reasons="reasons",
    )


def _amount(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.2f}"


_PRODUCT_WHY = {
    "usage_frequency": ("每周使用 {} 次", "uses it {} times a week"),
    "usage_minutes": ("每周使用 {} 分钟", "{} minutes of use a week"),
    "payments": ("付费 ¥{}", "paid {}"),
    "orders": ("订单 {} 笔", "{} orders"),
}


def _product_why(row: Row, zh: bool) -> list[str]:
    reasons = str(row["reasons"]).split(";")
    return [
        _PRODUCT_WHY[col][0 if zh else 1].format(_amount(row[col]))
        for col, _ in THRESHOLDS
        if col in reasons and row[col] is not None
    ]


def _why_member(row: Row, lang: str) -> str:
    zh = lang == "zh"
    n, share, cum = row["messages"], row["share_of_group"], row["cumulative_share"]
    place = f"{row['rank']}/{row['group_members_speaking']}"
    if "activity" in str(row["reasons"]).split(";"):
        head = (
            f"核心发言者（第 {place} 名，累计 {cum:.0%}）：发言 {n} 条，占本群 {share:.0%}"
            if zh
            else f"core speaker (#{place}, {cum:.0%} cumulative): "
            f"{n} messages, {share:.0%} of the group"
        )
    else:
        head = (
            f"发言 {n} 条，占本群 {share:.0%}" if zh else f"{n} messages, {share:.0%} of the group"
        )
    return ("；" if zh else "; ").join([head, *_product_why(row, zh)])


register(
    Metric(
        name="core_members",
        subject="member",
        zh="核心成员",
        en="Core members",
        description_zh="每个群贡献 80% 发言的最少成员（2/8 法则），可结合产品数据门槛（使用频率、"
        "时长、付费、订单）；发言只计成员的 UGC，不含运营者和机器人。",
        description_en="Per group, the fewest members producing 80% of the UGC (the 2/8 rule), "
        "optionally combined with thresholds on the operator's product data.",
        compute=_core_members,
        order_by=("community_id", "rank"),
        params=RULE_PARAMS,
        why=_why_member,
        tags=("R4",),
    )
)


# -- core_members_overall -------------------------------------------------------------------
def _person_names(ugc: ir.Table) -> ir.Table:
    """A person's name: that of their account with the most UGC (ties: the smaller id)."""
    per = ugc.group_by(["person_id", "account_id", "display_name"]).agg(
        n=ugc.messages.sum().cast("int64")
    )
    w = ibis.window(group_by="person_id", order_by=[ibis.desc("n"), "account_id"])
    per = per.mutate(pick=ibis.row_number().over(w))
    return per.filter(per.pick == 0).select(n_person="person_id", display_name="display_name")


def _core_members_overall(b: Base, p: Mapping[str, Any]) -> ir.Table:
    a = b.accounts.select("account_id", "person_id", "display_name")
    ugc = _candidates(b, _mode(p)).join(a, "account_id")
    t = ugc.group_by("person_id").agg(
        messages=ugc.messages.sum().cast("int64"),
        groups=(ugc.messages > 0).ifelse(ugc.community_id, None).nunique().cast("int64"),
    )
    t = _ranked(t, "person_id", [], p["share"])
    names = _person_names(ugc)
    t = t.join(names, t.person_id == names.n_person).drop("n_person")
    t = _selected(_with_attributes(t, b), p)
    return t.select(
        "person_id",
        "display_name",
        "messages",
        "groups",
        "share",
        "cumulative_share",
        "rank",
        program_members_speaking="speakers",
        usage_frequency="usage_frequency",
        usage_minutes="usage_minutes",
        payments="payments",
        orders="orders",
        reasons="reasons",
    )


def _why_overall(row: Row, lang: str) -> str:
    zh = lang == "zh"
    n, share, cum, g = row["messages"], row["share"], row["cumulative_share"], row["groups"]
    place = f"{row['rank']}/{row['program_members_speaking']}"
    if "activity" in str(row["reasons"]).split(";"):
        head = (
            f"全项目核心发言者（第 {place} 名，累计 {cum:.0%}）：在 {g} 个群发言 {n} 条，"
            f"占全部 {share:.0%}"
            if zh
            else f"core speaker of the program (#{place}, {cum:.0%} cumulative): "
            f"{n} messages in {g} groups, {share:.0%} of all"
        )
    else:
        head = f"在 {g} 个群发言 {n} 条" if zh else f"{n} messages in {g} groups"
    return ("；" if zh else "; ").join([head, *_product_why(row, zh)])


register(
    Metric(
        name="core_members_overall",
        subject="member",
        zh="全项目核心成员",
        en="Core members of the program",
        description_zh="所有群合计贡献 80% 发言的最少的人（关联账号合并为一人），"
        "可结合产品数据门槛。",
        description_en="Over all groups, the fewest people (linked accounts summed) producing "
        "80% of the UGC, optionally combined with product-data thresholds.",
        compute=_core_members_overall,
        order_by=("rank",),
        params=RULE_PARAMS,
        why=_why_overall,
        tags=("R4",),
    )
)


# -- core_concentration ---------------------------------------------------------------------
def _core_concentration(b: Base, p: Mapping[str, Any]) -> ir.Table:
    t = _ranked(ugc_by_account(b), "account_id", ["community_id"], p["share"])
    top = _basis_points(p["top"], "top")
    # ceil(top × speakers) in integers: the top 20% of 5 speakers is 1, of 6 it is 2
    k = (t.speakers * top + 9999) // 10000
    per = t.group_by("community_id").agg(
        speakers=t.speakers.max().cast("int64"),
        messages=t.messages.sum().cast("int64"),
        core_count=t.by_activity.cast("int64").sum().cast("int64"),
        top_messages=(t.rank <= k).ifelse(t.messages, 0).sum().cast("int64"),
    )
    c = b.communities
    j = c.left_join(per, c.community_id == per.community_id)
    speakers = j.speakers.fill_null(0)
    return j.select(
        c.community_id,
        c.name,
        speakers=speakers.cast("int64"),
        messages=j.messages.fill_null(0).cast("int64"),
        core_count=j.core_count.fill_null(0).cast("int64"),
        core_share_of_speakers=(j.core_count / speakers.nullif(0))
        .fill_null(0.0)
        .round(4)
        .cast("float64"),
        top20_share=(j.top_messages / j.messages.nullif(0)).fill_null(0.0).round(4).cast("float64"),
    )


def _why_concentration(row: Row, lang: str) -> str:
    if not row["speakers"]:
        return "本期无人发言" if lang == "zh" else "nobody spoke in the period"
    core, n, s = row["core_count"], row["speakers"], row["core_share_of_speakers"]
    top = row["top20_share"]
    if lang == "zh":
        return f"核心发言者 {core}/{n} 人（{s:.0%}）；头部发言者贡献 {top:.0%} 的发言"
    return f"{core} of {n} speakers are the core ({s:.0%}); the top speakers made {top:.0%}"


register(
    Metric(
        name="core_concentration",
        subject="group",
        zh="发言集中度",
        en="Concentration of activity",
        description_zh="每个群：发言人数、贡献 80% 发言的核心人数及其占发言者比例、"
        "前 20% 发言者的发言占比。",
        description_en="Per group: speakers, how many make 80% of the UGC and what share of "
        "the speakers that is, and the share of UGC from the top 20% of speakers.",
        compute=_core_concentration,
        order_by=("community_id",),
        params=(SHARE, Param("top", 0.2, "头部发言者比例", "share of top speakers")),
        why=_why_concentration,
        tags=("R4",),
    )
)
