"""`connections` on a hand-built store; every expected value is worked out by hand.

Also the label plumbing it rests on: `Base.signals` reads only labelled rows that carry a signal,
and the text library's on-theme bar is the one the store reader keeps.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from analytics_builder import StoreBuilder, at, day, rows, run
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine
from shequn.analytics.registry import get_metric
from shequn.analytics.store_read import SIGNAL_THEME_FLOOR
from shequn.store import schema as t

SH = "Asia/Shanghai"
COLS = (
    "community_id",
    "name",
    "messages",
    "member_replies",
    "member_reply_share",
    "questions",
    "answered_by_members",
    "answered_by_operators",
    "unanswered",
    "member_answer_share",
    "invitations",
    "inviters",
)


def label(store: StoreBuilder, group: int, pmid: str, **values: Any) -> None:
    """A `message_label` row for message `pmid` of `group` (what `text.enrich` writes)."""
    with store.engine.begin() as c:
        mid = c.execute(
            select(t.message.c.id).where(
                (t.message.c.community_id == group) & (t.message.c.platform_msg_id == pmid)
            )
        ).scalar_one()
        c.execute(t.message_label.insert().values(message_id=mid, community_id=group, **values))


def question_group(store: StoreBuilder, platform: str = "telegram") -> dict[str, int]:
    """Week Mon 2 – Sun 8 March 2026 in Shanghai: three questions, replies, invitations.

    UGC (members' messages): q1 A, r1 B, q2 B, r2b A, q3 C, self-reply C, A→op, C at 23:50 on
    Sunday = 8 (the 00:10 Monday reply is after the period; op's and the bot's are not UGC).
    Member-to-member replies: r1 B→A, r2b A→B, C→A at 23:50 = 3 (C to herself, A to op and
    anything by op or the bot are not) → share 3/8 = 0.375.
    Questions by members: q1 (first reply B: a member), q2 (first reply op at 11:02, before A
    at 11:05: an operator), q3 (only C herself and the bot replied: unanswered); op's own
    question is not a member's. member_answer_share = 1 / 2.
    Invitations: D (3 Mar) and E (4 Mar) by A; F joined 20 Feb (before the period) by B; the
    bot's spell (by A) is a bot's → 2 invitations, 1 inviter.
    """
    g = store.group("上海群", platform=platform, tz=SH)
    other = store.group("empty", platform=platform, tz="UTC")
    bots = store.group("bots", platform=platform, tz="UTC")
    a, b, c, op = (store.person(platform=platform, name=n) for n in ("A", "B", "C", "op"))
    d, e, f = (store.person(platform=platform, name=n) for n in ("D", "E", "F"))
    bot = store.person(platform=platform, name="bot", bot=True)
    for m in (a, b, c):
        store.member(g, m)
    store.member(g, op, role="admin")
    store.member(g, d, joined=at("2026-03-03 10:00", SH), inviter=a)
    store.member(g, e, joined=at("2026-03-04 10:00", SH), inviter=a)
    store.member(g, f, joined=at("2026-02-20 10:00", SH), inviter=b)
    store.member(g, bot, joined=at("2026-03-02 10:00", SH), inviter=a)
    store.member(bots, bot)
    q1 = store.say(g, a, at("2026-03-02 10:00", SH), "怎么报名？")
    store.say(g, b, at("2026-03-02 10:05", SH), "群公告里有", reply_to=q1)
    store.say(g, op, at("2026-03-02 10:10", SH), "看公告", reply_to=q1)
    q2 = store.say(g, b, at("2026-03-02 11:00", SH), "几点开始？")
    store.say(g, op, at("2026-03-02 11:02", SH), "八点", reply_to=q2)
    store.say(g, a, at("2026-03-02 11:05", SH), "八点吧", reply_to=q2)
    q3 = store.say(g, c, at("2026-03-02 12:00", SH), "有人去吗？")
    store.say(g, c, at("2026-03-02 12:01", SH), "我先去", reply_to=q3)
    store.say(g, bot, at("2026-03-02 12:02", SH), "自动回复", reply_to=q3)
    opq = store.say(g, op, at("2026-03-02 13:00", SH), "大家满意吗？")
    store.say(g, a, at("2026-03-02 13:05", SH), "满意", reply_to=opq)
    store.say(g, c, at("2026-03-08 23:50", SH), "我也想知道", reply_to=q1)
    store.say(g, c, at("2026-03-09 00:10", SH), "周一了", reply_to=q1)
    store.say(bots, bot, at("2026-03-03 10:00", SH), "beep")
    for pmid in (q1, q2, q3, opq):
        label(store, g, pmid, is_question=True)
    return {"g": g, "other": other, "bots": bots}


def test_connections_by_hand(store):
    ids = question_group(store)
    result = run(store, "connections", since="2026-03-02", until="2026-03-08")
    assert rows(result, *COLS) == [
        (ids["g"], "上海群", 8, 3, 0.375, 3, 1, 1, 1, 0.5, 2, 1),
        (ids["other"], "empty", 0, 0, 0.0, 0, 0, 0, 0, 0.0, 0, 0),
        (ids["bots"], "bots", 0, 0, 0.0, 0, 0, 0, 0, 0.0, 0, 0),
    ]
    why = result.rows()[0]["why"]
    assert why.startswith("8 member messages, 3 member-to-member replies (37.5%)")


def test_connections_of_one_day(store):
    """Monday 2 March alone: C's Sunday reply and the invitations of 3 and 4 March fall
    outside → 7 UGC, 2 member replies (2/7 = 0.2857), the same three questions, no invitations."""
    ids = question_group(store)
    result = run(store, "connections", since="2026-03-02", until="2026-03-02")
    assert rows(result, *COLS)[0] == (ids["g"], "上海群", 7, 2, 0.2857, 3, 1, 1, 1, 0.5, 0, 0)


def test_signals_keep_only_rows_with_a_signal(store):
    """Rows all false with a low theme score stay behind; each signal alone keeps its row."""
    g = store.group("g")
    a = store.person("a")
    store.member(g, a)
    pmids = [store.say(g, a, at(f"2026-03-02 10:{i:02d}"), f"m{i}") for i in range(7)]
    label(store, g, pmids[0])  # nothing
    label(store, g, pmids[1], theme_score=SIGNAL_THEME_FLOOR - 0.01)
    label(store, g, pmids[2], is_question=True)
    label(store, g, pmids[3], feedback="defect", feedback_confidence=0.9)
    label(store, g, pmids[4], offtopic="red_packet")
    label(store, g, pmids[5], is_intro=True, theme_score=0.2)
    label(store, g, pmids[6], theme_score=SIGNAL_THEME_FLOOR)
    engine = DuckDBEngine(store.engine, default_tz="UTC")
    engine.refresh()
    base = Base(engine.raw(), since_day=day("2026-03-02"), until_day=day("2026-03-02"))
    s = base.signals.order_by("epoch")
    got = engine.execute(
        s.select("platform_msg_id", "is_question", "feedback", "offtopic", "is_intro")
    )
    assert got.to_pylist() == [
        {"platform_msg_id": pmids[2], "is_question": True, "feedback": None, "offtopic": None,
         "is_intro": False},
        {"platform_msg_id": pmids[3], "is_question": False, "feedback": "defect",
         "offtopic": None, "is_intro": False},
        {"platform_msg_id": pmids[4], "is_question": False, "feedback": None,
         "offtopic": "red_packet", "is_intro": False},
        {"platform_msg_id": pmids[5], "is_question": False, "feedback": None, "offtopic": None,
         "is_intro": True},
        {"platform_msg_id": pmids[6], "is_question": False, "feedback": None, "offtopic": None,
         "is_intro": False},
    ]  # fmt: skip


def test_labels_written_after_a_refresh_are_read_on_the_next(store):
    """Labels come after import: the message is already past the watermark when its label
    arrives, so the signal table is read whole on every refresh."""
    g = store.group("g")
    a = store.person("a")
    store.member(g, a)
    q = store.say(g, a, at("2026-03-02 10:00"), "why?")
    engine = DuckDBEngine(store.engine, default_tz="UTC")
    engine.refresh()
    label(store, g, q, is_question=True)
    engine.refresh()
    base = Base(engine.raw(), since_day=day("2026-03-02"), until_day=day("2026-03-02"))
    result = get_metric("connections").compute(base, {})
    assert engine.execute(result.select("questions")).to_pylist() == [{"questions": 1}]


def test_signal_floor_is_the_text_librarys_on_theme_bar():
    from shequn.text.theme import ON_THEME_AT

    assert SIGNAL_THEME_FLOOR == ON_THEME_AT


def test_new_metrics_run_on_an_empty_store(store):
    for name in ("connections", "funnel", "kol_candidates"):
        assert rows(run(store, name, since="2026-03-02", until="2026-03-08")) == []


def test_parquet_export_carries_the_signals(store, tmp_path):
    """Spark on a cluster reads the export: the labels go with it; an older export without
    the file reads as no labels."""
    import pyarrow.parquet as pq

    from shequn.analytics.engines import _read_parquet
    from shequn.analytics.spark_io import export_parquet

    g = store.group("g")
    a = store.person("a")
    q = store.say(g, a, at("2026-03-02 10:00"), "why?")
    store.say(g, a, at("2026-03-02 10:01"), "ok")
    label(store, g, q, is_question=True)
    files = export_parquet(store.engine, tmp_path / "out")
    got = pq.read_table(files["message_signal"]).to_pylist()
    assert [(r["community_id"], r["is_question"], r["theme_score"]) for r in got] == [
        (g, True, None)
    ]
    assert _read_parquet(tmp_path, "message_signal").num_rows == 0
