"""The session archive: word search, Chinese segmented, on SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shequn.model.records import AccountRef, Community, Message
from shequn.store.search import index_pending, search, segment
from shequn.store.writer import ImportWriter

T0 = datetime(2026, 5, 1, 11, 0, tzinfo=UTC)
TEXTS = [
    ("u1", "大家好，我在做社群运营，想请教一下怎么提高活跃度？"),
    ("u2", "可以试试每天打卡，效果不错"),
    ("u3", "The app crashes when I open settings"),
    ("u1", "新版本又闪退了，能不能修一下"),
    ("u2", "运营活动下周三晚上八点开始"),
    ("u3", "Anyone tried the new crash reporter?"),
]


def _fill(engine, group="产品内测群", gid="g1", texts=TEXTS):
    with engine.begin() as conn:
        w = ImportWriter(conn, import_run_id=None)
        w.write(Community(platform="wechat", platform_id=gid, name=group))
        for i, (who, body) in enumerate(texts):
            w.write(
                Message(
                    gid,
                    f"{gid}-{i}",
                    T0 + timedelta(minutes=i),
                    AccountRef(who, name={"u1": "小王", "u2": "Lily 李", "u3": "Tom"}[who]),
                    body,
                )
            )
        w.finish()
    return index_pending(engine)


def test_segment_splits_chinese_into_words():
    tokens = segment("我在做社群运营，想请教一下")
    assert "社群" in tokens and "运营" in tokens
    assert segment("The App CRASHES!") == ["the", "app", "crashes"]


def test_chinese_word_search_finds_the_word_not_fragments(engine):
    assert _fill(engine) == len(TEXTS)
    hits = search(engine, "运营")
    assert {h.text for h in hits} == {TEXTS[0][1], TEXTS[4][1]}
    # 营活 is a substring of 运营活动 but not a word: segmented search does not match it
    assert search(engine, "营活") == []
    assert [h.text for h in search(engine, "闪退")] == [TEXTS[3][1]]


def test_english_search_all_words_and_filters(engine):
    _fill(engine)
    _fill(engine, group="Beta testers", gid="g2", texts=[("u3", "crash again on login")])
    assert {h.text for h in search(engine, "crashes")} == {TEXTS[2][1]}
    assert {h.text for h in search(engine, "crash")} == {TEXTS[5][1], "crash again on login"}
    assert [h.text for h in search(engine, "crash", group="Beta testers")] == [
        "crash again on login"
    ]
    assert [h.text for h in search(engine, "crash", sender="Tom", group="g1")] == [TEXTS[5][1]]
    assert search(engine, "crash", since=T0 + timedelta(days=1)) == []


def test_hits_come_with_neighbours(engine):
    _fill(engine)
    (hit,) = search(engine, "打卡", context=1)
    assert [c[2] for c in hit.context] == [TEXTS[0][1], TEXTS[1][1], TEXTS[2][1]]
    assert [c[3] for c in hit.context] == [False, True, False]
    assert hit.sender == "Lily 李"


def test_index_is_incremental(engine):
    assert _fill(engine) == len(TEXTS)
    assert index_pending(engine) == 0
    assert _fill(engine, gid="g3", texts=[("u1", "第二批消息")]) == 1


def test_worker_processes_index_the_same_as_one_process(engine):
    texts = [(("u1", "u2", "u3")[i % 3], f"{body} {i}") for i, (_, body) in enumerate(TEXTS * 5)]
    with engine.begin() as conn:
        w = ImportWriter(conn, import_run_id=None)
        w.write(Community(platform="wechat", platform_id="g4", name="并行"))
        for i, (who, body) in enumerate(texts):
            w.write(Message("g4", f"g4-{i}", T0 + timedelta(minutes=i), AccountRef(who), body))
        w.finish()
    assert index_pending(engine, batch=4, workers=2) == len(texts)
    assert index_pending(engine, workers=2) == 0
    found = search(engine, "运营", limit=100, context=0)
    assert sorted(h.text for h in found) == sorted(b for _, b in texts if "运营" in b)


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_segment_never_crashes_and_tokens_come_from_the_text(s):
    for tok in segment(s):
        assert tok.strip()
        assert tok in s.lower() or tok in s
