"""The DuckDB engine's memory-saving load (session 10): an in-memory engine keeps its tables in a
compressed in-memory database, checkpointed chunk by chunk, and resolves replies with one
statement on a first load. The tables it builds must be exactly those of a cache file engine,
and exactly what the messages say (worked out by hand below)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics_builder import at, day
from shequn.analytics import engines as engines_module
from shequn.analytics.engines import DuckDBEngine

FACT_COLUMNS = ("id", "account_id", "day", "reply_to", "reply_account_id", "is_checkin")
DAY_COLUMNS = ("community_id", "account_id", "day", "messages", "checkins", "replies_given")


def _fill(store) -> tuple[int, int, int]:
    g = store.group("g1")
    ann, bob, cat = store.person("ann"), store.person("bob"), store.person("cat")
    # message 1 replies to m3, which arrives later by id (an overlapping export); message 4
    # replies to a message the store never got; message 5 replies to message 2
    store.say(g, bob, at("2026-03-02 09:00"), "late reply", reply_to="m3")
    store.say(g, ann, at("2026-03-02 10:00"), "打卡 day 3")
    store.say(g, cat, at("2026-03-02 08:00"), "the question")
    store.say(g, ann, at("2026-03-03 23:59"), "to nowhere", reply_to="m404")
    store.say(g, cat, at("2026-03-04 00:01"), "thanks", reply_to="m2")
    return ann, bob, cat


def _rows(engine: DuckDBEngine, table: str, cols: tuple[str, ...]) -> list[tuple]:
    t = engine.con.table(table).select(*cols).to_pyarrow().to_pylist()
    return sorted(tuple(r[c] for c in cols) for r in t)


def test_in_memory_load_builds_the_cache_files_tables(store, tmp_path: Path) -> None:
    ann, bob, cat = _fill(store)
    in_memory = DuckDBEngine(store.engine, default_tz="UTC", cache=None)
    in_memory.refresh()
    cached = DuckDBEngine(store.engine, default_tz="UTC", cache=tmp_path / "c.duckdb")
    cached.refresh()
    d2, d3, d4 = day("2026-03-02"), day("2026-03-03"), day("2026-03-04")
    # by hand: ids in insertion order; a reply's target author is found whatever the order
    facts = [
        (1, bob, d2, "m3", cat, False),
        (2, ann, d2, None, None, True),
        (3, cat, d2, None, None, False),
        (4, ann, d3, "m404", None, False),
        (5, cat, d4, "m2", ann, False),
    ]
    assert _rows(in_memory, "message_f", FACT_COLUMNS) == facts
    assert _rows(cached, "message_f", FACT_COLUMNS) == facts
    g = 1
    days = sorted(
        [
            (g, ann, d2, 1, 1, 0),
            (g, ann, d3, 1, 0, 1),
            (g, bob, d2, 1, 0, 1),
            (g, cat, d2, 1, 0, 0),
            (g, cat, d4, 1, 0, 1),
        ]
    )
    assert _rows(in_memory, "member_day_all", DAY_COLUMNS) == days
    assert _rows(cached, "member_day_all", DAY_COLUMNS) == days
    # the texts are not kept: neither the chunk table nor the empty schema table is left
    for engine in (in_memory, cached):
        names = engine.con.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        assert not {n for (n,) in names} & {"message_new", "message_chunk"}


def test_in_memory_tables_live_in_the_compressed_database(store) -> None:
    _fill(store)
    engine = DuckDBEngine(store.engine, default_tz="UTC", cache=None)
    engine.refresh()
    where = engine.con.con.execute(
        "SELECT database_name FROM duckdb_tables() WHERE table_name = 'message_f'"
    ).fetchall()
    assert where == [("shequn_mem",)]


@pytest.mark.parametrize("chunk", [1, 2])
def test_chunked_first_load_matches_one_chunk(store, tmp_path: Path, monkeypatch, chunk) -> None:
    """Read through the child process in chunks of `chunk` messages (checkpointed one by one),
    the facts are those of a load in one piece."""
    _fill(store)
    whole = DuckDBEngine(store.engine, default_tz="UTC", cache=None)
    whole.refresh()
    monkeypatch.setattr(engines_module, "CHUNK", chunk)
    monkeypatch.setattr("shequn.analytics.store_read.IN_PROCESS_ROWS", 0)
    chunked = DuckDBEngine(store.engine, default_tz="UTC", cache=None)
    stats = chunked.refresh()
    assert stats.new_messages == 5
    assert _rows(chunked, "message_f", FACT_COLUMNS) == _rows(whole, "message_f", FACT_COLUMNS)
    assert _rows(chunked, "member_day_all", DAY_COLUMNS) == _rows(
        whole, "member_day_all", DAY_COLUMNS
    )
