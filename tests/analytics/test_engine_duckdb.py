"""The DuckDB engine: base tables from a hand-built store, and its incremental cache."""

from __future__ import annotations

from analytics_builder import at, day, rows, run
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine


def test_local_day_follows_the_group_zone(store):
    g = store.group("上海群", tz="Asia/Shanghai")
    a = store.person("张三")
    store.member(g, a)
    # 23:30 UTC on 1 March is 07:30 on 2 March in Shanghai
    store.say(g, a, at("2026-03-01 23:30"))
    store.say(g, a, at("2026-03-01 15:59"))  # 23:59 on 1 March in Shanghai
    r = run(store, "group_totals", since="2026-03-01", until="2026-03-02")
    assert rows(r, "name", "messages", "active_days") == [("上海群", 2, 2)]
    engine = DuckDBEngine(store.engine, default_tz="UTC")
    engine.refresh()
    b = Base(engine.raw(), since_day=day("2026-03-01"), until_day=day("2026-03-02"))
    got = engine.execute(b.messages.select("day", "hour").order_by("day")).to_pylist()
    assert got == [
        {"day": day("2026-03-01"), "hour": 23},
        {"day": day("2026-03-02"), "hour": 7},
    ]


def test_refresh_reads_only_new_messages_and_recomputes_only_their_days(store, tmp_path):
    g = store.group("g")
    a, b = store.person("a"), store.person("b")
    for d in range(1, 11):
        store.say(g, a, at(f"2026-03-{d:02d} 10:00"))
    cache = tmp_path / "cache.duckdb"
    first = DuckDBEngine(store.engine, default_tz="UTC", cache=cache).refresh()
    assert (first.new_messages, first.days_recomputed, first.rebuilt) == (10, 10, True)
    store.say(g, b, at("2026-03-10 12:00"))
    store.say(g, b, at("2026-03-11 12:00"))
    engine = DuckDBEngine(store.engine, default_tz="UTC", cache=cache)
    again = engine.refresh()
    assert (again.new_messages, again.days_recomputed, again.rebuilt) == (2, 2, False)
    base = Base(engine.raw(), since_day=day("2026-03-01"), until_day=day("2026-03-31"))
    md = engine.execute(base.member_day.filter(base.member_day.day >= day("2026-03-10")))
    got = sorted((r["account_id"], r["day"], r["messages"]) for r in md.to_pylist())
    assert got == [(a, day("2026-03-10"), 1), (b, day("2026-03-10"), 1), (b, day("2026-03-11"), 1)]


def test_changing_a_group_zone_rebuilds_the_cache(store, tmp_path):
    from shequn.store import schema as t

    g = store.group("g", tz="UTC")
    a = store.person("a")
    store.say(g, a, at("2026-03-01 20:00"))
    cache = tmp_path / "cache.duckdb"
    DuckDBEngine(store.engine, default_tz="UTC", cache=cache).refresh()
    with store.engine.begin() as c:
        c.execute(t.community.update().values(timezone="Asia/Tokyo"))
    engine = DuckDBEngine(store.engine, default_tz="UTC", cache=cache)
    assert engine.refresh().rebuilt
    base = Base(engine.raw(), since_day=day("2026-03-01"), until_day=day("2026-03-03"))
    got = engine.execute(base.messages.select("day", "hour")).to_pylist()
    assert got == [{"day": day("2026-03-02"), "hour": 5}]


def test_large_reads_go_through_the_adbc_child_process_alike(store, monkeypatch):
    """Above IN_PROCESS_ROWS new messages the store is read by ADBC in a child process; the
    cached facts are the same as when read in-process (nulls, replies, zones)."""
    from shequn.analytics import store_read

    g = store.group("上海群", tz="Asia/Shanghai")
    a, b = store.person("张三"), store.person("Li")
    store.member(g, a, joined=at("2026-03-01 01:00"))
    first = store.say(g, a, at("2026-03-01 23:30"), "打卡 第1天", links=["https://x.org"])
    store.say(g, b, at("2026-03-02 01:00"), "ok", reply_to=first, mentions=["张三"])
    store.say(g, None, at("2026-03-02 02:00"), "system", kind="system")

    def facts() -> list[dict]:
        engine = DuckDBEngine(store.engine, default_tz="UTC")
        engine.refresh()
        base = Base(engine.raw(), since_day=day("2026-03-01"), until_day=day("2026-03-03"))
        return engine.execute(base.messages.order_by("id")).to_pylist()

    in_process = facts()
    monkeypatch.setattr(store_read, "IN_PROCESS_ROWS", 0)
    assert facts() == in_process
    assert [
        (r["day"], r["is_checkin"], r["n_links"], r["reply_account_id"]) for r in in_process
    ] == [
        (day("2026-03-02"), True, 1, None),
        (day("2026-03-02"), False, 0, a),
        (day("2026-03-02"), False, 0, None),
    ]


def test_refresh_resolves_replies_whose_target_arrives_later(store, tmp_path):
    """A reply imported before its target (overlapping exports) has no author to point at;
    the refresh that brings the target resolves it. A reply to a message that never comes
    stays unresolved; replies among the new messages resolve at once."""
    g = store.group("g")
    a, b, c = store.person("a"), store.person("b"), store.person("c")
    store.say(g, b, at("2026-03-02 10:00"), "yes", reply_to="early", msg_id="r1")
    store.say(g, c, at("2026-03-02 11:00"), "?", reply_to="never", msg_id="r2")
    cache = tmp_path / "cache.duckdb"
    DuckDBEngine(store.engine, default_tz="UTC", cache=cache).refresh()
    store.say(g, a, at("2026-03-02 09:00"), "ok?", msg_id="early")  # r1's target, later
    store.say(g, c, at("2026-03-03 09:00"), "me too", reply_to="r1", msg_id="r3")
    engine = DuckDBEngine(store.engine, default_tz="UTC", cache=cache)
    assert not engine.refresh().rebuilt
    base = Base(engine.raw(), since_day=day("2026-03-01"), until_day=day("2026-03-31"))
    got = engine.execute(base.messages.select("platform_msg_id", "reply_account_id"))
    replies = {r["platform_msg_id"]: r["reply_account_id"] for r in got.to_pylist()}
    assert replies == {"r1": a, "r2": None, "early": None, "r3": b}
