"""Questions and responses: reply and window answers, operators, bots, the unanswered list.

The conversation below runs on SQLite and PostgreSQL (the `engine` fixture; PostgreSQL skips
without SHEQUN_TEST_DATABASE_URL). Every expected value is worked out from the timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select

from analytics_builder import StoreBuilder, at
from shequn.errors import InputError
from shequn.store import schema as t
from shequn.text.answers import (
    RESPONSES_SCHEMA,
    median,
    nearest_rank,
    question_responses,
    response_summary,
    unanswered_questions,
)
from shequn.text.enrich import enrich_pending


@dataclass
class Chat:
    engine: Engine
    g: int  # group G
    h: int  # group H
    acc: dict[str, int]  # name -> account id
    ids: dict[str, int]  # label -> message id


def _build(engine: Engine) -> Chat:
    s = StoreBuilder(engine)
    g, h = s.group("G"), s.group("H")
    acc = {n: s.person(n) for n in ("ana", "bo", "cy", "oli")}
    acc["bot"] = s.person("helper-bot", bot=True)
    s.member(g, acc["oli"], role="admin")
    for name in ("ana", "bo", "cy"):
        s.member(g, acc[name])
    a, b, c, o, x = (acc[n] for n in ("ana", "bo", "cy", "oli", "bot"))
    pm: dict[str, str] = {}

    def say(label: str, who: int, hhmmss: str, text: str, *, group: int = g, reply_to=None):
        pm[label] = s.say(group, who, _t(hhmmss), text, reply_to=reply_to)

    say("hello", b, "09:50", "早上好")
    say("q1", a, "10:00", "请问怎么导出数据？")
    say("own", a, "10:05", "我用的是安卓版")  # the asker's own follow-up
    say("nag", x, "10:06", "⏰ 提醒：记得打卡")  # a bot
    say("a1", b, "10:10", "设置里有导出按钮")  # window answer to q1, 600 s
    say("q2", c, "11:00", "How do I change my avatar?")
    say("chat", b, "11:02", "nice weather today")  # in q2's window, but q2 has a reply
    say("a2", o, "11:20", "Settings → Profile → Avatar", reply_to=pm["q2"])  # operator, 1200 s
    say("q3", b, "12:00", "有没有人用过 Notion")
    say("botreply", x, "12:01", "Notion 是一款笔记软件", reply_to=pm["q3"])  # a bot: no answer
    say("thanks", c, "12:05", "谢谢，找到了", reply_to=pm["a1"])  # a reply to something else
    say("own3", b, "12:10", "我想用它记笔记")  # the asker again
    say("lunch", a, "12:40", "lunch time")  # 40 minutes later: past the window
    say("q4", a, "13:00", "Does anyone know a good CSV tool?")
    say("a4", c, "13:50", "Try csvkit", reply_to=pm["q4"])  # a reply counts at any time: 3000 s
    say("q5", c, "13:58", "what time is the meetup?")
    say("botq", x, "14:00", "今天打卡了吗？")  # a bot's question is not a question to answer
    say("hq1", a, "10:00:00", "怎么报名？", group=h)
    say("ha1", b, "10:30:00", "好的", group=h)  # exactly 30 minutes: inside the window, 1800 s
    say("hq2", a, "11:00:00", "在哪里报名？", group=h)
    say("ha2", b, "11:30:01", "收到", group=h)  # one second past the window
    enrich_pending(engine, workers=1)
    with engine.connect() as conn:
        m = t.message.c
        by_pm = dict(conn.execute(select(m.platform_msg_id, m.id)).all())
    return Chat(engine, g, h, acc, {label: by_pm[p] for label, p in pm.items()})


def _t(hhmmss: str) -> datetime:
    return at(f"2026-03-02 {hhmmss}")


@pytest.fixture
def chat(engine: Engine) -> Chat:
    return _build(engine)


def _rows(table: pa.Table, *columns: str) -> list[tuple]:
    return [tuple(r[c] for c in columns) for r in table.to_pylist()]


def test_who_answered_each_question_and_how(chat: Chat) -> None:
    table = question_responses(chat.engine, groups=[chat.g])
    assert table.schema == RESPONSES_SCHEMA
    i, a = chat.ids, chat.acc
    cols = ("message_id", "account_id", "display_name", "sent_at", "answered")
    assert _rows(table, *cols) == [
        (i["q1"], a["ana"], "ana", _t("10:00"), True),
        (i["q2"], a["cy"], "cy", _t("11:00"), True),
        (i["q3"], a["bo"], "bo", _t("12:00"), False),
        (i["q4"], a["ana"], "ana", _t("13:00"), True),
        (i["q5"], a["cy"], "cy", _t("13:58"), False),  # its window is still open at 14:00
    ]
    cols = ("answer_message_id", "answered_by_account_id", "answered_by_operator")
    assert _rows(table, *cols, "response_seconds", "how") == [
        (i["a1"], a["bo"], False, 600.0, "window"),
        (i["a2"], a["oli"], True, 1200.0, "reply"),
        (None, None, None, None, None),
        (i["a4"], a["cy"], False, 3000.0, "reply"),
        (None, None, None, None, None),
    ]


def test_the_window_ends_exactly_window_minutes_after(chat: Chat) -> None:
    table = question_responses(chat.engine, groups=[chat.h])
    assert _rows(table, "message_id", "answer_message_id", "response_seconds", "how") == [
        (chat.ids["hq1"], chat.ids["ha1"], 1800.0, "window"),
        (chat.ids["hq2"], None, None, None),
    ]
    wider = question_responses(chat.engine, groups=[chat.h], window_minutes=31)
    assert _rows(wider, "answer_message_id")[1] == (chat.ids["ha2"],)


def test_since_and_until_select_the_questions_not_the_answers(chat: Chat) -> None:
    table = question_responses(chat.engine, since=_t("10:00"), until=_t("11:00"))
    # q1 and hq1 at 10:00 (since is inclusive), not q2 at 11:00 nor hq2 (until is exclusive)
    assert sorted(_rows(table, "message_id", "answered")) == sorted(
        [(chat.ids["q1"], True), (chat.ids["hq1"], True)]
    )
    late = question_responses(chat.engine, groups=[chat.g], since=_t("12:30"), until=_t("13:30"))
    assert _rows(late, "message_id", "answer_message_id") == [(chat.ids["q4"], chat.ids["a4"])]


def test_summary_per_group(chat: Chat) -> None:
    summary = response_summary(question_responses(chat.engine))
    assert summary.to_pylist() == [
        # G: answered in 600, 1200 and 3000 s; median 1200, p90 at rank ceil(0.9 × 3) = 3
        {
            "community_id": chat.g,
            "questions": 5,
            "answered": 3,
            "unanswered_share": 0.4,
            "median_response_s": 1200.0,
            "p90_response_s": 3000.0,
            "answered_by_members": 2,
            "answered_by_operators": 1,
        },
        {
            "community_id": chat.h,
            "questions": 2,
            "answered": 1,
            "unanswered_share": 0.5,
            "median_response_s": 1800.0,
            "p90_response_s": 1800.0,
            "answered_by_members": 1,
            "answered_by_operators": 0,
        },
    ]


def test_unanswered_once_the_window_has_passed(chat: Chat) -> None:
    early = unanswered_questions(chat.engine, now=_t("14:10"))
    # q5 (13:58) is still inside its window; hq2 waits since 11:00, q3 since 12:00
    assert _rows(early, "message_id", "community_id") == [
        (chat.ids["q3"], chat.g),
        (chat.ids["hq2"], chat.h),
    ]
    later = unanswered_questions(chat.engine, now=_t("14:30"))
    assert _rows(later, "message_id") == [(chat.ids["q5"],), (chat.ids["q3"],), (chat.ids["hq2"],)]
    one_each = unanswered_questions(chat.engine, now=_t("14:30"), limit_per_group=1)
    assert _rows(one_each, "message_id") == [(chat.ids["q5"],), (chat.ids["hq2"],)]
    only_g = unanswered_questions(chat.engine, groups=[chat.g], now=_t("14:10"))
    assert _rows(only_g, "message_id") == [(chat.ids["q3"],)]


def test_an_unanswered_question_comes_in_its_conversation(chat: Chat) -> None:
    table = unanswered_questions(chat.engine, groups=[chat.g], now=_t("14:10"))
    row = table.to_pylist()[0]
    assert (row["text"], row["display_name"], row["person_id"]) == (
        "有没有人用过 Notion",
        "bo",
        _person(chat, "bo"),
    )
    shown = [
        ("q2", "11:00", "cy", "How do I change my avatar?"),
        ("chat", "11:02", "bo", "nice weather today"),
        ("a2", "11:20", "oli", "Settings → Profile → Avatar"),
        ("q3", "12:00", "bo", "有没有人用过 Notion"),
        ("botreply", "12:01", "helper-bot", "Notion 是一款笔记软件"),
        ("thanks", "12:05", "cy", "谢谢，找到了"),
        ("own3", "12:10", "bo", "我想用它记笔记"),
    ]
    assert json.loads(row["context"]) == [
        {
            "message_id": chat.ids[label],
            "sent_at": f"2026-03-02T{hhmm}:00+00:00",
            "display_name": name,
            "text": text,
        }
        for label, hhmm, name, text in shown
    ]


def _person(chat: Chat, name: str) -> int:
    with chat.engine.connect() as conn:
        a = t.account.c
        return conn.execute(select(a.person_id).where(a.id == chat.acc[name])).scalar_one()


def test_no_questions_gives_empty_tables(store: StoreBuilder) -> None:
    g = store.group("quiet")
    store.say(g, store.person("ana"), at("2026-03-02 10:00"), "早上好")
    enrich_pending(store.engine, workers=1)
    table = question_responses(store.engine)
    assert table.num_rows == 0 and table.schema == RESPONSES_SCHEMA
    assert response_summary(table).num_rows == 0
    now = datetime(2026, 3, 3, tzinfo=UTC)
    assert unanswered_questions(store.engine, now=now).num_rows == 0


def test_summary_median_and_nearest_rank_p90_by_hand() -> None:
    def row(cid: int, seconds: float | None, operator: bool = False) -> dict:
        answered = seconds is not None
        return {
            "community_id": cid,
            "answered": answered,
            "answered_by_operator": operator if answered else None,
            "response_seconds": seconds,
        }

    rows = [row(1, s) for s in (40, 10, 30)] + [row(1, 20, True), row(1, None)]
    rows += [row(2, float(s)) for s in range(10, 0, -1)]
    rows += [row(3, None), row(3, None)]
    table = pa.Table.from_pylist(rows, schema=RESPONSES_SCHEMA)
    got = response_summary(table).to_pylist()
    keys = ("community_id", "questions", "answered", "unanswered_share")
    keys += ("median_response_s", "p90_response_s", "answered_by_members", "answered_by_operators")
    assert [tuple(r[k] for k in keys) for r in got] == [
        # 10, 20, 30, 40: median (20 + 30) / 2; p90 rank ceil(3.6) = 4 -> 40
        (1, 5, 4, 0.2, 25.0, 40.0, 3, 1),
        # 1..10: median (5 + 6) / 2; p90 rank ceil(9.0) = 9 -> 9
        (2, 10, 10, 0.0, 5.5, 9.0, 10, 0),
        (3, 2, 0, 1.0, None, None, 0, 0),
    ]
    assert median([1.0, 2.0, 9.0]) == 2.0 and nearest_rank([5.0], 90) == 5.0
    assert round(1 - 2 / 3, 4) == 0.3333  # the share's rounding, as in the summary


def test_naive_times_and_negative_windows_are_refused(store: StoreBuilder) -> None:
    with pytest.raises(InputError):
        question_responses(store.engine, since=datetime(2026, 3, 2))
    with pytest.raises(InputError):
        question_responses(store.engine, window_minutes=-1)
    with pytest.raises(InputError):
        unanswered_questions(store.engine, now=datetime(2026, 3, 2))
