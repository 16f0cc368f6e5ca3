"""`kol_candidates` on a hand-built store; the figures worked out by hand, PageRank after ten
iterations checked against the text library's reference iteration; and the three new metrics
on PostgreSQL and Spark against DuckDB with labels present."""

from __future__ import annotations

import math
import shutil

import pytest
from test_connections import label, question_group
from test_funnel import funnel_group

from analytics_builder import StoreBuilder, at, day, rows, run
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine, PostgresEngine, SparkEngine
from shequn.analytics.run import run_metric
from shequn.errors import InputError
from shequn.text.kol import pagerank

COLS = (
    "display_name",
    "rank",
    "score",
    "distinct_responders",
    "replies_received",
    "reactions_received",
    "answers",
    "on_theme_messages",
    "shares",
    "pagerank",
)


def kol_group(store: StoreBuilder, platform: str = "telegram") -> dict[str, int]:
    """One day, 2 March 2026. Member graph (responder → author, weight):
    B→A 1 (reply to A's question qa), C→A 1 (reply to a2), D→A 1 (reaction to a2),
    A→B 1 (reply to b1), C→B 2 (two replies to b1). E speaks, responds to no one (dangling).
    The operator's reply to C, the bot's reaction to A and C's reply to herself stay out.
    On theme (score ≥ 0.5): A's a2 (0.8), E's message (0.6); B's b1 (0.4) is not.
    Shares: E a link, C a file.
    """
    g = store.group("g", platform=platform)
    a, b, c, d, e, op = (
        store.person(platform=platform, name=n) for n in ("A", "B", "C", "D", "E", "op")
    )
    bot = store.person(platform=platform, name="bot", bot=True)
    for m in (a, b, c, d, e):
        store.member(g, m)
    store.member(g, op, role="admin")
    store.member(g, bot)
    t = iter(range(60))

    def say(who: int, **kw) -> str:
        return store.say(g, who, at(f"2026-03-02 10:{next(t):02d}"), **kw)

    qa = say(a, text="怎么入门？")
    a2 = say(a, text="跑步入门指南")
    b1 = say(b, text="周末约跑")
    say(b, reply_to=qa)
    say(c, reply_to=a2)
    store.react(g, a2, d)
    store.react(g, a2, bot)
    say(a, reply_to=b1)
    c1 = say(c, reply_to=b1)
    say(c, reply_to=b1)
    say(c, reply_to=c1)
    say(op, reply_to=c1)
    e1 = say(e, text="配速表", links=["https://example.com/pace"])
    say(c, kind="file", text="训练计划.pdf")
    label(store, g, qa, is_question=True)
    label(store, g, a2, theme_score=0.8)
    label(store, g, b1, theme_score=0.4)
    label(store, g, e1, theme_score=0.6)
    return {"g": g}


def test_kol_candidates_one_iteration_by_hand(store):
    """n = 5, r0 = 0.2; E is dangling (D = 0.2): r1 = 0.15/5 + 0.85·0.2/5 + 0.85·c = 0.064 +
    0.85·c, c(A) = 0.2 + 0.2/3 + 0.2 → 0.460667, c(B) = 0.2 + 0.2·2/3 → 0.347333, C D E 0.064.
    influence = (distinct/3 + (pr − 0.064)/(0.460667 − 0.064)) / 2: A 1, B (2/3 + 0.714286)/2.
    expertise = ln(1 + on_theme + 2·answers)/ln(1 + 2): A ln2/ln3, B 1 (one answer), E ln2/ln3.
    sharing = ln(1 + shares)/ln 2: C 1, E 1.
    score = 0.5·influence + 0.3·expertise + 0.2·sharing: A 0.6893, B 0.6452, E 0.3893, C 0.2,
    D 0 (left out)."""
    kol_group(store)
    result = run(store, "kol_candidates", since="2026-03-02", until="2026-03-02", iterations=1)
    assert rows(result, *COLS) == [
        ("A", 1, 0.6893, 3, 2, 1, 0, 1, 0, 0.460667),
        ("B", 2, 0.6452, 2, 3, 0, 1, 0, 0, 0.347333),
        ("E", 3, 0.3893, 0, 0, 0, 0, 1, 1, 0.064),
        ("C", 4, 0.2, 0, 0, 0, 0, 0, 1, 0.064),
    ]
    assert result.rows()[0]["why"] == "3 members responded to them; 1 on-theme messages"
    why_zh = result.metric.why(result.rows()[1], "zh")  # type: ignore[misc]
    assert why_zh == "2 位成员回应过 TA，回答问题 1 次"


def test_pagerank_after_ten_iterations_matches_the_reference(store):
    kol_group(store)
    result = run(store, "kol_candidates", since="2026-03-02", until="2026-03-02", top=5)
    graph = {("B", "A"): 1.0, ("C", "A"): 1.0, ("D", "A"): 1.0, ("A", "B"): 1.0, ("C", "B"): 2.0}
    nodes = ["A", "B", "C", "D", "E"]
    ref = pagerank(graph, nodes, damping=0.85, tolerance=0.0, max_iterations=10)
    got = {r["display_name"]: r["pagerank"] for r in result.rows()}
    assert got == {k: round(v, 6) for k, v in ref.items() if k != "D"}
    assert math.isclose(sum(ref.values()), 1.0)


def test_top_and_parameters(store):
    kol_group(store)
    result = run(
        store, "kol_candidates", since="2026-03-02", until="2026-03-02", top=2, iterations=1
    )
    assert rows(result, "display_name", "rank") == [("A", 1), ("B", 2)]
    with pytest.raises(InputError):
        run(store, "kol_candidates", since="2026-03-02", until="2026-03-02", iterations=99)


def test_kol_in_empty_and_bot_groups(store):
    store.group("empty")
    bots = store.group("bots")
    bot = store.person("bot", bot=True)
    store.member(bots, bot)
    store.say(bots, bot, at("2026-03-02 10:00"), links=["https://x.y"])
    assert rows(run(store, "kol_candidates", since="2026-03-02", until="2026-03-02")) == []


# -- the same numbers on every engine, labels included ---------------------------------------
NEW = ("connections", "funnel", "kol_candidates")


def _all_fixtures(s: StoreBuilder) -> None:
    # one store, three platforms: the fixtures' names do not collide
    question_group(s)
    funnel_group(s, platform="whatsapp")
    kol_group(s, platform="discord")


def _norm(table) -> list[tuple]:
    return [
        tuple(round(v, 6) if isinstance(v, float) else v for v in r.values())
        for r in table.to_pylist()
    ]


def _results(engine, since: str, until: str) -> dict[str, list[tuple]]:
    base = Base(engine.raw(), since_day=day(since), until_day=day(until))
    return {m: _norm(run_metric(m, base, engine).table) for m in NEW}


@pytest.fixture(scope="module")
def sqlite_fixture(tmp_path_factory):
    from shequn.store.db import make_engine, upgrade

    eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('kol') / 'store.db'}")
    upgrade(eng)
    _all_fixtures(StoreBuilder(eng))
    duck = DuckDBEngine(eng, default_tz="UTC")
    duck.refresh()
    yield eng, _results(duck, "2026-03-02", "2026-03-08")
    eng.dispose()


def test_postgres_agrees_with_duckdb(sqlite_fixture):
    import os

    from sqlalchemy import create_engine
    from test_engines_agree import _drop_schema, _pg_schema_url

    from shequn.store.db import upgrade

    pg_url = _pg_schema_url()
    if pg_url is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the postgres engine")
        pytest.skip("SHEQUN_TEST_DATABASE_URL not set")
    store = create_engine(pg_url[0], connect_args={"options": f"-csearch_path={pg_url[1]}"})
    try:
        upgrade(store)
        _all_fixtures(StoreBuilder(store))
        pg = PostgresEngine(store, default_tz="UTC")
        try:
            assert _results(pg, "2026-03-02", "2026-03-08") == sqlite_fixture[1]
        finally:
            pg.close()
    finally:
        store.dispose()
        _drop_schema(pg_url[1])


@pytest.mark.skipif(not shutil.which("java"), reason="no java: Spark cannot run here")
def test_spark_agrees_with_duckdb(sqlite_fixture):
    spark = SparkEngine(sqlite_fixture[0], default_tz="UTC")
    assert _results(spark, "2026-03-02", "2026-03-08") == sqlite_fixture[1]
