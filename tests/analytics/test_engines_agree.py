"""The whole metric registry gives identical results on DuckDB, PostgreSQL and Spark.

One hand-built program (zones, rejoins, linked accounts, bots, operators, replies, reactions,
resolved @mentions, self-introductions, check-ins, product data, discussion windows) goes into a
SQLite store and a PostgreSQL store; DuckDB and Spark read the SQLite one, PostgreSQL computes in
its own store.
"""

from __future__ import annotations

import math
import shutil
from datetime import timedelta

import pytest

from analytics_builder import StoreBuilder, at, day
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine, PostgresEngine, SparkEngine
from shequn.analytics.registry import all_metrics
from shequn.analytics.run import run_metric

SINCE, UNTIL = "2026-02-23", "2026-04-19"
# Bars low enough for the fixture's groups of a few members to move between tiers.
PARAMS = {
    m: {"growing_members": 3, "growing_score": 20.0, "core_members": 6, "core_score": 50.0}
    for m in ("group_health", "group_tiers", "tier_movements", "program_concentration")
}


def build_program(s: StoreBuilder) -> None:
    """Three groups over eight weeks; deterministic, every feature the metrics look at."""
    sh = s.group("上海跑团", tz="Asia/Shanghai", platform="wechat")
    utc = s.group("indie-hackers", tz="UTC", platform="slack")
    bots = s.group("bot-only", tz="Europe/Berlin")
    s.group("empty", tz="UTC")
    people = [s.person(n) for n in ["张伟", "李娜", "Tom", "Ana", "王芳", "Kenji", "赵敏", "Olu"]]
    bot = s.person("helper-bot", bot=True)
    admin = s.person("运营小鹿")
    s.link(people[2], s.person("tom-slack", platform="slack"))
    s.member(sh, admin, role="admin")
    s.member(bots, bot)
    s.member(sh, bot)
    for i, a in enumerate(people):
        s.member(sh, a, joined=at(f"2026-03-{1 + i:02d} 09:00") if i > 2 else None)
        if i % 2 == 0:
            s.member(utc, a, joined=at(f"2026-02-{20 + i:02d} 12:00"), inviter=people[0])
    # Ana leaves and rejoins; Kenji is removed
    s.member(sh, people[3], joined=at("2026-03-20 10:00"), left=at("2026-03-27 10:00"))
    s.member(
        sh, people[5], joined=at("2026-04-10 10:00"), left=at("2026-04-12 10:00"), reason="remove"
    )
    s.attributes(s.person_of(people[0]), usage_frequency=5.0, payments=399.0, orders=2)
    s.attributes(s.person_of(people[1]), usage_minutes=120.0)
    s.window(sh, "0,1,2,3,4", "19:20", "20:00")
    start = at("2026-02-23 00:00")
    prev: dict[int, str] = {}
    for k in range(8 * 7 * 6):  # every 4 hours for 8 weeks
        when = start + timedelta(hours=4 * k, minutes=(k * 7) % 60)
        a = people[(k * k + k // 3) % len(people)]
        if (k // 42) % 3 == 2 and a == people[1]:
            continue  # 李娜 goes quiet some weeks
        if when > at("2026-03-28 00:00") and a == people[7]:
            continue  # Olu slips away: silent, then quiet for weeks
        g = sh if k % 3 else utc
        text = f"打卡 第{k // 6}天" if k % 11 == 0 else ("有人知道吗？" if k % 5 == 0 else "ok")
        links = ["https://example.com"] if k % 13 == 0 else None
        reply = prev.get(g) if k % 4 == 0 else None
        mid = s.say(
            g,
            a,
            when,
            text,
            reply_to=reply,
            links=links,
            mentions=["李娜"] if k % 17 == 0 else None,
        )
        if k % 9 == 0:
            s.react(g, mid, people[(k + 1) % len(people)])
        prev[g] = mid
    s.say(sh, admin, at("2026-03-02 11:25"), "欢迎新朋友")  # 19:25 in Shanghai: in the window
    s.say(sh, bot, at("2026-03-02 12:00"), "签到提醒")
    s.say(bots, bot, at("2026-03-03 12:00"), "beep")
    s.say(sh, people[0], at("2026-03-08 15:50"), "23:50 上海")  # Sunday 23:50 local
    s.say(sh, people[0], at("2026-03-08 16:10"), "00:10 上海")  # Monday 00:10 local
    add_mentions_and_intros(s, sh, utc, people, admin)


def add_mentions_and_intros(
    s: StoreBuilder, sh: int, utc: int, people: list[int], admin: int
) -> None:
    """@mentions beside the names above (the operator's, one of the bot, one by id), resolved as
    a refresh does; self-introductions by newcomers: in time, late, after a rejoin, in UTC."""
    s.say(sh, admin, at("2026-03-03 02:00"), "@张伟 欢迎", mentions=["张伟"])
    s.say(sh, people[0], at("2026-03-03 02:05"), "@helper-bot", mentions=["helper-bot"])
    s.say(utc, people[4], at("2026-03-03 02:10"), "@Tom @张伟", mentions=["Tom", "张伟"])
    intros = [
        (sh, people[3], "2026-03-04 15:00"),  # Ana: 6 h after joining
        (sh, people[4], "2026-03-09 09:00"),  # 王芳: four days late
        (sh, people[5], "2026-04-10 10:30"),  # Kenji, after his rejoin
        (utc, people[6], "2026-02-26 13:00"),  # 赵敏 in the UTC group
    ]
    for group, who, when in intros:
        s.label(group, s.say(group, who, at(when), "我叫…，在上海做产品"), is_intro=True)
    s.resolve_mentions()


def _normalise(table) -> list[tuple]:
    out = []
    for row in table.to_pylist():
        vals = []
        for v in row.values():
            if isinstance(v, float):
                v = None if math.isnan(v) else round(v, 6)
            vals.append(v)
        out.append(tuple(vals))
    return out


@pytest.fixture(scope="module")
def results_by_engine(tmp_path_factory):
    """Every metric's rows on each engine that can run here."""
    from sqlalchemy import create_engine

    from shequn.store.db import make_engine, upgrade

    tmp = tmp_path_factory.mktemp("agree")
    sqlite = make_engine(f"sqlite:///{tmp / 'store.db'}")
    upgrade(sqlite)
    build_program(StoreBuilder(sqlite))
    since, until = day(SINCE), day(UNTIL)
    engines = {"duckdb": DuckDBEngine(sqlite, default_tz="UTC")}
    engines["duckdb"].refresh()
    if shutil.which("java"):
        engines["spark"] = SparkEngine(sqlite, default_tz="UTC")
    pg_url = _pg_schema_url()
    if pg_url:
        pg = create_engine(pg_url[0], connect_args={"options": f"-csearch_path={pg_url[1]}"})
        upgrade(pg)
        build_program(StoreBuilder(pg))
        engines["postgres"] = PostgresEngine(pg, default_tz="UTC")
    out = {}
    for name, eng in engines.items():
        base = Base(eng.raw(), since_day=since, until_day=until)
        out[name] = {
            m.name: _normalise(run_metric(m, base, eng, params=PARAMS.get(m.name)).table)
            for m in all_metrics()
        }
    yield out
    if pg_url:
        _drop_schema(pg_url[1])


def _pg_schema_url():
    import os
    import uuid

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from shequn.store.db import make_engine

    url = os.environ.get("SHEQUN_TEST_DATABASE_URL")
    if not url:
        return None
    schema = f"agree_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return str(make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)), schema


def _drop_schema(schema: str) -> None:
    import os

    from sqlalchemy import text

    from shequn.store.db import make_engine

    admin = make_engine(os.environ["SHEQUN_TEST_DATABASE_URL"])
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_the_fixture_exercises_every_metric(results_by_engine):
    empty = [name for name, rows in results_by_engine["duckdb"].items() if not rows]
    assert empty == [], f"metrics with no rows on the shared fixture: {empty}"


@pytest.mark.parametrize("other", ["postgres", "spark"])
def test_engine_matches_duckdb(results_by_engine, other):
    import os

    if other not in results_by_engine:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the {other} engine")
        reason = "SHEQUN_TEST_DATABASE_URL not set" if other == "postgres" else "no java"
        pytest.skip(f"{other} engine not available here: {reason}")
    mismatched = [
        name
        for name, rows in results_by_engine["duckdb"].items()
        if results_by_engine[other][name] != rows
    ]
    assert mismatched == [], f"{other} differs from duckdb on: {mismatched}"
