"""Enrichment by worker processes that read their own id ranges (text/enrich_workers.py).

The workers must store exactly what one process stores, on SQLite and PostgreSQL (the `engine`
fixture; PostgreSQL skips without SHEQUN_TEST_DATABASE_URL), keep the watermark in order, and a
worker that dies must stop the run with an error, leaving only whole batches written.
"""

from __future__ import annotations

import os

import pytest
from sqlalchemy import Engine, create_engine, delete, select

from analytics_builder import StoreBuilder, at
from shequn.errors import ShequnError
from shequn.store import schema as t
from shequn.text import enrich_workers
from shequn.text.enrich import WATERMARK, enrich_pending

# (text, kind, the stored label values) worked out from the rules, as in test_enrich.py: the
# groups have no theme description or keywords, so they are scored against their names, which
# none of these texts share (0.0), and too-short texts get no score (None).
MESSAGES: list[tuple[str, str, tuple | None]] = [
    ("请问怎么导出数据？", "text", (True, None, None, None, 0.0, False, False)),
    ("app一打开就闪退，导出也报错", "text", (False, "defect", 0.95, None, 0.0, False, False)),
    ("[红包]恭喜发财", "red_packet", (False, None, None, "red_packet", None, False, False)),
    ("加我微信 代购 需要的私聊", "text", (False, None, None, "ad", 0.0, False, False)),
    ("打卡第12天", "text", (False, None, None, None, None, False, True)),
    ("王伟 joined the group", "system", None),
]


def _fill(engine: Engine) -> list[tuple]:
    """Three rounds of MESSAGES in two groups, every fourth message deleted (gaps in the ids);
    returns the label rows one process stores, in id order."""
    store = StoreBuilder(engine)
    groups = (store.group("hiking"), store.group("cooking"))
    ana = store.person("ana")
    said: list[tuple | None] = []
    for n in range(3 * len(MESSAGES)):
        text, kind, labels = MESSAGES[n % len(MESSAGES)]
        gid = groups[n % 2]
        store.say(gid, ana, at(f"2026-03-02 10:{n:02d}"), text, kind=kind)
        said.append((gid, *labels) if labels else None)
    said_ids = _ids(engine)  # in the order said
    said = list(zip(said_ids, said, strict=True))
    gone = [mid for i, (mid, _) in enumerate(said) if i % 4 == 3]
    with engine.begin() as c:
        c.execute(delete(t.message).where(t.message.c.id.in_(gone)))
    return [(mid, *row) for mid, row in said if mid not in gone and row is not None]


def _stored(engine: Engine) -> list[tuple]:
    c = t.message_label.c
    with engine.connect() as conn:
        rows = conn.execute(select(t.message_label).order_by(c.message_id)).all()
    score = [None if r.theme_score is None else round(r.theme_score, 3) for r in rows]
    return [(*r[:6], s, *r[7:]) for r, s in zip(rows, score, strict=True)]


def _watermark(engine: Engine) -> int:
    with engine.connect() as conn:
        return WATERMARK.get(conn)


def _ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(select(t.message.c.id).order_by(t.message.c.id)).scalars())


def test_workers_reading_id_ranges_store_what_one_process_stores(engine: Engine) -> None:
    expected = _fill(engine)  # 18 said, 4 deleted (3, 7, 11, 15), 14 left: 2 system notices
    assert len(expected) == 12  # (said 5 and 17) get no row
    assert enrich_workers.reads_in_workers(engine)
    assert enrich_pending(engine, batch=4, workers=2) == 14
    assert _stored(engine) == expected
    assert _watermark(engine) == _ids(engine)[-1]
    assert enrich_pending(engine, workers=2) == 0  # nothing after the watermark


def test_ranges_hold_the_batch_size_across_gaps_in_the_ids(store: StoreBuilder) -> None:
    _fill(store.engine)
    ids = _ids(store.engine)  # 14 ids with gaps where every fourth message was deleted
    ranges = list(enrich_workers._ranges(store.engine, 0, 5))
    # 5 ids per range, the last the 4 left: (0, 5th id], (5th, 10th], (10th, 14th]
    assert ranges == [(0, ids[4]), (ids[4], ids[9]), (ids[9], ids[13])]
    assert list(enrich_workers._ranges(store.engine, ids[-1], 5)) == []


def test_a_killed_worker_stops_the_run_and_a_rerun_finishes(
    store: StoreBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _fill(store.engine)
    ids = _ids(store.engine)
    labelled = enrich_workers.label_rows

    def dies_on_the_third_range(rows, themes):  # type: ignore[no-untyped-def]
        if rows and rows[0][0] == ids[6]:  # batches of 3: the third starts at the 7th id
            os._exit(9)  # as kill -9 would: no exception, no result
        return labelled(rows, themes)

    monkeypatch.setattr(enrich_workers, "label_rows", dies_on_the_third_range)
    with pytest.raises(ShequnError, match="enrichment process ended unexpectedly"):
        enrich_pending(store.engine, batch=3, workers=2)
    # whole batches before the third, in order: how many depends on when the death is seen (the
    # caller raises once a worker is gone and no result came for a second)
    done = _watermark(store.engine)
    assert done in (0, ids[2], ids[5])
    assert _stored(store.engine) == [r for r in expected if r[0] <= done]
    monkeypatch.setattr(enrich_workers, "label_rows", labelled)
    assert enrich_pending(store.engine, batch=3, workers=2) == len([i for i in ids if i > done])
    assert _stored(store.engine) == expected


def test_a_store_only_in_memory_is_not_read_by_workers() -> None:
    assert not enrich_workers.reads_in_workers(create_engine("sqlite://"))
    assert not enrich_workers.reads_in_workers(create_engine("sqlite:///:memory:"))
    assert enrich_workers.reads_in_workers(create_engine("sqlite:////tmp/shequn-x/store.db"))
