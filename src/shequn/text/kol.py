"""KOL scoring (R5) for one group: influence, expertise and sharing, each normalised, with reasons.

Input is the group's interaction graph: one edge per reply, @mention or reaction, pointing from
the member who responded to the member responded to (responder → author). Influence counts the
distinct members who respond and the member's PageRank in that graph, so fifty replies from one
friend weigh less than one reply each from ten different members.

PageRank is a small power iteration written here (pure Python, about 20 lines) rather than
networkx: networkx 3's ``pagerank`` needs scipy, a group's graph has at most a few thousand
members, and the same iteration (uniform teleport, dangling members' rank spread evenly) is easy to
read and keeps the result independent of the order edges arrive in. Formulas in
docs/text-theme-kol.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from math import log1p
from typing import Generic, TypeVar

from shequn.errors import InputError

__all__ = ["DEFAULT_WEIGHTS", "KolScore", "KolWeights", "pagerank", "rank_kols"]

M = TypeVar("M", bound=Hashable)

# An answer given to another member is worth this many on-theme messages in expertise.
ANSWER_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class KolWeights:
    """How the three normalised components add up to the score (they should sum to 1)."""

    influence: float = 0.5  # itself half distinct responders, half PageRank
    expertise: float = 0.3
    sharing: float = 0.2


DEFAULT_WEIGHTS = KolWeights()


@dataclass(frozen=True, slots=True)
class KolScore(Generic[M]):
    """One member's KOL score (0..1), the raw figures behind it and the reasons."""

    member: M
    score: float
    influence: float  # 0..1: mean of normalised distinct responders and PageRank
    expertise: float  # 0..1
    sharing: float  # 0..1
    distinct_responders: int
    responses: float  # summed edge weight received
    pagerank: float
    on_theme_messages: float
    answers: float
    shares: float
    reason_zh: str
    reason_en: str


def rank_kols(
    edges: Iterable[tuple[M, M, float]],
    *,
    expertise: Mapping[M, float] | None = None,
    sharing: Mapping[M, float] | None = None,
    answers: Mapping[M, float] | None = None,
    weights: KolWeights = DEFAULT_WEIGHTS,
    damping: float = 0.85,
    top: int | None = None,
) -> list[KolScore[M]]:
    """Rank one group's members as KOLs, best first.

    ``edges`` are (responder, author, weight) for replies, mentions and reactions; self-responses
    are ignored. ``expertise`` counts on-theme messages, ``answers`` answers given to others and
    ``sharing`` links and files shared. Every member named anywhere is ranked. Ties go to more
    distinct responders, then to the smaller member key, so the order is deterministic.
    """
    graph = _aggregate(edges)
    on_theme, given, shared = expertise or {}, answers or {}, sharing or {}
    members = sorted(
        {m for pair in graph for m in pair} | set(on_theme) | set(given) | set(shared),
        key=_member_key,
    )
    if not members:
        return []
    influence = _influence(graph, members, damping=damping)
    expert = _scale_log({m: on_theme.get(m, 0) + ANSWER_WEIGHT * given.get(m, 0) for m in members})
    sharer = _scale_log({m: shared.get(m, 0.0) for m in members})
    scores = []
    for m in members:
        distinct, received, rank, influential = influence[m]
        total = (
            weights.influence * influential
            + weights.expertise * expert[m]
            + weights.sharing * sharer[m]
        )
        raw = (on_theme.get(m, 0.0), given.get(m, 0.0), shared.get(m, 0.0))
        zh, en = _reasons(distinct, *raw)
        normalised = (
            round(total, 6),
            round(influential, 6),
            round(expert[m], 6),
            round(sharer[m], 6),
        )
        # positional in KolScore's field order: member, the four 0..1 scores, then raw figures
        scores.append(KolScore(m, *normalised, distinct, received, round(rank, 8), *raw, zh, en))
    scores.sort(key=lambda s: (-s.score, -s.distinct_responders, _member_key(s.member)))
    return scores[:top] if top is not None else scores


def _influence(
    graph: dict[tuple[M, M], float], members: list[M], *, damping: float
) -> dict[M, tuple[int, float, float, float]]:
    """Per member: distinct responders, weight received, PageRank, and influence (0..1), the mean
    of distinct responders scaled by the maximum and PageRank scaled min–max."""
    responders: dict[M, set[M]] = defaultdict(set)
    received: dict[M, float] = defaultdict(float)
    for (src, dst), weight in graph.items():
        responders[dst].add(src)
        received[dst] += weight
    ranks = pagerank(graph, members, damping=damping)
    by_distinct = _scale_max({m: float(len(responders[m])) for m in members})
    by_rank = _scale_min_max(ranks)
    return {
        m: (len(responders[m]), received[m], ranks[m], (by_distinct[m] + by_rank[m]) / 2)
        for m in members
    }


def _aggregate(edges: Iterable[tuple[M, M, float]]) -> dict[tuple[M, M], float]:
    """Sum the weights per (responder, author) pair, sorted so input order does not matter."""
    graph: dict[tuple[M, M], float] = defaultdict(float)
    for src, dst, weight in edges:
        if weight < 0:
            raise InputError(
                "edge weights cannot be negative", record=f"{src}->{dst}", field="weight"
            )
        if src != dst and weight > 0:
            graph[(src, dst)] += weight
    return dict(
        sorted(graph.items(), key=lambda item: (_member_key(item[0][0]), _member_key(item[0][1])))
    )


def pagerank(
    graph: Mapping[tuple[M, M], float],
    nodes: list[M],
    *,
    damping: float = 0.85,
    tolerance: float = 1e-10,
    max_iterations: int = 200,
) -> dict[M, float]:
    """Weighted PageRank by power iteration, as networkx computes it: uniform teleport, the rank
    of members who respond to no one spread evenly."""
    n = len(nodes)
    out_weight: dict[M, float] = defaultdict(float)
    for (src, _dst), weight in graph.items():
        out_weight[src] += weight
    rank = dict.fromkeys(nodes, 1.0 / n)
    for _ in range(max_iterations):
        dangling = sum(rank[v] for v in nodes if out_weight[v] == 0)
        base = (1.0 - damping) / n + damping * dangling / n
        new = dict.fromkeys(nodes, base)
        for (src, dst), weight in graph.items():
            new[dst] += damping * rank[src] * weight / out_weight[src]
        change = sum(abs(new[v] - rank[v]) for v in nodes)
        rank = new
        if change < n * tolerance:
            break
    return rank


def _scale_max(values: dict[M, float]) -> dict[M, float]:
    """x / max, so the member with the most is 1 and a member with none is 0."""
    top = max(values.values(), default=0.0)
    return {m: (v / top if top > 0 else 0.0) for m, v in values.items()}


def _scale_min_max(values: dict[M, float]) -> dict[M, float]:
    """(x − min) / (max − min): PageRank never reaches 0, so the least central member is 0."""
    low, high = min(values.values()), max(values.values())
    span = high - low
    return {m: ((v - low) / span if span > 1e-15 else 0.0) for m, v in values.items()}


def _scale_log(values: dict[M, float]) -> dict[M, float]:
    """ln(1 + x) / ln(1 + max): counts with diminishing returns (200 links ≠ 100 × 2 links)."""
    top = max(values.values(), default=0.0)
    return {m: (log1p(v) / log1p(top) if top > 0 else 0.0) for m, v in values.items()}


def _member_key(member: Hashable) -> tuple[int, int | str]:
    """Order members of any key type deterministically: numbers by value, others as text."""
    if isinstance(member, int) and not isinstance(member, bool):
        return (0, member)
    return (1, str(member))


def _reasons(distinct: int, on_theme: float, answers: float, shares: float) -> tuple[str, str]:
    """The operator-readable reasons, zh and en, from the raw figures."""
    zh: list[str] = []
    en: list[str] = []
    if distinct:
        zh.append(f"{distinct} 位不同成员回应过 TA")
        en.append(f"{distinct} different member{'s' if distinct > 1 else ''} responded to them")
    if on_theme:
        zh.append(f"主题相关发言 {_count(on_theme)} 条")
        en.append(f"{_count(on_theme)} on-theme messages")
    if answers:
        zh.append(f"解答他人问题 {_count(answers)} 次")
        en.append(f"answered others {_count(answers)} times")
    if shares:
        zh.append(f"分享链接或文件 {_count(shares)} 次")
        en.append(f"shared links or files {_count(shares)} times")
    if not zh:
        return "暂无互动、主题发言或分享", "no responses, on-theme messages or shares yet"
    return "；".join(zh), "; ".join(en)


def _count(value: float) -> str:
    """12.0 → "12"; 2.5 → "2.5"."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
