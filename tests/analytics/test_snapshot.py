"""The insights snapshot: refresh, read back through DuckDB, generations, group scoping."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from sqlalchemy import create_engine

from analytics_builder import StoreBuilder, at
from shequn.analytics.registry import all_metrics
from shequn.analytics.run import make_base, open_engine, run_metric
from shequn.analytics.snapshot import (
    Insights,
    refresh_snapshot,
    snapshot_age,
    snapshot_dir,
    write_snapshot,
)
from shequn.config import get_settings
from shequn.errors import InputError, NotFound

META = {"since": "2026-03-02", "until": "2026-03-08"}


def _two_groups(store: StoreBuilder) -> tuple[int, int]:
    """g1: alice 3 messages on 2 days, bob 1, carol none; g2: dave 2 on one day."""
    g1, g2 = store.group("g1"), store.group("g2")
    alice, bob, carol, dave = (store.person(n) for n in ("alice", "bob", "carol", "dave"))
    for who in (alice, bob, carol):
        store.member(g1, who)
    store.member(g2, dave)
    store.say(g1, alice, at("2026-03-02 10:00"), "早上好")
    store.say(g1, bob, at("2026-03-02 10:05"))
    store.say(g1, alice, at("2026-03-03 09:00"))
    store.say(g1, alice, at("2026-03-03 09:30"))
    store.say(g2, dave, at("2026-03-04 12:00"))
    store.say(g2, dave, at("2026-03-04 12:30"))
    return g1, g2


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory):
    """One refreshed snapshot of _two_groups for the read-only tests (a refresh takes seconds)."""
    from shequn.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('snap') / 'store.db'}")
    upgrade(engine)
    store = StoreBuilder(engine)
    g1, g2 = _two_groups(store)
    seen: list[str] = []
    path = refresh_snapshot(engine, progress=seen.append)
    insights = Insights.open(engine)
    assert insights is not None
    yield store, insights, (g1, g2), path, seen
    insights.close()
    engine.dispose()


def _expected(engine, metrics: tuple[str, ...], lang: str) -> dict[str, list[dict]]:
    """The same metrics straight from run_metric, with their why, as a page shows them."""
    eng = open_engine(engine, "duckdb", cache=False)
    base = make_base(eng)
    out = {}
    for metric in metrics:
        result = run_metric(metric, base, eng, lang=lang)
        out[metric] = [{**row, "why": row.get("why", "")} for row in result.rows()]
    return out


def test_no_snapshot_yet(store):
    assert Insights.open(store.engine) is None
    assert snapshot_age(store.engine) is None


def test_snapshot_dir_beside_sqlite_and_hashed_for_postgres(tmp_path):
    sqlite = create_engine(f"sqlite:///{tmp_path / 'shequn.db'}")
    assert snapshot_dir(sqlite) == tmp_path / "shequn.insights"
    one = create_engine("postgresql+psycopg://shequn:secret@db.example:5432/shequn")
    two = create_engine("postgresql+psycopg://shequn:other@db.example:5432/shequn")
    digest = hashlib.sha256(b"postgresql+psycopg://shequn@db.example:5432/shequn").hexdigest()
    assert (
        snapshot_dir(one) == snapshot_dir(two) == get_settings().data_dir / "insights" / digest[:12]
    )
    memory = create_engine("sqlite://")
    assert snapshot_dir(memory).parent == get_settings().data_dir / "insights"


def test_refresh_writes_every_metric_and_the_meta(refreshed):
    store, insights, _, path, seen = refreshed
    names = [m.name for m in all_metrics()]
    assert insights.names() == sorted(names)
    assert path == snapshot_dir(store.engine) / "gen-1"
    assert insights.since == date(2026, 3, 2)
    assert insights.until == date(2026, 3, 4)
    assert insights.meta["engine"] == "duckdb"
    assert list(insights.meta["metrics"]) == names
    assert insights.meta["metrics"]["member_stats"]["rows"] == 4
    assert insights.generated_at == snapshot_age(store.engine)
    assert (datetime.now(UTC) - insights.generated_at).total_seconds() < 600
    assert [line.split(":")[0] for line in seen] == names
    assert insights.columns("group_totals") == [
        "community_id",
        "name",
        "platform",
        "messages",
        "speakers",
        "active_days",
        "why_zh",
        "why_en",
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_rows_are_the_metric_rows_with_their_why(refreshed, lang):
    store, insights, _, _, _ = refreshed
    metrics = ("member_stats", "group_summary", "group_totals", "core_members_overall")
    for metric, expected in _expected(store.engine, metrics, lang).items():
        assert insights.rows(metric, lang=lang) == expected
    got = insights.rows("member_stats", lang=lang)
    assert [(r["display_name"], r["messages"], r["active_days"]) for r in got] == [
        ("alice", 3, 2),
        ("bob", 1, 1),
        ("carol", 0, 0),
        ("dave", 2, 1),
    ]
    assert got[0]["why"].startswith("messages 3, active days 2" if lang == "en" else "发言 3 条")
    assert "why_en" not in got[0] and "why_zh" not in got[0]


def test_filters_order_paging_and_count(refreshed):
    _, insights, (g1, g2), _, _ = refreshed

    def names(**kw):
        return [r["display_name"] for r in insights.rows("member_stats", **kw)]

    assert names(where={"display_name": "bob"}) == ["bob"]
    assert names(where={"display_name": ["dave", "alice"]}) == ["alice", "dave"]
    assert names(where={"community_id": g1, "active_days": 0}) == ["carol"]
    assert names(where={"last_seen_day": None}) == ["carol"]
    assert names(where={"display_name": []}) == []
    assert names(order_by=["messages"], desc=True) == ["alice", "dave", "bob", "carol"]
    assert names(order_by=["active_days"]) == ["carol", "bob", "dave", "alice"]
    # ties (bob and dave: one active day each) keep the stored order on every page
    pages = [names(order_by=["active_days"], limit=1, offset=i) for i in range(5)]
    assert pages == [["carol"], ["bob"], ["dave"], ["alice"], []]
    assert names(limit=2, offset=1) == ["bob", "carol"]
    assert insights.count("member_stats") == 4
    assert insights.count("member_stats", where={"community_id": g2}) == 1
    assert insights.count("member_stats", where={"display_name": []}) == 0


def test_groups_scope_every_read(refreshed):
    _, insights, (g1, g2), _, _ = refreshed
    rows = insights.rows("member_stats", groups=[g2])
    assert [r["display_name"] for r in rows] == ["dave"]
    assert insights.count("member_stats", groups=[g1]) == 3
    assert insights.count("member_stats", groups=[g1, g2]) == 4
    assert insights.rows("member_stats", groups=[]) == []
    # a group filter cannot be widened by a where on another group
    assert insights.rows("member_stats", groups=[g2], where={"community_id": g1}) == []
    # program-wide tables mix groups: none of their rows for a leader
    assert insights.count("core_members_overall") == 2
    assert insights.rows("core_members_overall", groups=[g1]) == []
    assert insights.count("program_concentration", groups=[g1]) == 0
    assert insights.csv("core_members_overall", groups=[g1]).count("\n") == 1
    assert insights.csv("member_stats", groups=[g2]).splitlines()[1].split(",")[3] == "dave"


def test_csv_header_and_rows(refreshed):
    _, insights, (g1, g2), _, _ = refreshed
    assert insights.csv("group_totals", lang="zh") == (
        "community_id,name,platform,messages,speakers,active_days,why\r\n"
        f"{g1},g1,telegram,4,2,2,\r\n"
        f"{g2},g2,telegram,2,1,1,\r\n"
    )
    one = insights.csv("group_totals", where={"name": "g2"})
    assert one.splitlines() == [
        "community_id,name,platform,messages,speakers,active_days,why",
        f"{g2},g2,telegram,2,1,1,",
    ]


def test_bad_names_and_values_are_input_errors(refreshed):
    _, insights, _, _, _ = refreshed
    with pytest.raises(InputError) as err:
        insights.rows("member_stats", where={"messages; drop": 1})
    assert err.value.field == "messages; drop"
    with pytest.raises(InputError) as err:
        insights.rows("member_stats", order_by=['messages" desc --'])
    assert err.value.field == "order_by"
    with pytest.raises(InputError) as err:
        insights.count("member_stats", where={"messages": "many"})
    assert err.value.field == "messages"
    with pytest.raises(InputError):
        insights.rows("member_stats", lang="fr")
    with pytest.raises(InputError):
        insights.rows("member_stats", limit=-1)
    with pytest.raises(NotFound):
        insights.rows("no_such_table")
    assert not insights.has("no_such_table") and insights.has("member_stats")


def _tiny(value: int) -> dict[str, pa.Table]:
    return {"t": pa.table({"community_id": [1], "v": [value]})}


def test_a_reader_keeps_its_generation_and_old_ones_go(store):
    root = snapshot_dir(store.engine)
    write_snapshot(store.engine, _tiny(1), meta=META)
    first = Insights.open(store.engine)
    assert first is not None
    write_snapshot(store.engine, _tiny(2), meta=META)
    write_snapshot(store.engine, _tiny(3), meta=META)
    # gen-1 is still read: kept beside the current one and the one before it
    assert sorted(p.name for p in root.glob("gen-*")) == ["gen-1", "gen-2", "gen-3"]
    assert first.rows("t") == [{"community_id": 1, "v": 1}]
    assert first.stale()
    with Insights.open(store.engine) as newest:  # type: ignore[union-attr]
        assert newest.rows("t") == [{"community_id": 1, "v": 3}]
        assert not newest.stale()
    first.close()
    write_snapshot(store.engine, _tiny(4), meta=META)
    assert sorted(p.name for p in root.glob("gen-*")) == ["gen-3", "gen-4"]
    assert (root / "CURRENT").read_text() == "gen-4"
    assert json.loads((root / "gen-4" / "meta.json").read_text())["since"] == "2026-03-02"


def test_a_failed_write_leaves_the_current_one(store):
    write_snapshot(store.engine, _tiny(1), meta=META)
    with pytest.raises(InputError):
        write_snapshot(store.engine, {"Bad Name": pa.table({"v": [1]})}, meta=META)
    with pytest.raises(InputError):
        write_snapshot(store.engine, _tiny(2), meta={"since": "2026-03-02"})
    root = snapshot_dir(store.engine)
    assert sorted(p.name for p in root.glob("gen-*")) == ["gen-1"]
    with Insights.open(store.engine) as insights:  # type: ignore[union-attr]
        assert insights.rows("t") == [{"community_id": 1, "v": 1}]


def test_empty_tables_keep_their_schema_and_types_round_trip(store):
    empty = pa.table({"community_id": pa.array([], pa.int64()), "why_zh": [], "why_en": []})
    when = datetime(2026, 3, 2, 10, tzinfo=UTC)
    typed = pa.table(
        {
            "community_id": [2, 1, 2],
            "at": pa.array([when, None, when], pa.timestamp("us", tz="UTC")),
            "day": [date(2026, 3, 2), None, date(2026, 3, 3)],
            "flag": [True, False, None],
        }
    )
    write_snapshot(store.engine, {"empty": empty, "typed": typed}, meta=META)
    with Insights.open(store.engine) as insights:  # type: ignore[union-attr]
        assert insights.columns("empty") == ["community_id", "why_zh", "why_en"]
        assert insights.rows("empty") == [] and insights.count("empty") == 0
        assert insights.csv("empty") == "community_id,why\r\n"
        # clustered by group, the given order kept within one
        assert insights.rows("typed") == [
            {"community_id": 1, "at": None, "day": None, "flag": False},
            {"community_id": 2, "at": when, "day": date(2026, 3, 2), "flag": True},
            {"community_id": 2, "at": when, "day": date(2026, 3, 3), "flag": None},
        ]
        assert insights.rows("typed", where={"day": date(2026, 3, 3)})[0]["flag"] is None


def test_threads_share_one_reader(store):
    rows = [{"community_id": i % 7, "v": i} for i in range(1000)]
    write_snapshot(store.engine, {"t": pa.Table.from_pylist(rows)}, meta=META)
    with Insights.open(store.engine) as insights:  # type: ignore[union-attr]

        def page(group: int) -> list[int]:
            got = insights.rows("t", groups=[group], order_by=["v"], desc=True, limit=3)
            return [r["v"] for r in got]

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(page, [g % 7 for g in range(64)]))
    for group, got in zip(range(64), results, strict=True):
        top = sorted((v for v in range(1000) if v % 7 == group % 7), reverse=True)[:3]
        assert got == top


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # the PostgreSQL store only
def test_refresh_on_postgres(engine, tmp_path, monkeypatch):

    class Settings:
        data_dir = tmp_path

    monkeypatch.setattr("shequn.analytics.snapshot.get_settings", lambda: Settings)
    store = StoreBuilder(engine)
    g1, g2 = _two_groups(store)
    refresh_snapshot(engine)
    with Insights.open(engine) as insights:  # type: ignore[union-attr]
        assert insights.meta["engine"] == "postgres"
        eng = open_engine(engine, "postgres")
        try:
            expected = run_metric("member_stats", make_base(eng), eng, lang="zh").rows()
        finally:
            eng.close()  # type: ignore[attr-defined]
        assert insights.rows("member_stats", lang="zh") == expected
        assert insights.count("member_stats", groups=[g1]) == 3
        assert insights.count("member_stats", groups=[g2]) == 1
        assert snapshot_dir(engine).parent == tmp_path / "insights"
