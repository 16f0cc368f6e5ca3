"""Rituals: newcomers' self-introductions and check-ins with day numbers, Chinese and English."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shequn.text.rituals import checkin_day, chinese_number, detect_self_intro


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "大家好，我是张三，来自杭州，在某某公司做产品经理，希望和大家交流",
            {
                "name": "张三",
                "city": "杭州",
                "company": "某某公司",
                "role": "产品经理",
                "reason": "希望和大家交流",
            },
        ),
        (
            "各位好！我叫李四，坐标深圳，前端工程师，想跟大家学习",
            {"name": "李四", "city": "深圳", "role": "前端工程师", "reason": "想跟大家学习"},
        ),
        (
            "大家好，我是来自成都的王小明，目前在腾讯做运营",
            {"name": "王小明", "city": "成都", "company": "腾讯", "role": "运营"},
        ),
        (
            "hello 大家好，我是Ana，在阿里做设计师",
            {"name": "Ana", "company": "阿里", "role": "设计师"},
        ),
        # free form: no 我是, the fields as bare clauses
        ("大家好，新人报到，杭州，产品经理，请多指教", {"city": "杭州", "role": "产品经理"}),
        ("大家好，我是做产品的，在北京", {"city": "北京", "role": "产品"}),
        ("大家好，我是陈大文，來自台北美丽的城市", {"name": "陈大文", "city": "台北"}),
        ("我叫小林，我是一名大学老师", {"name": "小林", "role": "大学老师"}),
        ("我是上海的，在字节做后端", {"city": "上海", "company": "字节", "role": "后端"}),
        (
            "大家好呀～我是阿杰，广州人，做跨境电商的",
            {"name": "阿杰", "city": "广州", "role": "跨境电商"},
        ),
    ],
)
def test_chinese_introductions(text: str, expected: dict[str, str]) -> None:
    intro = detect_self_intro(text)
    assert intro is not None
    assert intro.fields == expected
    assert intro.reason_zh.startswith("自我介绍：")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Hi all, I'm Ana from Lisbon, PM at Acme, joined to learn about community building",
            {
                "name": "Ana",
                "city": "Lisbon",
                "company": "Acme",
                "role": "PM",
                "reason": "joined to learn about community building",
            },
        ),
        (
            "Hello everyone! My name is John Smith, I'm a data scientist at Google, based in Leeds",
            {"name": "John Smith", "city": "Leeds", "company": "Google", "role": "data scientist"},
        ),
        (
            "Hi! I'm Priya, a nurse from Toronto 👋",
            {"name": "Priya", "city": "Toronto", "role": "nurse"},
        ),
        (
            "Hey all! Jon here, backend dev @ Spotify, based in Stockholm",
            {"city": "Stockholm", "company": "Spotify", "role": "backend dev"},
        ),
        (
            "Hey folks, I'm a software engineer from Berlin",
            {"city": "Berlin", "role": "software engineer"},
        ),
        (
            "Hi！I’m Wei, product designer at Shopify，hoping to meet other designers",
            {
                "name": "Wei",
                "company": "Shopify",
                "role": "product designer",
                "reason": "hoping to meet other designers",
            },
        ),
    ],
)
def test_english_introductions(text: str, expected: dict[str, str]) -> None:
    intro = detect_self_intro(text)
    assert intro is not None
    assert intro.fields == expected
    assert intro.reason_en.startswith("self-introduction: ")


@pytest.mark.parametrize(
    "text",
    [
        "我是新人",  # the cue alone
        "大家好，我是新人，请多指教",
        "大家好，我是张三",  # one field only
        "我是张三的朋友",
        "今天天气不错，大家好",
        "Hi, I'm new here",
        "Hi all, I'm Ana",  # one field only
        "I'm going to the meetup tonight",
        "I am so happy to be here, looking forward to learning from you all",
        "Anyone from Lisbon here?",  # a field but no greeting or I am
        "大家好，本周六在深圳有线下活动，希望大家来参加",
        "各位好，我是张老师，今天的作业是第三章",
        "大家好，我是群主，欢迎新朋友",
        # a company and a reason, but nobody is introduced
        "Hi everyone, the meetup is at WeWork from 7pm, hope to see you",
        "hello, I'm looking for a PM at Stripe to chat with",
        "",
    ],
)
def test_not_introductions(text: str) -> None:
    assert detect_self_intro(text) is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("打卡", None),
        ("签到", None),
        ("今日签到✅", None),
        ("簽到", None),
        ("第12天", 12),
        ("打卡第12天，背了50个单词", 12),
        ("第十二天 背单词", 12),
        ("打卡第一百零五天", 105),
        ("连续打卡30天", 30),
        ("已经打卡二十天了", 20),
        ("第３天打卡", 3),  # full-width digit
        ("第3天打卡，有人一起吗？", 3),  # a question, but the day is stated
        ("Day 12", 12),
        ("day 12 done", 12),
        ("Day 5/100: finished chapter 3", 5),
        ("#100DaysOfCode day 5", 5),
        ("#100DaysOfCode", None),
        ("checked in ✅", None),
        ("Checking in: 30 min of reading", None),
    ],
)
def test_check_ins(text: str, day: int | None) -> None:
    checkin = checkin_day(text)
    assert checkin is not None
    assert checkin.day == day
    if day is None:
        assert (checkin.reason_zh, checkin.reason_en) == ("打卡/签到", "a check-in")
    else:
        assert checkin.reason_zh == f"打卡第 {day} 天"
        assert checkin.reason_en == f"check-in, day {day}"


@pytest.mark.parametrize(
    "text",
    [
        "今天签到了吗？",  # asks
        "怎么打卡？",
        "别忘了打卡",  # a reminder
        "记得签到哦",
        "忘了打卡，气死",
        "网红打卡点推荐",  # a place, not a habit
        "这是我们群建立的第12天",  # a day, but neither a cue nor at the start
        "how do I check in?",
        "Don't forget to check in tonight",
        "see you in 3 days",
        "day one",
        "",
    ],
)
def test_not_check_ins(text: str) -> None:
    assert checkin_day(text) is None


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("两百", 200),
        ("三十五", 35),
        ("一百零五", 105),
        ("一千二百", 1200),
        ("二〇二四", 2024),
    ],
)
def test_chinese_numbers(numeral: str, value: int) -> None:
    assert chinese_number(numeral) == value


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200))
def test_never_crash_on_arbitrary_text(text: str) -> None:
    intro = detect_self_intro(text)
    assert intro is None or len(intro.fields) >= 2
    checkin = checkin_day(text)
    assert checkin is None or checkin.day is None or checkin.day >= 0


@given(st.text(alphabet="第天日次打卡签到dayDAY 0123456789一二两三十百千零〇#", max_size=30))
def test_never_crash_on_check_in_like_text(text: str) -> None:
    checkin_day(text)
