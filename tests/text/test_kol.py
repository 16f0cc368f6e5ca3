"""KOL ranking over one group's reply/mention/reaction graph."""

from __future__ import annotations

import itertools
import math

import pytest

from shequn.errors import InputError
from shequn.text.kol import KolWeights, pagerank, rank_kols


def test_many_distinct_responders_beat_many_replies_from_one_person() -> None:
    # 小红 gets one reply each from eight members; Bob gets fifty replies, all from Carol
    edges = [(f"成员{i}", "小红", 1.0) for i in range(8)] + [("Carol", "Bob", 1.0)] * 50
    ranked = rank_kols(edges)
    assert [k.member for k in ranked[:2]] == ["小红", "Bob"]
    top, second = ranked[0], ranked[1]
    assert (top.distinct_responders, top.responses) == (8, 8.0)
    assert (second.distinct_responders, second.responses) == (1, 50.0)
    assert top.influence == 1.0
    assert top.pagerank > second.pagerank


def test_reasons_in_chinese_and_english() -> None:
    edges = [(f"m{i}", "ana", 1.0) for i in range(12)]
    ranked = rank_kols(edges, expertise={"ana": 40}, answers={"ana": 5}, sharing={"ana": 6})
    ana = ranked[0]
    assert ana.member == "ana"
    assert (
        ana.reason_zh
        == "12 位不同成员回应过 TA；主题相关发言 40 条；解答他人问题 5 次；分享链接或文件 6 次"
    )
    assert ana.reason_en == (
        "12 different members responded to them; 40 on-theme messages; answered others 5 times; "
        "shared links or files 6 times"
    )
    quiet = ranked[-1]
    assert quiet.reason_zh == "暂无互动、主题发言或分享"
    assert quiet.reason_en == "no responses, on-theme messages or shares yet"


def test_expertise_and_sharing_decide_between_equally_followed_members() -> None:
    edges = [("x", "alice", 1.0), ("y", "alice", 1.0), ("x", "bob", 1.0), ("y", "bob", 1.0)]
    ranked = rank_kols(edges, expertise={"bob": 30, "alice": 3}, sharing={"alice": 1, "bob": 1})
    assert [k.member for k in ranked[:2]] == ["bob", "alice"]
    assert ranked[0].expertise == 1.0
    assert ranked[1].expertise == pytest.approx(math.log(4) / math.log(31), abs=1e-6)
    answers = rank_kols(edges, expertise={"bob": 3, "alice": 3}, answers={"alice": 2})
    assert answers[0].member == "alice"
    by_sharing = rank_kols(edges, expertise={"bob": 3, "alice": 3}, sharing={"alice": 10})
    assert by_sharing[0].member == "alice"


def test_members_known_only_from_expertise_or_sharing_are_ranked() -> None:
    ranked = rank_kols([], expertise={"老王": 10}, sharing={"Lee": 2})
    assert [k.member for k in ranked] == ["老王", "Lee"]  # weights 0.3 vs 0.2
    assert ranked[0].score == pytest.approx(0.3)
    assert ranked[0].reason_zh == "主题相关发言 10 条"


def test_ties_are_deterministic_whatever_the_input_order() -> None:
    edges = [("a", "x", 1.0), ("b", "y", 1.0), ("c", "x", 1.0), ("d", "y", 1.0), ("a", "y", 0.0)]
    results = {tuple(rank_kols(order)) for order in itertools.permutations(edges)}
    assert len(results) == 1
    ranked = rank_kols(edges)
    assert [k.member for k in ranked[:2]] == ["x", "y"]  # equal scores: smaller key first
    assert ranked[0].score == ranked[1].score


def test_integer_member_ids_sort_by_value_on_ties() -> None:
    ranked = rank_kols([(1, 10, 1.0), (2, 9, 1.0)])
    assert [k.member for k in ranked[:2]] == [9, 10]


def test_self_responses_are_ignored_and_weights_add_up() -> None:
    ranked = rank_kols([("a", "a", 5.0), ("b", "a", 1.0), ("b", "a", 2.0)])
    a = next(k for k in ranked if k.member == "a")
    assert (a.distinct_responders, a.responses) == (1, 3.0)


def test_negative_weights_are_refused() -> None:
    with pytest.raises(InputError, match="negative"):
        rank_kols([("a", "b", -1.0)])


def test_empty_group_and_top() -> None:
    assert rank_kols([]) == []
    edges = [(f"m{i}", "star", 1.0) for i in range(5)]
    assert [k.member for k in rank_kols(edges, top=1)] == ["star"]


def test_custom_weights() -> None:
    edges = [(f"m{i}", "talker", 1.0) for i in range(5)]
    expert_only = KolWeights(influence=0.0, expertise=1.0, sharing=0.0)
    ranked = rank_kols(edges, expertise={"expert": 3}, weights=expert_only)
    assert ranked[0].member == "expert"
    assert ranked[0].score == 1.0


def test_pagerank_sums_to_one_and_follows_endorsements() -> None:
    graph = {("a", "b"): 1.0, ("b", "c"): 1.0, ("c", "b"): 1.0, ("d", "b"): 3.0}
    ranks = pagerank(graph, ["a", "b", "c", "d"])
    assert sum(ranks.values()) == pytest.approx(1.0)
    assert ranks["b"] > ranks["c"] > ranks["a"] == pytest.approx(ranks["d"])
    # two members answering each other, nobody else: equal rank
    pair = pagerank({("x", "y"): 1.0, ("y", "x"): 1.0}, ["x", "y"])
    assert pair["x"] == pytest.approx(0.5)


def test_pagerank_matches_the_closed_form_for_a_dangling_member() -> None:
    # a -> b, and b responds to no one: b's rank is spread evenly (networkx's convention), so
    # r_a = (1 - d)/2 + d r_b / 2 with r_a + r_b = 1, i.e. r_a = 0.5 / (1 + d/2)
    ranks = pagerank({("a", "b"): 1.0}, ["a", "b"], damping=0.85)
    assert ranks["a"] == pytest.approx(0.5 / 1.425)
    assert ranks["b"] == pytest.approx(1 - 0.5 / 1.425)
