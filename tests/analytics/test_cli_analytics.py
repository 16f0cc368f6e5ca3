"""`shequn metrics`, `shequn metric`, `shequn analytics refresh|export` end to end, as a user runs
them (a real process over a real store file)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analytics_builder import StoreBuilder, at


def shequn(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHEQUN_DATABASE_URL": f"sqlite:///{db}", "SHEQUN_TIMEZONE": "UTC"}
    done = subprocess.run(
        [sys.executable, "-m", "shequn", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(done.stdout + done.stderr)
    return done


@pytest.fixture
def db(store: StoreBuilder) -> Path:
    g = store.group("读书会", tz="Asia/Shanghai")
    h = store.group("runners")
    a, b = store.person("张三"), store.person("Li")
    store.member(g, a)
    store.member(h, b)
    store.say(g, a, at("2026-03-01 12:00"), "打卡 第1天")
    store.say(g, a, at("2026-03-02 12:00"))
    store.say(h, b, at("2026-03-02 13:00"))
    return Path(str(store.engine.url.database))


def test_metrics_lists_the_registry_with_parameters(db):
    out = json.loads(shequn(db, "metrics", "--json").stdout)
    by_name = {m["name"]: m for m in out}
    assert "group_totals" in by_name
    assert all(m["zh"] and m["en"] and m["description_zh"] for m in out)


def test_metric_as_json_and_csv_for_one_group(db):
    rows = json.loads(shequn(db, "metric", "group_totals", "读书会", "--json").stdout)
    assert [(r["name"], r["messages"], r["active_days"]) for r in rows] == [("读书会", 2, 2)]
    text = shequn(db, "metric", "group_totals", "--csv").stdout
    got = [(r["name"], r["messages"]) for r in csv.DictReader(io.StringIO(text))]
    assert got == [("读书会", "2"), ("runners", "1")]


def test_metric_period_limits_the_rows(db):
    rows = json.loads(
        shequn(db, "metric", "group_totals", "--since", "2026-03-02", "--json").stdout
    )
    assert [(r["name"], r["messages"]) for r in rows] == [("读书会", 1), ("runners", 1)]


def test_bad_arguments_name_the_field(db):
    bad = shequn(db, "metric", "group_totals", "--since", "2026-13-01", check=False)
    assert bad.returncode == 2 and "--since" in bad.stderr
    bad = shequn(db, "metric", "group_summary", "-p", "nope=1", check=False)
    assert bad.returncode == 2 and "param nope" in bad.stderr
    bad = shequn(db, "metric", "group_totals", "no-such-group", check=False)
    assert bad.returncode == 1 and "no-such-group" in bad.stderr
    bad = shequn(db, "metric", "group_totals", "--engine", "oracle", check=False)
    assert bad.returncode == 2 and "--engine" in bad.stderr


def test_refresh_reads_only_new_messages(db, store):
    shequn(db, "analytics", "refresh")
    again = json.loads(shequn(db, "analytics", "refresh", "--json").stdout)
    assert (again["new_messages"], again["rebuilt"]) == (0, False)
    store.say(1, 1, at("2026-03-03 12:00"))
    after = json.loads(shequn(db, "analytics", "refresh", "--json").stdout)
    assert (after["new_messages"], after["days_recomputed"]) == (1, 1)


def test_export_writes_parquet_of_every_table(db, tmp_path):
    out = json.loads(shequn(db, "analytics", "export", str(tmp_path / "pq"), "--json").stdout)
    assert pq.read_table(out["message"]).num_rows == 3
    assert pq.read_table(out["community"]).column("name").to_pylist() == ["读书会", "runners"]
