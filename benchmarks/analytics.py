"""Analytics speed: shequn's whole metric registry on the embedded default (SQLite store, DuckDB
engine) against a floor of hand-written DuckDB SQL for the core metrics, in the same run.

A seeded program (see `analytics_data`) is written into a fresh SQLite store, kept in `--keep`
and reused by later runs with the same shape. Then, each in a child process of its own so that
its peak memory is its own:
- shequn: load (`DuckDBEngine(...).refresh()`, in memory), then every registered metric over the
  whole period with `run_metric`, timed one by one;
- the floor: the same store columns read by ADBC into Arrow, then `analytics_floor.sql` (member
  stats, daily active ratio, weekly cohorts, D1/W1 retention, top-20% share) in DuckDB;
- the incremental path: a cache file built, 10,000 messages added, the cache refreshed.
Prints `name: value unit` lines; the target is the registry within 2x of the floor, under 3 GB.

    python benchmarks/analytics.py [--messages 10000000 --members 100000 --groups 1000
                                    --days 365] [--keep DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import analytics_data as data

ZONE = "Asia/Shanghai"  # for the few groups without a zone of their own
NEW_MESSAGES = 10_000
FLOOR_SQL = Path(__file__).with_name("analytics_floor.sql")
# What the floor reads: the columns shequn's reader takes (store_read.SCHEMAS), with the
# COALESCEs a hand-written ADBC script needs (ADBC types a column from its first rows).
FLOOR_READS = {
    "message": "SELECT id, community_id, COALESCE(account_id, -1) AS account_id, sent_at, kind, "
    "text, platform_msg_id, COALESCE(reply_to, '') AS reply_to, COALESCE(mentions, '') AS "
    "mentions, COALESCE(links, '') AS links, deleted FROM message",
    "membership": "SELECT id, community_id, account_id, "
    "COALESCE(CAST(strftime('%s', joined_at) AS INTEGER), -1) AS joined_epoch, "
    "COALESCE(CAST(strftime('%s', left_at) AS INTEGER), -1) AS left_epoch, "
    "COALESCE(left_reason, '') AS left_reason, role FROM membership",
    "account": "SELECT id, person_id, is_bot, display_name FROM account",
    "community": f"SELECT id, name, COALESCE(timezone, '{ZONE}') AS tz FROM community",
}
# The registry's metrics that answer what the floor computes.
CORE = ("member_stats", "group_daily", "join_cohorts", "group_summary", "program_concentration")


def peak_mb() -> float:
    """Peak RSS of this process or any child it waited for (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024


# -- the child processes ---------------------------------------------------------------------
def child_registry(store_path: str, timeout: str) -> dict:
    """shequn's load, then every registered metric over the whole period; a metric still
    running after `timeout` seconds is interrupted and reported as such."""
    from shequn.analytics.engines import DuckDBEngine
    from shequn.analytics.registry import all_metrics
    from shequn.analytics.run import make_base, run_metric
    from shequn.store.db import make_engine

    metrics = all_metrics()
    t0 = time.perf_counter()
    engine = DuckDBEngine(make_engine(f"sqlite:///{store_path}"), default_tz=ZONE, cache=None)
    stats = engine.refresh()
    out: dict = {"load_s": time.perf_counter() - t0, "phases": stats.phases}
    out["peak_after_load_mb"] = peak_mb()
    # what DuckDB itself holds after the load (its tables, compressed): the rest of the peak is
    # the load's passing work, Python and Arrow
    held = engine.con.con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()")
    out["duckdb_after_load_mb"] = float(held.fetchone()[0] or 0) / 1e6
    print(f"  load: {out['load_s']:.1f} s", file=sys.stderr, flush=True)
    base = make_base(engine)
    out["metrics"] = {}
    for m in metrics:
        t0 = time.perf_counter()
        watchdog = threading.Timer(float(timeout), engine.con.con.interrupt)
        watchdog.start()
        try:
            result = run_metric(m, base, engine)
        except Exception as exc:  # a metric still being written must not stop the benchmark
            spent = time.perf_counter() - t0
            timed_out = spent >= float(timeout)
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
            out["metrics"][m.name] = {"error": error, "timed_out": timed_out, "s": spent}
            print(f"  {m.name}: failed after {spent:.1f} s", file=sys.stderr, flush=True)
            continue
        finally:
            watchdog.cancel()
        print(f"  {m.name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        out["metrics"][m.name] = {
            "s": time.perf_counter() - t0,
            "engine_s": result.seconds,
            "rows": result.table.num_rows,
            "peak_mb": peak_mb(),  # the running peak: shows which metric raised it
        }
    out["peak_mb"] = peak_mb()
    # Ibis's share (building the expression, compiling it to SQL) does not depend on the data:
    # measured again after the timed runs, so the per-metric time can be split.
    for m in metrics:
        if "error" not in out["metrics"][m.name]:
            t0 = time.perf_counter()
            expr = m.compute(base, m.resolve_params()).order_by(list(m.order_by))
            t1 = time.perf_counter()
            sql = engine.con.compile(expr)
            out["metrics"][m.name] |= {
                "build_s": t1 - t0,
                "compile_s": time.perf_counter() - t1,
                "sql_kb": len(sql) / 1000,
            }
    return out


def child_floor(store_path: str) -> dict:
    """Read with ADBC into Arrow, then the hand-written SQL; load and compute timed apart."""
    import adbc_driver_sqlite.dbapi as adbc
    import duckdb

    t0 = time.perf_counter()
    tables = {}
    with adbc.connect(store_path) as conn:
        for name, sql in FLOOR_READS.items():
            with conn.cursor() as cur:
                cur.execute(sql)
                tables[name] = cur.fetch_arrow_table()
    out: dict = {"load_s": time.perf_counter() - t0, "steps": {}, "rows": {}}
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    for name, table in tables.items():
        con.register(name, table)
    for kind, name, sql in floor_blocks():
        t0 = time.perf_counter()
        if kind == "prepare":
            con.execute(sql)
        else:
            out["rows"][name] = con.execute(sql).to_arrow_table().num_rows
        out["steps"][f"{kind}.{name}"] = time.perf_counter() - t0
    out["peak_mb"] = peak_mb()
    return out


def floor_blocks() -> list[tuple[str, str, str]]:
    """(prepare|metric, name, sql) from analytics_floor.sql, in file order."""
    blocks: list[tuple[str, str, list[str]]] = []
    for line in FLOOR_SQL.read_text(encoding="utf-8").splitlines():
        head = line.removeprefix("-- ").split(":", 1)
        if line.startswith("-- ") and head[0] in ("prepare", "metric") and len(head) == 2:
            blocks.append((head[0], head[1].strip(), []))
        elif blocks:
            blocks[-1][2].append(line)
    return [(k, n, "\n".join(body).strip()) for k, n, body in blocks]


def child_incremental(store_path: str, shape_json: str, last_id: str) -> dict:
    """A cache file built from the whole store, then refreshed after NEW_MESSAGES arrive."""
    from shequn.analytics.engines import DuckDBEngine
    from shequn.store.db import make_engine

    store_file = Path(store_path)
    cache = store_file.with_name("bench.analytics.duckdb")
    cache.unlink(missing_ok=True)
    store = make_engine(f"sqlite:///{store_file}")
    t0 = time.perf_counter()
    DuckDBEngine(store, default_tz=ZONE, cache=cache).refresh()
    full = time.perf_counter() - t0
    shape = data.Shape(**json.loads(shape_json))
    data.add_messages(store_file, shape, NEW_MESSAGES, int(last_id) + 1)
    t0 = time.perf_counter()
    engine = DuckDBEngine(store, default_tz=ZONE, cache=cache)
    stats = engine.refresh()
    out = {
        "full_s": full,
        "refresh_s": time.perf_counter() - t0,
        "new": stats.new_messages,
        "days": stats.days_recomputed,
        "rebuilt": stats.rebuilt,
        "cache_mb": cache.stat().st_size / 1e6,
    }
    engine.con.disconnect()
    cache.unlink()
    return out


def run_child(*args: str) -> dict:
    # The child's stderr (progress, errors) goes straight to ours; stdout carries its JSON.
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child {args[0]} failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the parent ------------------------------------------------------------------------------
def prepare_store(work: Path, shape: data.Shape) -> tuple[Path, int, float, bool]:
    """The generated store in `work` (reused when its shape matches): path, messages, seconds
    generation took, whether it was reused."""
    store, meta = work / "store.db", work / "store.json"
    want = dataclasses.asdict(shape)
    if store.exists() and meta.exists():
        kept = json.loads(meta.read_text())
        if kept["shape"] == want:
            data.remove_messages_after(store, kept["messages"])  # an interrupted earlier run
            upgrade_store(store)  # kept from before a migration: tables the reader expects
            return store, kept["messages"], kept["seconds"], True
    for p in work.glob("store.*"):
        p.unlink()
    t0 = time.perf_counter()
    count = data.generate(store, shape)
    seconds = time.perf_counter() - t0
    meta.write_text(json.dumps({"shape": want, "messages": count, "seconds": seconds}))
    return store, count, seconds, False


def upgrade_store(store: Path) -> None:
    """The kept store at the newest schema revision (a no-op when it is there already)."""
    from shequn.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{store}")
    upgrade(engine)
    engine.dispose()


def conditions(store: Path, shape: data.Shape, count: int) -> str:
    import sqlite3

    import duckdb
    import ibis
    import pyarrow

    con = sqlite3.connect(store)
    memberships, left = con.execute("SELECT count(*), count(left_at) FROM membership").fetchone()
    con.close()
    return (
        f"conditions: {count:,} messages, {shape.members:,} members ({memberships:,} "
        f"memberships, {left:,} ended), {shape.groups:,} groups, {shape.days} days, seed "
        f"{shape.seed}; store {store.stat().st_size / 1e9:.2f} GB; {os.cpu_count()} cores, "
        f"{platform.machine()}, load average {os.getloadavg()[0]:.1f}; python "
        f"{sys.version.split()[0]}, duckdb {duckdb.__version__}, "
        f"ibis {ibis.__version__}, pyarrow {pyarrow.__version__}, sqlite {sqlite3.sqlite_version}"
    )


def report_registry(reg: dict) -> tuple[float, float, str, str]:
    """Print shequn's lines; returns registry and core metrics seconds, each with "> " when a
    metric in it was interrupted (its seconds are then a lower bound)."""
    ph = reg["phases"]
    compute = ph.get("features", 0) + ph.get("member_day", 0)  # the engine's RefreshStats
    parts = ph.get("read", 0) + compute + ph.get("small_tables", 0)
    print(
        f"load_shequn: {reg['load_s']:.1f} s (features and member-day {compute:.1f}"
        f" s, reading Arrow files {ph.get('read', 0):.1f} s, small tables "
        f"{ph.get('small_tables', 0):.1f} s, ADBC reader process and calendar "
        f"{reg['load_s'] - parts:.1f} s)"
    )
    total = core = ibis_s = timed_out = 0.0
    core_bound = ""
    failed = []
    for name, r in reg["metrics"].items():
        if r.get("timed_out"):
            timed_out += r["s"]
            if name in CORE:
                core += r["s"]
                core_bound = "> "
            print(f"metric.{name}: > {r['s']:.0f} s (interrupted: still running at the timeout)")
        if "error" in r:
            failed.append(name)
            if not r.get("timed_out"):
                print(f"metric.{name}: failed ({r['error']})")
            continue
        total += r["s"]
        core += r["s"] if name in CORE else 0.0
        print(
            f"metric.{name}: {r['s']:.2f} s ({r['rows']:,} rows; Ibis build "
            f"{r['build_s']:.2f} s + compile {r['compile_s']:.2f} s, {r['sql_kb']:.0f} kB SQL; "
            f"peak so far {r['peak_mb']:.0f} MB)"
        )
        ibis_s += r["build_s"] + r["compile_s"]
    done = len(reg["metrics"]) - len(failed)
    print(
        f"registry_compute: {total:.1f} s ({done} metrics, {len(failed)} failed or interrupted; "
        f"of which Ibis build and compile {ibis_s:.1f} s)"
    )
    if timed_out:
        total += timed_out
        print(
            f"registry_compute_with_interrupted: > {total:.1f} s (interrupted ones at the timeout)"
        )
    print(
        f"peak_memory_registry: {reg['peak_mb']:.0f} MB "
        f"(after load {reg['peak_after_load_mb']:.0f} MB; DuckDB then holds "
        f"{reg['duckdb_after_load_mb']:.0f} MB)"
    )
    return total, core, "> " if timed_out else "", core_bound


def report_floor(floor: dict) -> tuple[float, float]:
    """Print the floor's lines; returns (prepare seconds, metrics seconds)."""
    print(f"floor_load: {floor['load_s']:.1f} s (ADBC read into Arrow, the same columns)")
    prepare = metrics = 0.0
    for step, s in floor["steps"].items():
        kind, name = step.split(".", 1)
        if kind == "prepare":
            prepare += s
            print(f"floor.prepare.{name}: {s:.2f} s")
        else:
            metrics += s
            print(f"floor.metric.{name}: {s:.2f} s ({floor['rows'][name]:,} rows)")
    print(
        f"floor_compute: {prepare + metrics:.1f} s (prepare {prepare:.1f} s: local days and "
        f"member-day; metrics {metrics:.1f} s)"
    )
    print(f"peak_memory_floor: {floor['peak_mb']:.0f} MB")
    return prepare, metrics


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000_000)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--groups", type=int, default=1_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--metric-timeout", type=float, default=600, help="seconds before a metric is stopped"
    )
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep the store in")
    args = ap.parse_args()
    shape = data.Shape(args.messages, args.members, args.groups, args.days, args.seed)
    work = args.keep or Path(tempfile.mkdtemp(prefix="shequn-analytics-"))
    work.mkdir(parents=True, exist_ok=True)
    store, count, gen_s, reused = prepare_store(work, shape)
    print(conditions(store, shape, count))
    print(f"generation_time: {gen_s:.1f} s" + (f" (store reused from {work})" if reused else ""))
    try:
        reg = run_child("registry", str(store), str(args.metric_timeout))
        registry_s, core_s, bound, core_bound = report_registry(reg)
        floor = run_child("floor", str(store))
        prepare_s, metrics_s = report_floor(floor)
        inc = run_child(
            "incremental", str(store), json.dumps(dataclasses.asdict(shape)), str(count)
        )
    finally:
        data.remove_messages_after(store, count)
        if args.keep is None:
            shutil.rmtree(work)
    print(
        f"load_incremental_full: {inc['full_s']:.1f} s "
        f"(into a cache file, {inc['cache_mb']:.0f} MB)"
    )
    print(
        f"load_incremental_refresh: {inc['refresh_s']:.2f} s ({inc['new']:,} new messages, "
        f"{inc['days']:,} group-days recomputed, rebuilt: {inc['rebuilt']})"
    )
    floor_s = prepare_s + metrics_s
    print(
        f"loads: shequn {reg['load_s']:.1f} s (read, features, member-day), floor "
        f"{floor['load_s']:.1f} s (read) + {prepare_s:.1f} s (prepare)"
    )
    print(
        f"ratio_registry_to_floor: {bound}{registry_s / floor_s:.2f} "
        "(registry compute / floor compute)"
    )
    print(f"ratio_core_metrics_to_floor: {core_bound}{core_s / floor_s:.2f} ({', '.join(CORE)})")
    print(
        f"ratio_registry_to_floor_metrics_only: {bound}{registry_s / metrics_s:.2f} "
        "(floor without prepare)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        children = {
            "registry": child_registry,
            "floor": child_floor,
            "incremental": child_incremental,
        }
        print(json.dumps(children[sys.argv[2]](*sys.argv[3:])))
    else:
        main()
