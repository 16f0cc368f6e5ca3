"""Off-topic detection: red packets, QR codes, ads, outside links and gossip, with their traps."""

from __future__ import annotations

import pytest

from shequn.text.offtopic import CUES, LABELS, detect_offtopic

RUNNING = ["跑步", "配速", "马拉松", "running", "pace", "marathon"]


def label(text: str, theme: list[str] | None = None, **kwargs: object) -> str | None:
    match = detect_offtopic(text, theme, **kwargs)  # type: ignore[arg-type]
    return match.label if match else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[红包]恭喜发财，大吉大利", "red_packet"),
        ("[微信红包] 新春快乐", "red_packet"),
        ("小李领取了你的红包", "red_packet"),
        ("🧧 群主发了个红包，大家快抢", "red_packet"),
        ("[Red Packet] Happy new year!", "red_packet"),
        ("just sent a red packet, grab it!", "red_packet"),
        ("[二维码]", "qr_code"),
        ("扫码进群领取资料", "qr_code"),
        ("长按识别图中二维码关注公众号", "qr_code"),
        ("Scan the QR code to join our giveaway", "qr_code"),
        ("代购日本药妆，需要的私聊", "ad"),
        ("兼职日结，在家就能做，加微信咨询", "ad"),
        ("淘宝优惠券每天更新，领券再下单更便宜", "ad"),
        ("DM me for wholesale prices", "ad"),
        ("Use code SAVE20 for 20% off all plans", "ad"),
        ("Selling my old laptop, cheap, message me", "ad"),
        ("帮我砍一刀吧 https://mobile.yangkeduo.com/x?share=1", "outside_link"),
        ("https://www.bilibili.com/video/BV1xx 笑死我了", "outside_link"),
        ("please vote for my cat https://contest.example.org/cats/12", "outside_link"),
        ("https://youtu.be/abc123", "outside_link"),
    ],
)
def test_labels(text: str, expected: str) -> None:
    assert label(text, RUNNING) == expected


@pytest.mark.parametrize(
    "text",
    [
        # red packets mentioned in passing, or asked about
        "昨天抢红包才抢了两毛钱",
        "打卡满一个月有红包奖励吗？",
        "红包功能什么时候上线",
        # the product's own QR login is feedback, not an ad
        "扫码登录一直失败",
        # a member helping a member
        "这个问题我私聊你吧",
        "the new pricing page says 20% cheaper than last year, nice",
        # on-theme links
        "今天的配速表 https://docs.example.com/pace-table",
        "marathon training plan: https://plans.example.org/marathon-16-weeks",
        # ordinary talk
        "今天跑了10公里，配速5分半",
        "好的收到",
        "congrats on the PR!",
    ],
)
def test_not_offtopic(text: str) -> None:
    assert detect_offtopic(text, RUNNING) is None


def test_gossip_needs_theme_keywords_length_and_no_theme_word() -> None:
    text = "你们看到那个明星离婚的热搜了吗"
    assert label(text, RUNNING) == "gossip"
    assert label(text) is None  # without theme keywords gossip is never judged
    assert label("八卦一下", RUNNING) is None  # too short to be more than glue
    assert label("听说马拉松明星选手今年不来了", RUNNING) is None  # names the theme
    assert label("did you see the celebrity divorce drama last night?", RUNNING) == "gossip"
    assert label("听说明天下雨", RUNNING) is None  # hearsay alone is not enough


def test_allowed_domains_and_subdomains_never_count() -> None:
    link = "https://youtu.be/abc123"
    assert label(link, RUNNING, allowed_domains=["youtu.be"]) is None
    assert label("https://m.example.com/x", RUNNING, allowed_domains=["example.com"]) is None


def test_bare_link_off_theme_is_flagged_only_with_theme_keywords() -> None:
    assert label("https://blog.example.net/p/42", RUNNING) == "outside_link"
    assert label("https://blog.example.net/p/42") is None
    assert label("https://blog.example.net/running/42", RUNNING) is None


def test_precedence_qr_over_ad() -> None:
    assert label("扫码加微信领优惠券，包邮", RUNNING) == "qr_code"


def test_reasons_quote_the_cue() -> None:
    match = detect_offtopic("代购日本药妆，需要的私聊", RUNNING)
    assert match is not None
    assert "代购" in match.reason_zh and "代购" in match.reason_en
    assert 0.6 <= match.confidence <= 1


def test_table_is_consistent() -> None:
    for cue in CUES:
        assert cue.label in (*LABELS, ""), cue
        assert 0 <= cue.weight <= 1


@pytest.mark.parametrize("text", ["", " ", "[]", "http://", "www.", "😀" * 100])
def test_odd_input_never_crashes(text: str) -> None:
    detect_offtopic(text, RUNNING)
    detect_offtopic(text)
