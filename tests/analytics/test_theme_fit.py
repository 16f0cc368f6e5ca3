"""`theme_fit` on a hand-built store; every expected value is worked out by hand.

The same store runs on DuckDB and (when SHEQUN_TEST_DATABASE_URL is set) on PostgreSQL, with the
labels inserted as `text.enrich` would write them.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select

from analytics_builder import StoreBuilder, at, day, rows, run
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine, PostgresEngine
from shequn.analytics.metrics.theme import LABELLED_KINDS, REASONS
from shequn.analytics.registry import get_metric
from shequn.analytics.run import run_metric
from shequn.errors import InputError
from shequn.store import schema as t

SH = "Asia/Shanghai"
SINCE, UNTIL = "2026-03-02", "2026-03-15"  # Monday 2 to Sunday 15 March: two whole weeks
W1, W2 = (day("2026-03-02") + 3) // 7, (day("2026-03-09") + 3) // 7
COLS = (
    "community_id",
    "name",
    "week",
    "week_start",
    "messages",
    "on_theme",
    "on_theme_share",
    "off_topic",
    "off_topic_share",
    "top_off_topic",
    "top_off_topic_messages",
    "theme_scored",
    "flagged",
)


def say(store: StoreBuilder, group: int, who: int, when: str, tz: str = "UTC", *,
        kind: str = "text", **label: Any) -> str:  # fmt: skip
    """A message, and its `message_label` row when `label` names any value."""
    pmid = store.say(group, who, at(when, tz), "…", kind=kind)
    if label:
        with store.engine.begin() as c:
            m = t.message.c
            mid = c.execute(
                select(m.id).where((m.community_id == group) & (m.platform_msg_id == pmid))
            ).scalar_one()
            c.execute(t.message_label.insert().values(message_id=mid, community_id=group, **label))
    return pmid


def build(store: StoreBuilder) -> dict[str, int]:
    """Five groups over Mon 2 – Sun 15 March 2026.

    读书群 (Shanghai). Week 1 (2–8 Mar), members' messages of the kinds labelled: A's five texts
    (0.8, exactly 0.5, an ad, no label, 0.45) and A's Sunday 23:50 local text (0.6), B's red packet
    (off-topic by kind) and B's ad that is also on theme (0.7) = 8; B's sticker is not a labelled
    kind; the admin's and the bot's messages are not members'; A's messages of Sunday 1 and
    Monday 16 March (local) are outside the period.
    → on-theme 0.8, 0.5, 0.6, 0.7 = 4 → 0.5; off-topic ad, red packet, ad = 3 → 0.375, top ad (2).
    Week 2: A's gossip at Monday 00:10 local (Sunday 16:10 UTC: still week 2 locally), B's QR code,
    0.55, and two unlabelled = 5 → on 1 → 0.2, off 2 → 0.4, gossip and qr_code tie at 1 → gossip
    (by name). Flagged with min_messages ≤ 5 (1 < 0.3 × 5), not by default (5 < 10 messages).
    English (UTC): A's linked Slack account, who left on 4 March and came back on the 5th: ten
    texts in week 1, 0.9 and 0.6 on theme, one outside link → 0.2 / 0.1, flagged by default
    (10 messages, 2 < 0.3 × 10); week 2 silent: zeros, not flagged.
    no-theme (UTC): twelve texts, one gossip, no theme score anywhere → 0 on theme but not
    scored, so not flagged. empty: zeros. bots: the bot's ad is not a member's: zeros.
    """
    g = store.group("读书群", tz=SH)
    en = store.group("English", platform="slack", tz="UTC")
    plain = store.group("no-theme", tz="UTC")
    empty = store.group("empty", tz="UTC")
    bots = store.group("bots", tz="UTC")
    a, b, op = (store.person(n) for n in ("A", "B", "op"))
    a_slack, c = store.person("A-slack", platform="slack"), store.person("C")
    bot = store.person("bot", bot=True)
    store.link(a, a_slack)
    store.member(g, a)
    store.member(g, b)
    store.member(g, op, role="admin")
    store.member(g, bot)
    store.member(en, a_slack, joined=at("2026-02-01 10:00"), left=at("2026-03-04 10:00"))
    store.member(en, a_slack, joined=at("2026-03-05 10:00"))
    store.member(plain, c)
    store.member(bots, bot)
    # 读书群, week 1
    say(store, g, a, "2026-03-02 09:00", SH, theme_score=0.8)
    say(store, g, a, "2026-03-02 09:05", SH, theme_score=0.5)
    say(store, g, a, "2026-03-03 09:00", SH, offtopic="ad")
    say(store, g, a, "2026-03-03 10:00", SH)
    say(store, g, a, "2026-03-04 10:00", SH, theme_score=0.45)
    say(store, g, a, "2026-03-08 23:50", SH, theme_score=0.6)
    say(store, g, b, "2026-03-05 12:00", SH, kind="red_packet", offtopic="red_packet")
    say(store, g, b, "2026-03-05 12:10", SH, offtopic="ad", theme_score=0.7)
    say(store, g, b, "2026-03-05 12:20", SH, kind="sticker")
    say(store, g, op, "2026-03-05 13:00", SH, theme_score=0.9)
    say(store, g, bot, "2026-03-05 14:00", SH, offtopic="ad")
    say(store, g, a, "2026-03-01 23:50", SH, theme_score=0.9)  # Sunday before: outside
    say(store, g, a, "2026-03-16 00:10", SH, theme_score=0.9)  # Monday after: outside
    # 读书群, week 2
    say(store, g, a, "2026-03-09 00:10", SH, offtopic="gossip")
    say(store, g, b, "2026-03-10 10:00", SH, offtopic="qr_code")
    say(store, g, b, "2026-03-10 10:05", SH, theme_score=0.55)
    say(store, g, b, "2026-03-10 10:10", SH)
    say(store, g, b, "2026-03-10 10:15", SH)
    # English, week 1 (before and after A's rejoin)
    for i in range(10):
        label = {0: {"theme_score": 0.9}, 1: {"theme_score": 0.6}, 2: {"offtopic": "outside_link"}}
        when = f"2026-03-0{3 if i < 5 else 6} 1{i % 5}:00"
        say(store, en, a_slack, when, **label.get(i, {}))
    say(store, plain, c, "2026-03-04 09:00", offtopic="gossip")
    for i in range(11):
        say(store, plain, c, f"2026-03-04 1{i % 10}:0{i // 10}")
    say(store, bots, bot, "2026-03-04 10:00", offtopic="ad")
    return {"g": g, "en": en, "plain": plain, "empty": empty, "bots": bots}


def expected(ids: dict[str, int], *, flag_g2: bool) -> list[tuple]:
    zeros = (0, 0, 0.0, 0, 0.0, None, 0)
    return [
        (ids["g"], "读书群", W1, "2026-03-02", 8, 4, 0.5, 3, 0.375, "ad", 2, True, False),
        (ids["g"], "读书群", W2, "2026-03-09", 5, 1, 0.2, 2, 0.4, "gossip", 1, True, flag_g2),
        (ids["en"], "English", W1, "2026-03-02", 10, 2, 0.2, 1, 0.1, "outside_link", 1, True, True),
        (ids["en"], "English", W2, "2026-03-09", *zeros, True, False),
        (ids["plain"], "no-theme", W1, "2026-03-02", 12, 0, 0.0, 1, 0.0833, "gossip", 1, False,
         False),
        (ids["plain"], "no-theme", W2, "2026-03-09", *zeros, False, False),
        (ids["empty"], "empty", W1, "2026-03-02", *zeros, False, False),
        (ids["empty"], "empty", W2, "2026-03-09", *zeros, False, False),
        (ids["bots"], "bots", W1, "2026-03-02", *zeros, False, False),
        (ids["bots"], "bots", W2, "2026-03-09", *zeros, False, False),
    ]  # fmt: skip


def test_theme_fit_by_hand(store):
    ids = build(store)
    result = run(store, "theme_fit", since=SINCE, until=UNTIL)
    assert rows(result, *COLS) == expected(ids, flag_g2=False)


def test_smaller_weeks_are_flagged_when_asked(store):
    ids = build(store)
    result = run(store, "theme_fit", since=SINCE, until=UNTIL, min_messages=5)
    assert rows(result, *COLS) == expected(ids, flag_g2=True)


def test_a_higher_on_theme_bar(store):
    """on_theme 0.6: 读书群 week 1 keeps 0.8, 0.7 and 0.6 (not 0.5) → 3/8; week 2's 0.55 drops
    → 0 of 5; English keeps both (0.9, 0.6)."""
    ids = build(store)
    result = run(store, "theme_fit", since=SINCE, until=UNTIL, on_theme=0.6)
    got = {(r[0], r[2]): (r[5], r[6]) for r in rows(result, *COLS)}
    assert got[(ids["g"], W1)] == (3, 0.375)
    assert got[(ids["g"], W2)] == (0, 0.0)
    assert got[(ids["en"], W1)] == (2, 0.2)


def test_part_of_a_week(store):
    """Tuesday 3 to Monday 9 March: 读书群 week 1 loses A's two Monday texts (0.8, 0.5) → 6
    messages, on 0.6 and 0.7 = 2 (0.3333); week 2 has only A's 00:10 gossip → 1, off 1."""
    ids = build(store)
    result = run(store, "theme_fit", since="2026-03-03", until="2026-03-09")
    got = [r for r in rows(result, *COLS) if r[0] == ids["g"]]
    assert got == [
        (ids["g"], "读书群", W1, "2026-03-02", 6, 2, 0.3333, 3, 0.5, "ad", 2, True, False),
        (ids["g"], "读书群", W2, "2026-03-09", 1, 0, 0.0, 1, 1.0, "gossip", 1, True, False),
    ]


def test_why_in_both_languages(store):
    build(store)
    result = run(store, "theme_fit", since=SINCE, until=UNTIL)
    metric = get_metric("theme_fit")
    assert metric.why is not None
    zh = [metric.why(r, "zh") for r in result.rows()]
    en = [metric.why(r, "en") for r in result.rows()]
    assert zh[0] == "本周 50% 的消息切题（共 8 条），离题 3 条，多为广告"
    assert zh[2] == "本周只有 20% 的消息切题（共 10 条），离题 1 条，多为站外链接"
    assert zh[3] == "本周没有成员发言"
    assert zh[4] == "本群消息没有主题分（共 12 条），离题 1 条，多为闲聊"
    assert en[1] == "20% of this week's messages on theme (5 messages); 2 off-topic, mostly gossip"
    assert en[2] == (
        "only 20% of this week's messages on theme (10 messages); 1 off-topic, mostly outside links"
    )
    assert en[3] == "no member messages this week"
    assert en[4] == "no theme scores for this group (12 messages); 1 off-topic, mostly gossip"


def test_bad_parameters(store):
    build(store)
    for params in ({"on_theme": 0.4}, {"on_theme": 1.5}, {"low_share": 2.0},
                   {"min_messages": -1}):  # fmt: skip
        with pytest.raises(InputError):
            run(store, "theme_fit", since=SINCE, until=UNTIL, **params)


def test_runs_on_an_empty_store(store):
    assert rows(run(store, "theme_fit", since=SINCE, until=UNTIL)) == []


def test_constants_agree_with_the_text_library():
    from shequn.text.enrich import LABELLED_KINDS as ENRICHED
    from shequn.text.offtopic import LABELS

    assert set(LABELLED_KINDS) == set(ENRICHED) | {"red_packet"}
    assert set(REASONS) == set(LABELS)


def _result(engine: Engine, kind: str) -> list[tuple]:
    eng: Any = (
        DuckDBEngine(engine, default_tz="UTC")
        if kind == "sqlite"
        else PostgresEngine(engine, default_tz="UTC")
    )
    if kind == "sqlite":
        eng.refresh()
    base = Base(eng.raw(), since_day=day(SINCE), until_day=day(UNTIL))
    result = run_metric("theme_fit", base, eng, params={"min_messages": 5})
    return rows(result, *COLS)


def test_postgres_computes_the_same(engine, request):
    """The hand-worked table on each store's own engine: DuckDB over SQLite, and PostgreSQL
    computing inside the database (the labels' join, the tie-break, the count-based flag)."""
    ids = build(StoreBuilder(engine))
    kind = request.node.callspec.params["engine"]
    assert _result(engine, kind) == expected(ids, flag_g2=True)
