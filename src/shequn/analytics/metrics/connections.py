"""Connections between members (R6) and the lifecycle funnel (R9), per group and period.

`connections` counts how much members talk to each other rather than to the operators: replies
from member to member, questions answered by members or by operators, invitations. `funnel`
follows the members of a group through 加入 → 交流 → 产生好感 → 活跃 → 付费 → 反馈 → 拉人, each
step counting only members who passed every earlier one. Questions and feedback come from the
text labels (`Base.signals`). Exact definitions: docs/metrics/connections.md and funnel.md.

The reply and question helpers here are shared with `metrics.kol`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.registry import Metric, Param, Row, register

CID = "community_id"


def ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num/den rounded to 4 places; 0 when den is 0 (an empty group is not an error)."""
    # both sides float: PostgreSQL divides integers as integers
    return (
        (num.cast("float64") / den.cast("float64").nullif(0))
        .fill_null(0.0)
        .round(4)
        .cast("float64")
    )


def tag_account(b: Base, t: ir.Table, col: str, prefix: str) -> ir.Table:
    """`t` with `<prefix>_person`, `<prefix>_bot` and `<prefix>_op` for the account in `col`
    (its person, whether it is a bot, whether it is an operator of the row's group)."""
    a = b.accounts.select(
        **{f"{prefix}_aid": "account_id", f"{prefix}_person": "person_id"},
        **{f"{prefix}_bot": b.accounts.is_bot.fill_null(False)},
    )
    t = t.left_join(a, t[col] == a[f"{prefix}_aid"]).drop(f"{prefix}_aid")
    ops = b.operators.select(o_cid=CID, o_aid="account_id", o_flag=ibis.literal(True))
    t = t.left_join(ops, [t[CID] == ops.o_cid, t[col] == ops.o_aid]).drop("o_cid", "o_aid")
    t = t.mutate(**{f"{prefix}_op": t.o_flag.fill_null(False)}).drop("o_flag")
    return t.mutate(**{f"{prefix}_bot": t[f"{prefix}_bot"].fill_null(False)})


def replies(b: Base) -> ir.Table:
    """Replies of the period by a non-bot account to another person's message: the reply's
    group, id, day, author (account_id, person_id, is_operator), and the target's account,
    person (`to_person`), bot (`to_bot`) and operator (`to_op`) flags."""
    m = b.messages
    r = m.filter(
        m.account_id.notnull() & ~m.is_bot & m.reply_account_id.notnull() & (m.kind != "system")
    )
    r = r.select(
        CID,
        "id",
        "day",
        "epoch",
        "account_id",
        "person_id",
        "is_operator",
        "reply_to",
        to_account=r.reply_account_id,
    )
    r = tag_account(b, r, "to_account", "to")
    return r.filter(r.to_person.isnull() | (r.to_person != r.person_id))


def reactions(b: Base) -> ir.Table:
    """Reactions to messages of the period by a non-bot account to another person's message:
    group, reactor (account_id, person_id, `by_op`), target (`to_account`, `to_person`,
    `to_bot`, `to_op`) and `count`."""
    r = b.reactions.filter(b.reactions.account_id.notnull())
    r = r.select(CID, "account_id", "count", to_account=r.target_account_id)
    r = tag_account(b, r, "account_id", "by")
    r = tag_account(b, r, "to_account", "to").rename(person_id="by_person")
    return r.filter(~r.by_bot & r.to_account.notnull() & (r.to_person != r.person_id))


def answered_questions(b: Base) -> ir.Table:
    """Every reply of the period to a member's question, by someone else (not a bot): the
    question (q_id, q_account), the reply's author (account_id, person_id, is_operator) and
    `nth` (0 for the question's first such reply, by time then message id)."""
    s = b.signals
    q = s.filter(s.is_question & s.is_ugc).select(
        q_cid=CID,
        q_pmid="platform_msg_id",
        q_id="message_id",
        q_account="account_id",
        q_person="person_id",
    )
    r = replies(b)
    j = r.join(q, [r[CID] == q.q_cid, r.reply_to == q.q_pmid]).filter(r.person_id != q.q_person)
    nth = ibis.row_number().over(group_by=j.q_id, order_by=[j.epoch, j.id])
    return j.select(
        CID, "q_id", "q_account", "account_id", "person_id", "is_operator", nth=nth.cast("int64")
    )


# -- connections -------------------------------------------------------------------------------
def _ugc_counts(b: Base) -> ir.Table:
    m = b.messages.filter(b.messages.is_ugc)
    return m.group_by(m[CID].name("k")).agg(messages=m.count())


def _member_reply_counts(b: Base) -> ir.Table:
    r = replies(b)
    r = r.filter(~r.is_operator & ~r.to_bot & ~r.to_op)
    return r.group_by(r[CID].name("k")).agg(member_replies=r.count())


def _question_counts(b: Base) -> ir.Table:
    s = b.signals
    q = s.filter(s.is_question & s.is_ugc)
    return q.group_by(q[CID].name("k")).agg(questions=q.count())


def _answer_counts(b: Base) -> ir.Table:
    a = answered_questions(b)
    first = a.filter(a.nth == 0)
    return first.group_by(first[CID].name("k")).agg(
        answered_by_members=(~first.is_operator).cast("int64").sum(),
        answered_by_operators=first.is_operator.cast("int64").sum(),
    )


def _invitation_counts(b: Base) -> ir.Table:
    s = invitations(b)
    return s.group_by(s[CID].name("k")).agg(
        invitations=s.count(), inviters=s.inviter_account_id.nunique()
    )


def invitations(b: Base) -> ir.Table:
    """Non-bot spells that began in the period with a known inviter."""
    s = b.spells
    return s.filter(
        ~s.is_bot
        & s.inviter_account_id.notnull()
        & s.join_day.between(b.since_day, b.until_day)
        & (s.inviter_account_id != s.account_id)
    )


def _connections(b: Base, p: Mapping[str, Any]) -> ir.Table:
    t = b.communities.select(CID, "name")
    for part in (
        _ugc_counts(b),
        _member_reply_counts(b),
        _question_counts(b),
        _answer_counts(b),
        _invitation_counts(b),
    ):
        t = t.left_join(part, t[CID] == part.k).drop("k")
    n = {c: t[c].fill_null(0).cast("int64") for c in t.columns if c not in (CID, "name")}
    answered = n["answered_by_members"] + n["answered_by_operators"]
    return t.select(
        CID,
        "name",
        messages=n["messages"],
        member_replies=n["member_replies"],
        member_reply_share=ratio(n["member_replies"], n["messages"]),
        questions=n["questions"],
        answered_by_members=n["answered_by_members"],
        answered_by_operators=n["answered_by_operators"],
        unanswered=(n["questions"] - answered).cast("int64"),
        member_answer_share=ratio(n["answered_by_members"], answered),
        invitations=n["invitations"],
        inviters=n["inviters"],
    )


def _connections_why(row: Row, lang: str) -> str:
    pct = round(row["member_reply_share"] * 100, 1)
    if lang == "zh":
        return (
            f"成员发言 {row['messages']} 条，其中成员间回复 {row['member_replies']} 条（{pct}%）；"
            f"提问 {row['questions']} 个，成员解答 {row['answered_by_members']}、运营解答 "
            f"{row['answered_by_operators']}、未回复 {row['unanswered']}；邀请入群 "
            f"{row['invitations']} 人（{row['inviters']} 位邀请人）"
        )
    return (
        f"{row['messages']} member messages, {row['member_replies']} member-to-member replies "
        f"({pct}%); {row['questions']} questions: {row['answered_by_members']} answered by "
        f"members, {row['answered_by_operators']} by operators, {row['unanswered']} without a "
        f"reply; {row['invitations']} invited by {row['inviters']} members"
    )


# -- funnel ------------------------------------------------------------------------------------
STEPS = (
    ("joined", "加入", "Joined"),
    ("spoke", "交流", "Spoke"),
    ("got_response", "产生好感", "Got a response"),
    ("active", "活跃", "Active"),
    ("paid", "付费", "Paid"),
    ("feedback", "反馈", "Gave feedback"),
    ("invited", "拉人", "Invited someone"),
)


def _entrants(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """(community_id, person_id) of the funnel's first step: non-operator, non-bot members
    present at some time in the period (or, with `joined_in_period`, whose spell began in it);
    a speaker of the period without any spell counts as present (as in member_stats)."""
    s = tag_account(b, b.spells.filter(~b.spells.is_bot), "account_id", "a")
    s = s.filter(~s.a_op)
    if p["joined_in_period"]:
        s = s.filter(s.join_day.between(b.since_day, b.until_day))
        return s.select(CID, "person_id").distinct()
    s = s.filter(
        (s.join_day.isnull() | (s.join_day <= b.until_day))
        & (s.left_day.isnull() | (s.left_day >= b.since_day))
    )
    md = _speakers(b)
    anyone = b.spells.select(CID, "account_id")
    unlisted = md.anti_join(anyone, [CID, "account_id"]).select(CID, "person_id")
    return s.select(CID, "person_id").union(unlisted, distinct=True)


def _speakers(b: Base) -> ir.Table:
    """Member-days of the period of non-bot, non-operator accounts."""
    md = tag_account(b, b.member_day.filter(~b.member_day.is_bot), "account_id", "a")
    return md.filter(~md.a_op)


def _flagged(t: ir.Table, person: str = "person_id") -> ir.Table:
    """Distinct (k_cid, k_person) of `t`: the members a step's condition holds for."""
    return t.select(k_cid=t[CID], k_person=t[person]).distinct()


def _step_sets(b: Base, p: Mapping[str, Any]) -> list[ir.Table]:
    """The members meeting each step's own condition, steps 2…7 in order."""
    md = _speakers(b)
    days = md.group_by([CID, "person_id"]).agg(days=md.day.nunique())
    r = replies(b)
    x = reactions(b)
    got = _flagged(r, "to_person").union(_flagged(x, "to_person"), distinct=True)
    a = b.attributes
    paid = a.filter((a.payments.fill_null(0) > 0) | (a.orders.fill_null(0) > 0))
    paid_people = paid.select(p_person="person_id").distinct()
    s = b.signals
    inv = tag_account(b, invitations(b), "inviter_account_id", "inv")
    return [
        _flagged(md),
        got,
        _flagged(days.filter(days.days >= int(p["active_days"]))),
        paid_people,
        _flagged(s.filter(s.feedback.notnull() & ~s.is_bot)),
        _flagged(inv.filter(~inv.inv_bot), "inv_person"),
    ]


def _funnel_counts(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Per group: n1…n7, the members who passed every step up to each."""
    t = _entrants(b, p)
    for i, flags in enumerate(_step_sets(b, p), start=2):
        f = flags.rename(**{f"f{i}_{c}": c for c in flags.columns})
        keys = [f"f{i}_{c}" for c in flags.columns]
        if len(keys) == 1:  # paid: by person alone (product data is not per group)
            cond = [t.person_id == f[keys[0]]]
        else:
            cond = [t[CID] == f[keys[0]], t.person_id == f[keys[1]]]
        t = t.left_join(f, cond).mutate(**{f"s{i}": f[keys[-1]].notnull()}).drop(*keys)
    cumulative = t.person_id.notnull()  # every entrant: step 1
    sums = {}
    for i in range(1, len(STEPS) + 1):
        if i > 1:
            cumulative = cumulative & t[f"s{i}"]
        sums[f"n{i}"] = cumulative.cast("int64").sum()
    return t.group_by(t[CID].name("k")).agg(**sums)


def _funnel(b: Base, p: Mapping[str, Any]) -> ir.Table:
    steps = ibis.memtable(
        {
            "step_no": list(range(1, len(STEPS) + 1)),
            "step": [s[0] for s in STEPS],
            "step_zh": [s[1] for s in STEPS],
        }
    ).cast({"step_no": "int64", "step": "string", "step_zh": "string"})
    g = b.communities.select(CID, "name").cross_join(steps)
    c = _funnel_counts(b, p)
    g = g.left_join(c, g[CID] == c.k).drop("k")
    n = [g[f"n{i}"].fill_null(0).cast("int64") for i in range(1, len(STEPS) + 1)]

    def at(shift: int) -> ir.IntegerValue:
        # the count of the step `shift` places before the row's own step
        pairs = [(g.step_no == i + 1 + shift, n[i]) for i in range(len(n))]
        return ibis.cases(*pairs, else_=ibis.literal(0, "int64")).cast("int64")

    members, previous = at(0), ibis.ifelse(g.step_no == 1, n[0], at(1))
    return g.select(
        CID,
        "name",
        "step_no",
        "step",
        "step_zh",
        members=members,
        conversion=ratio(members, previous),
        of_joined=ratio(members, n[0]),
    )


def _funnel_why(row: Row, lang: str) -> str:
    step = next(s for s in STEPS if s[0] == row["step"])
    pct, total = round(row["conversion"] * 100, 1), round(row["of_joined"] * 100, 1)
    if lang == "zh":
        return f"{step[1]}：{row['members']} 人，上一步转化 {pct}%，占加入者 {total}%"
    return f"{step[2]}: {row['members']} members, {pct}% of the previous step, {total}% of joined"


for metric in (
    Metric(
        name="connections",
        subject="group",
        zh="成员连接",
        en="Member connections",
        description_zh="每群：成员发言与成员间回复占比、提问由成员还是运营首先回复、邀请入群人数。",
        description_en="Per group: member messages and the share that are member-to-member "
        "replies, questions first answered by members or by operators, invitations.",
        compute=_connections,
        order_by=(CID,),
        why=_connections_why,
    ),
    Metric(
        name="funnel",
        subject="group",
        zh="成员生命周期漏斗",
        en="Member lifecycle funnel",
        description_zh="每群：加入 → 交流 → 产生好感 → 活跃 → 付费 → 反馈 → 拉人，"
        "每一步只计通过了之前所有步骤的成员，并给出逐步转化率。",
        description_en="Per group: joined → spoke → got a response → active → paid → gave "
        "feedback → invited someone; each step counts members who passed every earlier step.",
        compute=_funnel,
        order_by=(CID, "step_no"),
        params=(
            Param("active_days", 4, "活跃：时段内至少发言几天", "active: days with messages"),
            Param(
                "joined_in_period",
                False,
                "只看时段内新入群的成员（否则为时段内任何时候在群的成员）",
                "only members who joined in the period (else anyone present in it)",
            ),
        ),
        why=_funnel_why,
    ),
):
    register(metric)
