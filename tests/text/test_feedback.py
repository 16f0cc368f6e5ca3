"""Feedback classification: every cue family in Chinese and English, and the traps of issue 4."""

from __future__ import annotations

import pytest

from shequn.text.feedback import CUES, LABELS, classify_feedback


def label(text: str) -> str | None:
    match = classify_feedback(text)
    return match.label if match else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # defect
        ("闪退了", "defect"),
        ("又闪退了！！", "defect"),
        ("安卓版一打开就白屏", "defect"),
        ("升级以后卡顿得厉害", "defect"),
        ("提交表单时报错 500", "defect"),
        ("下午开始就登录不了", "defect"),
        ("照片上传失败，试了三次", "defect"),
        ("app crashed again", "defect"),
        ("The app freezes whenever I rotate the phone", "defect"),
        ("found a bug in the calendar view", "defect"),
        ("这个bug什么时候修？", "defect"),
        ("Payment page won't load on Firefox", "defect"),
        # feature
        ("能不能加个夜间模式", "feature"),
        ("希望能支持导出Excel", "feature"),
        ("要是能批量删除就好了", "feature"),
        ("建议首页加一个搜索框", "feature"),
        ("please add dark mode", "feature"),
        ("It would be great if the app had an offline mode", "feature"),
        ("Feature request: recurring reminders", "feature"),
        ("could you add a weekly summary email?", "feature"),
        # complaint
        ("太慢了，等了半天", "complaint"),
        ("客服三天都不回消息", "complaint"),
        ("我要退款", "complaint"),
        ("什么垃圾软件", "complaint"),
        ("this subscription is a waste of money", "complaint"),
        ("the constant popups are so annoying", "complaint"),
        ("support never replied to my email", "complaint"),
        # praise
        ("这个功能太好用了", "praise"),
        ("新版本流畅多了，点赞", "praise"),
        ("感谢团队这么快修复", "praise"),
        ("love it, great job team", "praise"),
        ("thanks for the update, the new editor works great", "praise"),
    ],
)
def test_labels(text: str, expected: str) -> None:
    assert label(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "今天天气不错",
        "有人周末一起跑步吗",
        "how do I export my data?",
        "导出按钮在哪里？",
        "Good morning everyone",
        # member appreciation is not product praise (decision documented in docs/text-feedback.md)
        "谢谢分享",
        "感谢大佬指点",
        "thanks for sharing!",
        "great job @Ann, what a pace",
        # asking whether it is good is not praise
        "这个app好用吗？",
        # "bug" the insect
        "there's a bug on my desk",
        "bug spray works wonders in the garden",
        # a member asking a member, not the product
        "能不能加你微信",
        "希望大家周末愉快",
        "would be great if someone could help me move on Saturday",
        # look-alikes
        "垃圾分类从今天开始",
        "我这周刚入坑跑步",
        "I'm taking a crash course in statistics",
        "我的银行卡了一下",
        # hypothetical questions and plain negation
        "会不会闪退啊？",
        "will it crash on older phones?",
        "it's not a bug, it's a feature",
        "我这边没有闪退",
        # help with one's own code is not a product defect
        "有大佬帮忙看看这个报错怎么解决吗",
        "can someone help me understand this compiler error",
        # links: the praise is about what the link shows
        "https://example.com/v/123 这个视频太好看了",
        "https://news.example.com/crypto-crash wild",
    ],
)
def test_not_feedback(text: str) -> None:
    assert classify_feedback(text) is None


def test_sarcasm_is_a_defect() -> None:
    assert label("真是太棒了，又闪退了") == "defect"
    assert label("great, it crashed again. just great") == "defect"


def test_problem_gone_is_weak_praise() -> None:
    for text in (
        "没有闪退了",
        "不卡了",
        "终于不再闪退了",
        "it doesn't crash anymore",
        "no more crashes",
    ):
        match = classify_feedback(text)
        assert match is not None and match.label == "praise", text
        assert match.confidence < 0.8
        assert "问题已解决" in match.reason_zh


def test_more_actionable_label_wins() -> None:
    # defect > feature > complaint > praise
    assert label("希望能修复闪退") == "defect"
    assert label("太慢了，建议增加缓存") == "feature"
    assert label("好用，就是有点贵，太贵了") == "complaint"


def test_confidence_grows_with_cue_strength_and_count() -> None:
    one = classify_feedback("terrible")
    two = classify_feedback("terrible app, total waste of money, I want a refund")
    weak = classify_feedback("新版本不错")
    strong = classify_feedback("闪退")
    assert one and two and weak and strong
    assert two.confidence > one.confidence
    assert strong.confidence > weak.confidence
    assert all(0 < m.confidence <= 1 for m in (one, two, weak, strong))


def test_reasons_name_the_cue_in_both_languages() -> None:
    match = classify_feedback("又闪退了")
    assert match is not None
    assert "闪退" in match.reason_zh and "crash" in match.reason_en
    assert match.cues == ("闪退",)


def test_full_width_and_mixed_text() -> None:
    assert label("ＡＰＰ又ＣＲＡＳＨ了！") == "defect"
    assert label("@小王 iOS版本登录不了😭") == "defect"


def test_table_is_consistent() -> None:
    for cue in CUES:
        assert cue.label in (*LABELS, ""), cue
        assert 0 <= cue.weight <= 1
        assert set(cue.flags) <= {"n", "h"}


@pytest.mark.parametrize("text", ["", " ", "？？？", "😀😀", "http://x.y/z", "a" * 5000])
def test_odd_input_never_crashes(text: str) -> None:
    classify_feedback(text)


def test_scanner_finds_what_the_plain_alternation_finds() -> None:
    """The first-character shortcut of CueScanner must not change what is found."""
    import re

    from shequn.text import offtopic
    from shequn.text.feedback import CueScanner, fold

    texts = [
        "又闪退了！！app crashed again, please add dark mode",
        "能不能加个夜间模式？要是能批量导出就好了，太慢了，客服不回",
        "[红包]恭喜发财，大吉大利 扫码进群 代购 dm me for 20% off ¥99 包邮",
        "垃圾分类 入坑 crash course bug spray 不好用 好用 thanks for the update",
        "ＡＰＰ又ＣＲＡＳＨ了 5星好评 https://youtu.be/x 八卦 明星 celebrity drama",
    ]
    for cues in (CUES, offtopic.CUES):
        patterns = [cue.pattern for cue in cues]
        plain = re.compile("|".join(f"(?P<c{i}>{p})" for i, p in enumerate(patterns)))
        scanner = CueScanner(patterns)
        for text in map(fold, texts):
            expected = [(int(m.lastgroup[1:]), m.span()) for m in plain.finditer(text)]  # type: ignore[index]
            assert [(i, m.span()) for i, m in scanner.scan(text)] == expected, text
