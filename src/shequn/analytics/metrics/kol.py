"""KOL candidates (R5): per group, the members others respond to, who answer and who share.

The same three components as `text.kol.rank_kols` (influence, expertise, sharing), written in
Ibis so every engine ranks alike. Influence is half distinct responders, half PageRank over the
group's member graph (an edge per reply, reaction or @mention, responder → author or
mentioner → mentioned); PageRank is a fixed number of power iterations, each a join of the rank
table to the edge table. @mentions are read as `text.mentions` resolved them after import
(`message_mention`); a mentioner counts among the members who respond. Exact definitions:
docs/metrics/kol.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.metrics.connections import (
    CID,
    answered_questions,
    reactions,
    replies,
    tag_account,
)
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.errors import InputError

KEY = (CID, "account_id")
# Each iteration nests the query one level deeper; Ibis's SQL generator recurses past Python's
# limit between 15 and 20 iterations (measured), so more are refused rather than crash.
MAX_ITERATIONS = 15
WEIGHTS = ("influence_weight", "expertise_weight", "sharing_weight")


def _edges(b: Base) -> ir.Table:
    """Member → member responses of the period (community_id, src, dst, weight and its parts):
    replies and @mentions count one each, reactions their count; operators and bots are not in
    the graph."""
    r = replies(b)
    r = r.filter(~r.is_operator & ~r.to_bot & ~r.to_op)
    x = reactions(b)
    x = x.filter(~x.by_op & ~x.to_bot & ~x.to_op)
    m = mentions(b)
    one, zero = ibis.literal(1, "int64"), ibis.literal(0, "int64")
    e = ibis.union(
        r.select(CID, src=r.account_id, dst=r.to_account, reply=one, reaction=zero, mention=zero),
        x.select(
            CID,
            src=x.account_id,
            dst=x.to_account,
            reply=zero,
            reaction=x["count"].cast("int64"),
            mention=zero,
        ),
        m.select(CID, src=m.account_id, dst=m.to_account, reply=zero, reaction=zero, mention=one),
    )
    return e.group_by([CID, "src", "dst"]).agg(
        weight=(e.reply + e.reaction + e.mention).sum().cast("int64"),
        replies=e.reply.sum().cast("int64"),
        reactions=e.reaction.sum().cast("int64"),
        mentions=e.mention.sum().cast("int64"),
    )


def mentions(b: Base) -> ir.Table:
    """@mentions in member messages of the period, resolved by `text.mentions`: the mentioner
    (community_id, account_id, person_id) and the mentioned account (`to_account`), members
    only: operators, bots and mentions of oneself (linked accounts included) are left out."""
    mm = b.raw["message_mention"].select(mm_id="message_id", to_account="account_id")
    m = b.messages
    m = m.filter(m.account_id.notnull() & ~m.is_bot & ~m.is_operator & (m.kind != "system"))
    j = m.join(mm, m.id == mm.mm_id).select(CID, "account_id", "person_id", "to_account")
    j = tag_account(b, j, "to_account", "to")
    return j.filter(~j.to_bot & ~j.to_op & (j.to_person != j.person_id))


def _nodes(b: Base, edges: ir.Table) -> ir.Table:
    """(community_id, node, n): members who spoke in the period or are in an edge, with the
    number of nodes of their group."""
    md = tag_account(b, b.member_day.filter(~b.member_day.is_bot), "account_id", "a")
    spoke = md.filter(~md.a_op).select(CID, node=md.account_id)
    ends = edges.select(CID, node=edges.src).union(edges.select(CID, node=edges.dst))
    v = spoke.union(ends, distinct=True)
    return v.mutate(n=v.count().over(group_by=v[CID]).cast("int64"))


SINK = -1  # the node id of each group's dangling-mass bookkeeping row (accounts are positive)


def _pagerank(edges: ir.Table, nodes: ir.Table, damping: float, steps: int) -> ir.Table:
    """(community_id, node, rank) after `steps` power iterations from 1/n:

    rank'(v) = (1−d)/n + d·D/n + d·Σ rank(u)·w(u→v)/out(u), D the rank of the members who
    respond to no one (dangling), spread evenly; as ranks sum to 1, D = 1 − S with S the rank
    of the others. Each step must read the previous ranks ONCE: a window or a second join for
    S makes the plan double per step (DuckDB's planner took 70 s for 10 steps; Spark inlines
    repeated subqueries). So S rides along as one more row per group (node SINK) and the whole
    step is affine: new(x) = const(x) + Σ old(y)·W(y→x), one join and one sum (`_weights`).
    """
    w, aug = _weights(edges, nodes, float(damping))
    rank = aug.mutate(rank=aug.const)
    for _ in range(steps):
        r = rank.select(r_cid=rank[CID], r_node=rank.node, r_rank=rank["rank"])
        j = w.join(r, [w.w_cid == r.r_cid, w.src == r.r_node])
        passed = j.group_by([j.w_cid.name("c_cid"), j.dst.name("c_node")]).agg(
            c=(j.r_rank * j.wt).sum()
        )
        t = aug.left_join(passed, [aug[CID] == passed.c_cid, aug.node == passed.c_node])
        rank = t.select(CID, "node", "const", rank=t.const + t.c.fill_null(0.0))
    return rank.filter(rank.node != SINK).select(CID, "node", "rank")


def _weights(edges: ir.Table, nodes: ir.Table, d: float) -> tuple[ir.Table, ir.Table]:
    """The affine step of `_pagerank`, with S (the rank of members with out-edges, m of the
    group's n) as node SINK: W(u→v) = d·share; W(SINK→v) = −d/n, const(v) = 1/n, so
    new(v) = 1/n − d·S/n + d·Σ…, the formula above; W(u→SINK) = d·(u's share going to members
    with out-edges), W(SINK→SINK) = −m·d/n, const(SINK) = m/n, which is S of the new ranks."""
    out = edges.group_by([CID, "src"]).agg(out_w=edges.weight.sum())
    e = edges.join(out, [CID, "src"])
    e = e.select(CID, "src", "dst", share=e.weight / e.out_w.cast("float64"))
    senders = out.select(s_cid=out[CID], s_node=out.src)
    m = senders.group_by(senders.s_cid.name("m_cid")).agg(m=senders.count())
    g = nodes.select(CID, "n").distinct()
    g = g.left_join(m, g[CID] == m.m_cid).drop("m_cid")
    g = g.mutate(m=g.m.fill_null(0).cast("float64"), nf=g.n.cast("float64"))
    to_senders = e.semi_join(senders, [e[CID] == senders.s_cid, e.dst == senders.s_node])
    q = to_senders.group_by([CID, "src"]).agg(q=to_senders.share.sum())
    sink = ibis.literal(SINK, "int64")
    parts = [
        e.select(w_cid=e[CID], src=e.src, dst=e.dst, wt=d * e.share),
        q.select(w_cid=q[CID], src=q.src, dst=sink, wt=d * q.q),
        nodes.select(w_cid=nodes[CID], src=sink, dst=nodes.node, wt=-d / nodes.n.cast("float64")),
        g.select(w_cid=g[CID], src=sink, dst=sink, wt=-d * g.m / g.nf),
    ]
    w = ibis.union(*[x.cast({"wt": "float64"}) for x in parts])
    aug = nodes.select(CID, "node", const=1.0 / nodes.n.cast("float64")).union(
        g.select(CID, node=sink, const=g.m / g.nf)
    )
    return w, aug


def _received(edges: ir.Table) -> ir.Table:
    g = edges.group_by([CID, edges.dst.name("account_id")])
    return g.agg(
        distinct_responders=edges.src.nunique().cast("int64"),
        replies_received=edges.replies.sum().cast("int64"),
        reactions_received=edges.reactions.sum().cast("int64"),
        mentions_received=edges.mentions.sum().cast("int64"),
    )


def _answers(b: Base) -> ir.Table:
    """Distinct questions of others each member replied to (operators' answers left out)."""
    a = answered_questions(b)
    a = a.filter(~a.is_operator)
    return a.group_by(list(KEY)).agg(answers=a.q_id.nunique().cast("int64"))


def _on_theme(b: Base, p: Mapping[str, Any]) -> ir.Table:
    s = b.signals
    s = s.filter(s.is_ugc & (s.theme_score >= float(p["on_theme_score"])))
    return s.group_by(list(KEY)).agg(on_theme_messages=s.count().cast("int64"))


def _shares(b: Base) -> ir.Table:
    md = b.member_day
    return md.group_by(list(KEY)).agg(shares=(md.links + md.files).sum().cast("int64"))


def _scaled_log(x: ir.NumericValue, group: ir.Value) -> ir.FloatingValue:
    """ln(1 + x) / ln(1 + the group's max): counts with diminishing returns, 0..1."""
    top = (x.max().over(group_by=group).cast("float64") + 1.0).ln()
    return ((x.cast("float64") + 1.0).ln() / top.nullif(0.0)).fill_null(0.0)


def _check(p: Mapping[str, Any]) -> None:
    if not 0 <= int(p["iterations"]) <= MAX_ITERATIONS:
        raise InputError(f"expected 0 to {MAX_ITERATIONS}", field="param iterations")
    if not 0 <= float(p["damping"]) < 1:
        raise InputError("expected 0 ≤ damping < 1", field="param damping")
    if any(float(p[w]) < 0 for w in WEIGHTS):
        raise InputError("weights cannot be negative", field="param influence_weight")


def _figures(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Every node of every group's graph with its raw figures (zeros filled) and PageRank."""
    edges = _edges(b)
    nodes = _nodes(b, edges)
    pr = _pagerank(edges, nodes, float(p["damping"]), int(p["iterations"]))
    t = pr.rename(account_id="node")
    for part in (_received(edges), _answers(b), _on_theme(b, p), _shares(b)):
        r = part.rename(r_cid=CID, r_aid="account_id")
        t = t.left_join(r, [t[CID] == r.r_cid, t.account_id == r.r_aid]).drop("r_cid", "r_aid")
    counts = (
        "distinct_responders",
        "replies_received",
        "reactions_received",
        "mentions_received",
        "answers",
    )
    filled = {c: t[c].fill_null(0).cast("int64") for c in (*counts, "on_theme_messages")}
    return t.mutate(
        **filled,
        shares=t.shares.fill_null(0).cast("int64"),
        pagerank=t["rank"].round(6).cast("float64"),
    )


def _kol_candidates(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _check(p)
    t = _figures(b, p)
    g = t[CID]
    top_d = t.distinct_responders.max().over(group_by=g).cast("float64")
    lo, hi = t.pagerank.min().over(group_by=g), t.pagerank.max().over(group_by=g)
    # PageRank is scaled from its rounded value, so a tie on every engine stays a tie
    central = ((t.pagerank - lo) / (hi - lo).nullif(0.0)).fill_null(0.0)
    influence = (t.distinct_responders.cast("float64") / top_d.nullif(0.0)).fill_null(0.0)
    influence = (influence + central) / 2.0
    expertise = _scaled_log(t.on_theme_messages + float(p["answer_weight"]) * t.answers, g)
    sharing = _scaled_log(t.shares, g)
    score = (
        float(p["influence_weight"]) * influence
        + float(p["expertise_weight"]) * expertise
        + float(p["sharing_weight"]) * sharing
    )
    t = t.mutate(score=score.round(4).cast("float64"))
    t = t.filter(t.score > 0)
    order = [t.score.desc(), t.distinct_responders.desc(), t.account_id]
    t = t.mutate(rank=(ibis.row_number().over(group_by=t[CID], order_by=order) + 1))
    t = t.filter(t["rank"] <= int(p["top"]))
    a = b.accounts.select(r_aid="account_id", person_id="person_id", display_name="display_name")
    t = t.join(a, t.account_id == a.r_aid).drop("r_aid")
    return t.select(
        *KEY,
        "person_id",
        "display_name",
        rank=t["rank"].cast("int64"),
        score="score",
        distinct_responders="distinct_responders",
        replies_received="replies_received",
        reactions_received="reactions_received",
        mentions_received="mentions_received",
        answers="answers",
        on_theme_messages="on_theme_messages",
        shares="shares",
        pagerank="pagerank",
    )


def _kol_why(row: Row, lang: str) -> str:
    zh: list[str] = []
    en: list[str] = []
    if row["distinct_responders"]:
        zh.append(f"{row['distinct_responders']} 位成员回应过 TA")
        en.append(f"{row['distinct_responders']} members responded to them")
    if row.get("mentions_received"):
        zh.append(f"被成员 @ {row['mentions_received']} 次")
        en.append(f"@mentioned {row['mentions_received']} times")
    if row["answers"]:
        zh.append(f"回答问题 {row['answers']} 次")
        en.append(f"answered {row['answers']} questions")
    if row["on_theme_messages"]:
        zh.append(f"主题相关发言 {row['on_theme_messages']} 条")
        en.append(f"{row['on_theme_messages']} on-theme messages")
    if row["shares"]:
        zh.append(f"分享链接或文件 {row['shares']} 次")
        en.append(f"shared links or files {row['shares']} times")
    return "，".join(zh) if lang == "zh" else "; ".join(en)


register(
    Metric(
        name="kol_candidates",
        subject="member",
        zh="KOL 候选",
        en="KOL candidates",
        description_zh="每群按影响力（回复、表情回应或 @ TA 的不同成员数与 PageRank）、专业度"
        "（主题发言与解答）和分享（链接、文件）打分排名的前 N 位成员，附理由。",
        description_en="Per group, the top members by influence (distinct members replying, "
        "reacting or @mentioning, PageRank), expertise (on-theme messages, answers) and "
        "sharing (links, files), with reasons.",
        compute=_kol_candidates,
        order_by=(CID, "rank"),
        params=(
            Param("top", 10, "每群列出前几位", "candidates listed per group"),
            Param("on_theme_score", 0.5, "主题相关发言的最低主题分", "theme score of on-theme"),
            Param("answer_weight", 2.0, "一次解答折合几条主题发言", "on-theme messages per answer"),
            Param("iterations", 10, "PageRank 迭代次数", "PageRank power iterations"),
            Param("damping", 0.85, "PageRank 阻尼系数", "PageRank damping factor"),
            Param("influence_weight", 0.5, "影响力权重", "weight of influence"),
            Param("expertise_weight", 0.3, "专业度权重", "weight of expertise"),
            Param("sharing_weight", 0.2, "分享权重", "weight of sharing"),
        ),
        why=_kol_why,
    )
)
