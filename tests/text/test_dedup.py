"""Near-duplicate grouping: fifty "闪退了" become one item with fifty voices."""

from __future__ import annotations

import random

import pytest

from shequn.text.dedup import DuplicateGroup, group_near_duplicates, tokens


def test_crash_variants_in_both_languages_are_one_group() -> None:
    texts = [
        "闪退了",
        "又闪退了！！",
        "app crashed again",
        "App CRASHED again!!! 😭",
        "崩溃了。。。",
    ]
    items = [(f"m{i}", texts[i % len(texts)]) for i in range(50)]
    items.append(("other", "今天跑了十公里"))
    groups = group_near_duplicates(items)
    assert [g.count for g in groups] == [50, 1]
    top = groups[0]
    assert isinstance(top, DuplicateGroup)
    assert top.keys == [f"m{i}" for i in range(50)]  # input order: the members behind the voices
    assert top.representative == "闪退了"  # most frequent text, first seen on ties


def test_requests_group_across_languages_and_politeness() -> None:
    groups = group_near_duplicates(
        enumerate(
            ["能不能加个夜间模式", "希望加个夜间模式！", "please add dark mode", "导出太慢了"]
        )
    )
    assert [sorted(g.keys) for g in groups] == [[0, 1, 2], [3]]


def test_normalisation_width_case_repeats_emoji_mentions_urls() -> None:
    assert tokens("ＬＯＧＩＮ　ＦＡＩＬＳ！！！") == tokens("login fails")
    assert tokens("@小王 太慢了了了😤 https://x.example.com") == tokens("太慢了")
    assert tokens("iOS17闪退了") <= tokens("iOS 17 上闪退")


def test_different_problems_stay_apart() -> None:
    groups = group_near_duplicates(
        enumerate(["登录后闪退", "导出的表格乱码", "付款页面白屏", "please add dark mode"])
    )
    assert len(groups) == 4


def test_threshold_controls_how_close_is_close() -> None:
    items = list(enumerate(["安卓登录后闪退", "登录后闪退"]))
    assert len(group_near_duplicates(items, threshold=0.5)) == 1
    assert len(group_near_duplicates(items, threshold=0.9)) == 2
    with pytest.raises(ValueError):
        group_near_duplicates(items, threshold=0)


def test_textless_messages_group_by_exact_text() -> None:
    groups = group_near_duplicates(enumerate(["👍", "👍", "？？", "👍"]))
    assert [(g.representative, g.count) for g in groups] == [("👍", 3), ("？？", 1)]


def test_every_item_lands_in_exactly_one_group_and_order_is_deterministic() -> None:
    rng = random.Random(7)
    pool = [
        "闪退了",
        "crashed again",
        "太慢了",
        "so slow",
        "好用",
        "love it",
        "能不能加导出",
        "收到",
    ]
    items = [(i, rng.choice(pool) + rng.choice(["", "！", "!!", " 😭"])) for i in range(2000)]
    first = group_near_duplicates(items)
    again = group_near_duplicates(items)
    assert [(g.representative, g.keys) for g in first] == [
        (g.representative, g.keys) for g in again
    ]
    keys = [k for g in first for k in g.keys]
    assert sorted(keys) == list(range(2000))
    assert [g.count for g in first] == sorted((g.count for g in first), reverse=True)


def test_empty_input() -> None:
    assert group_near_duplicates([]) == []
