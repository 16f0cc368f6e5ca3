"""Incremental enrichment: each message labelled once into message_label, resumable, idempotent.

The scenario runs on SQLite and PostgreSQL (the `engine` fixture; PostgreSQL skips without
SHEQUN_TEST_DATABASE_URL).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, update

from analytics_builder import StoreBuilder, at
from shequn.errors import InputError
from shequn.store import schema as t
from shequn.text.enrich import enrich_pending, label_message, pending

# (text, kind) -> what enrichment stores, worked out from the rules:
# (is_question, feedback, feedback_confidence, offtopic, theme_score, is_intro, is_checkin).
# The group's theme: description "笔记软件 Notely 的内测用户", keywords 导出 and notely, so one
# keyword in a message scores 1 / (1 + 0.5) = 0.667; a too-short message gets no score.
SCENARIO: list[tuple[str, str, tuple | None]] = [
    ("请问怎么导出数据？", "text", (True, None, None, None, 0.667, False, False)),
    ("How do I export from Notely?", "text", (True, None, None, None, 0.667, False, False)),
    ("app一打开就闪退，导出也报错", "text", (False, "defect", 0.95, None, 0.667, False, False)),
    ("[红包]恭喜发财", "red_packet", (False, None, None, "red_packet", None, False, False)),
    ("感谢大家支持", "red_packet", (False, None, None, "red_packet", None, False, False)),
    ("加我微信 代购 需要的私聊", "text", (False, None, None, "ad", 0.0, False, False)),
    (
        "大家好，我叫王伟，来自杭州，在阿里做产品经理，想来学习运营",
        "text",
        (False, None, None, None, 0.0, True, False),
    ),
    ("打卡第12天", "text", (False, None, None, None, None, False, True)),
    ("Day 12 done: ran 5km", "media", (False, None, None, None, 0.0, False, True)),
    ("王伟 joined the group", "system", None),
    ("😂", "sticker", None),
    ("   ", "text", None),
]


def _group_with_theme(store: StoreBuilder) -> int:
    gid = store.group("notely-beta")
    with store.engine.begin() as c:
        c.execute(
            update(t.community)
            .where(t.community.c.id == gid)
            .values(theme="笔记软件 Notely 的内测用户", keywords=json.dumps(["导出", "notely"]))
        )
    return gid


def _fill(store: StoreBuilder) -> tuple[int, list[int]]:
    gid = _group_with_theme(store)
    ana = store.person("ana")
    for minute, (text, kind, _) in enumerate(SCENARIO):
        store.say(gid, ana, at(f"2026-03-02 10:{minute:02d}"), text, kind=kind)
    with store.engine.connect() as c:
        ids = list(c.execute(select(t.message.c.id).order_by(t.message.c.id)).scalars())
    return gid, ids


def _labels(engine: Engine) -> list[tuple]:
    ml = t.message_label.c
    with engine.connect() as c:
        return [
            tuple(r)
            for r in c.execute(
                select(
                    ml.message_id,
                    ml.community_id,
                    ml.is_question,
                    ml.feedback,
                    ml.feedback_confidence,
                    ml.offtopic,
                    ml.theme_score,
                    ml.is_intro,
                    ml.is_checkin,
                ).order_by(ml.message_id)
            )
        ]


def _expected(gid: int, ids: list[int], upto: int | None = None) -> list[tuple]:
    return [
        (mid, gid, *label)
        for mid, (_, _, label) in zip(ids, SCENARIO, strict=True)
        if label is not None and (upto is None or mid <= upto)
    ]


def _watermark(engine: Engine) -> int | None:
    s = t.search_state.c
    with engine.connect() as c:
        return c.execute(select(s.last_message_id).where(s.name == "enrich")).scalar()


def test_every_rule_once_per_message_on_sqlite_and_postgresql(engine: Engine) -> None:
    store = StoreBuilder(engine)
    gid, ids = _fill(store)
    assert pending(engine) == 12
    seen: list[tuple[int, int]] = []
    done = enrich_pending(engine, batch=5, workers=1, progress=lambda d, n: seen.append((d, n)))
    assert done == 12  # the system notice, the sticker and the blank text included: no row
    assert seen == [(5, 12), (10, 12), (12, 12)]
    assert _labels(engine) == _expected(gid, ids)
    assert _watermark(engine) == ids[-1]
    assert pending(engine) == 0
    assert enrich_pending(engine, workers=1) == 0  # re-running adds nothing
    assert _labels(engine) == _expected(gid, ids)


def test_a_killed_run_resumes_after_its_last_batch(store: StoreBuilder) -> None:
    gid, ids = _fill(store)

    def killed(done: int, total: int) -> None:
        if done >= 4:
            raise KeyboardInterrupt  # stopped after the second batch had committed

    with pytest.raises(KeyboardInterrupt):
        enrich_pending(store.engine, batch=2, workers=1, progress=killed)
    assert _watermark(store.engine) == ids[3]
    assert _labels(store.engine) == _expected(gid, ids, upto=ids[3])
    assert pending(store.engine) == 8
    assert enrich_pending(store.engine, batch=2, workers=1) == 8
    assert _labels(store.engine) == _expected(gid, ids)
    assert pending(store.engine) == 0


def test_rows_written_before_a_lost_watermark_are_not_duplicated(store: StoreBuilder) -> None:
    gid, ids = _fill(store)
    enrich_pending(store.engine, workers=1)
    with store.engine.begin() as c:  # as if the run crashed before recording how far it got
        c.execute(update(t.search_state).values(last_message_id=ids[2]))
    assert enrich_pending(store.engine, workers=1) == 9
    assert _labels(store.engine) == _expected(gid, ids)


def test_new_messages_are_labelled_on_the_next_run(store: StoreBuilder) -> None:
    gid, _ = _fill(store)
    enrich_pending(store.engine, workers=1)
    later = store.say(gid, store.person("bo"), at("2026-03-03 09:00"), "有没有人会用导出功能")
    assert pending(store.engine) == 1
    assert enrich_pending(store.engine, workers=1) == 1
    with store.engine.connect() as c:
        new_id = c.execute(
            select(t.message.c.id).where(t.message.c.platform_msg_id == later)
        ).scalar_one()
    assert _labels(store.engine)[-1] == (new_id, gid, True, None, None, None, 0.667, False, False)


def test_worker_processes_give_the_same_labels(store: StoreBuilder) -> None:
    gid, ids = _fill(store)
    assert enrich_pending(store.engine, batch=3, workers=2) == 12
    assert _labels(store.engine) == _expected(gid, ids)
    assert _watermark(store.engine) == ids[-1]


def test_a_group_without_a_theme_is_scored_against_its_name(store: StoreBuilder) -> None:
    gid = store.group("跑步打卡群")
    bad = store.group("broken")
    with store.engine.begin() as c:  # keywords that are not a JSON array are ignored
        c.execute(update(t.community).where(t.community.c.id == bad).values(keywords="跑步"))
    ana = store.person("ana")
    store.say(gid, ana, at("2026-03-02 07:00"), "今天跑步10公里")
    store.say(gid, ana, at("2026-03-02 07:01"), "今天去超市买菜了")
    store.say(bad, ana, at("2026-03-02 07:02"), "今天去超市买菜了")
    enrich_pending(store.engine, workers=1)
    # the name's terms 跑步 and 打卡 weigh 0.6 as description words: 0.6 / (0.6 + 0.5) = 0.545
    assert [row[6] for row in _labels(store.engine)] == [0.545, 0.0, 0.0]


def test_label_message_without_a_theme() -> None:
    assert label_message("请问怎么导出数据？") == (True, None, None, None, None, False, False)
    assert label_message("", kind="text") is None
    assert label_message("joined", kind="system") is None


def test_batch_must_be_positive(store: StoreBuilder) -> None:
    with pytest.raises(InputError):
        enrich_pending(store.engine, batch=0)
