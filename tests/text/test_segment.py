"""Segmentation: the terms every text analysis shares, Chinese and English."""

from __future__ import annotations

import jieba
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequn.text.segment import STOP_WORDS_EN, STOP_WORDS_ZH, cut_chinese, fold, is_cjk, terms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("周末一起去西湖跑步吧", ["周末", "西湖", "跑步"]),
        ("孩子上幼儿园总是哭怎么办？", ["孩子", "幼儿园", "总是"]),
        ("Anyone running the Lisbon marathon?", ["running", "lisbon", "marathon"]),
        ("My kid refuses to eat vegetables!!", ["kid", "refuses", "eat", "vegetables"]),
        # 配速 is not in jieba's dictionary: without HMM it falls apart into single characters
        ("今天的 marathon 训练，配速 5:30", ["marathon", "训练"]),
    ],
)
def test_terms_in_chinese_english_and_mixed_text(text: str, expected: list[str]) -> None:
    assert terms(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "哈哈",
        "收到，谢谢！",
        "👍👍👍",
        "ok",
        "lol thanks",
        "好的～",
        "12345",
        "？？？",
        "",
        "   ",
    ],
)
def test_greetings_fillers_emoji_and_numbers_leave_no_terms(text: str) -> None:
    assert terms(text) == []


def test_urls_mentions_emails_and_slack_markup_are_dropped() -> None:
    text = (
        "@张三\u2005看看这个 https://example.com/path?q=1 www.foo.cn 还有 bar.io/x "
        "<@U024BE7LH> <#C1|general> mail me: ana.silva+x@acme.co 跑鞋"
    )
    assert terms(text) == ["看看", "mail", "跑鞋"]


def test_mention_ends_at_full_width_punctuation() -> None:
    assert terms("@李四，马拉松报名了吗") == ["马拉松", "报名"]


def test_numbers_with_units_are_dropped_but_hashtags_with_words_stay() -> None:
    assert terms("ran 10km at 6am, 2nd time this week #100DaysOfRunning") == [
        "ran",
        "time",
        "week",
        "100daysofrunning",
    ]


def test_full_width_letters_and_curly_apostrophes_fold() -> None:
    assert fold("ＡＢＣ１２３") == "ABC123"
    assert fold("I’m here") == "I'm here"
    assert fold("纯中文，不用改！") == "纯中文，不用改！"
    assert terms("Ｍａｒａｔｈｏｎ 训练") == ["marathon", "训练"]
    assert terms("I’m training") == ["training"]  # i'm is a stop word once the apostrophe folds


def test_latin_words_are_lower_cased_and_keep_inner_hyphens() -> None:
    assert terms("Long-Run SUNDAY") == ["long-run", "sunday"]


@pytest.fixture(scope="module")
def reference() -> jieba.Tokenizer:
    """jieba's own tokenizer, loaded once for the module (loading takes a second or two)."""
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.mark.parametrize(
    "run",
    [
        "大家好我是张三来自杭州在某某公司做产品经理希望和大家交流",
        "孩子上幼儿园总是哭怎么办",
        "今天跑了十公里配速五分半感觉不错",
        "这个版本又闪退了能不能修一下",
        "研究生命起源",
        "结婚的和尚未结婚的",
    ],
)
def test_cut_is_identical_to_jieba_without_hmm(run: str, reference: jieba.Tokenizer) -> None:
    assert cut_chinese(run) == reference.lcut(run, HMM=False)


def test_single_characters_and_stop_words_are_not_terms() -> None:
    assert terms("我在跑") == []
    assert "大家" in STOP_WORDS_ZH
    assert "the" in STOP_WORDS_EN
    assert terms("大家 the 我们 we") == []


def test_is_cjk() -> None:
    assert is_cjk("中")
    assert not is_cjk("a")
    assert not is_cjk("，")


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_terms_never_crash_and_are_clean(text: str) -> None:
    for term in terms(text):
        assert len(term) > 1
        assert term == term.lower()
        assert term not in STOP_WORDS_ZH and term not in STOP_WORDS_EN
        assert not any(ch.isspace() for ch in term)
