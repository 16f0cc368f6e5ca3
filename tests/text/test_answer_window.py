"""The answer window per group (community.answer_window) in question_responses and
unanswered_questions; an explicit window_minutes still overrides every group.

Runs on SQLite and PostgreSQL (the `engine` fixture). Three groups with the same conversation:
"short" (window 10), "long" (window 60) and "plain" (unset: the default 30). In each, ana asks at
10:00, bo says something at 10:20 (a window answer 1200 s later, if the window reaches it), and
ana asks again at 10:30 with no one answering.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, update

from analytics_builder import StoreBuilder, at
from shequn.errors import InputError
from shequn.store import schema as t
from shequn.text.answers import answer_windows, question_responses, unanswered_questions
from shequn.text.enrich import enrich_pending


def _build(engine: Engine) -> dict[str, int]:
    s = StoreBuilder(engine)
    groups = {name: s.group(name) for name in ("short", "long", "plain")}
    ana, bo = s.person("ana"), s.person("bo")
    for name, gid in groups.items():
        s.say(
            gid,
            ana,
            at("2026-03-02 10:00"),
            "请问周末的活动几点开始？" if name != "long" else "What time does the meetup start?",
        )
        s.say(gid, bo, at("2026-03-02 10:20"), "下午两点 / 2 pm")
        s.say(gid, ana, at("2026-03-02 10:30"), "Does anyone have the slides?")
    with engine.begin() as c:
        for name, minutes in (("short", 10), ("long", 60)):
            c.execute(
                update(t.community)
                .where(t.community.c.id == groups[name])
                .values(answer_window=minutes)
            )
    enrich_pending(engine)
    return groups


def _answered(engine: Engine, **kwargs) -> dict[tuple[int, str], float | None]:
    """(group, HH:MM of the question) -> response seconds, None when unanswered."""
    table = question_responses(engine, **kwargs)
    return {
        (r["community_id"], r["sent_at"].strftime("%H:%M")): r["response_seconds"]
        for r in table.to_pylist()
    }


def test_each_group_uses_its_own_window(engine: Engine):
    g = _build(engine)
    assert answer_windows(engine) == {g["short"]: 10, g["long"]: 60, g["plain"]: 30}
    # 10:20 is 20 minutes after 10:00: past 10, within 60 and within the default 30
    assert _answered(engine) == {
        (g["short"], "10:00"): None,
        (g["short"], "10:30"): None,
        (g["long"], "10:00"): 1200.0,
        (g["long"], "10:30"): None,
        (g["plain"], "10:00"): 1200.0,
        (g["plain"], "10:30"): None,
    }


def test_an_explicit_window_overrides_every_group(engine: Engine):
    g = _build(engine)
    narrow = _answered(engine, window_minutes=10)
    assert [k for k, v in narrow.items() if v is not None] == []
    wide = _answered(engine, window_minutes=60)
    assert sorted(k for k, v in wide.items() if v is not None) == sorted(
        (gid, "10:00") for gid in g.values()
    )


def test_the_unanswered_list_waits_for_each_groups_window(engine: Engine):
    g = _build(engine)
    names = {gid: name for name, gid in g.items()}

    def waiting(now: str, **kwargs) -> list[tuple[str, str]]:
        table = unanswered_questions(engine, now=at(f"2026-03-02 {now}"), **kwargs)
        return [
            (names[r["community_id"]], r["sent_at"].strftime("%H:%M")) for r in table.to_pylist()
        ]

    # at 10:45: short's 10:30 question waited 15 > 10 minutes; plain's needs 11:00, long's 11:30
    assert waiting("10:45") == [("short", "10:30"), ("short", "10:00")]
    # at 11:05 plain's 10:30 question is past its 30 minutes too (sorted: order is by time)
    assert sorted(waiting("11:05")) == [("plain", "10:30"), ("short", "10:00"), ("short", "10:30")]
    # at 11:31 long's too; long's 10:00 was answered at 10:20
    assert sorted(waiting("11:31")) == [
        ("long", "10:30"),
        ("plain", "10:30"),
        ("short", "10:00"),
        ("short", "10:30"),
    ]
    # an explicit 60 holds for all: at 11:05 nothing has waited an hour yet except 10:00 ones,
    # and every 10:00 question was answered at 10:20 under a 60-minute window
    assert waiting("11:05", window_minutes=60) == []
    assert sorted(waiting("11:31", window_minutes=60)) == [
        ("long", "10:30"),
        ("plain", "10:30"),
        ("short", "10:30"),
    ]
    assert waiting("10:45", groups=[g["long"]]) == []


def test_a_negative_explicit_window_is_refused(engine: Engine):
    _build(engine)
    with pytest.raises(InputError) as info:
        unanswered_questions(engine, now=datetime(2026, 3, 2, tzinfo=UTC), window_minutes=-5)
    assert info.value.field == "window_minutes"


def test_the_window_bound_stays_per_question_in_sql(store):
    """The stored window is read from the question's own group row: the window subquery must
    correlate `community` rather than scan it (an uncorrelated one gave the same answers, since
    each answer is checked again in Python, but cost 90× on 450,000 messages)."""
    from sqlalchemy import text

    from shequn.text.answers import _questions_query

    with store.engine.connect() as conn:
        query = _questions_query(conn, None, None, None, None)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        plan = [row[3] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]
    assert not any("SCAN community" in step for step in plan), plan
    assert any("community_id=? AND sent_at>? AND sent_at<?" in step for step in plan), plan
