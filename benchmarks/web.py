"""Page and API latency of the workspace on the analytics benchmark's program.

    python benchmarks/web.py [--store DIR] [--requests 40] [--skip-refresh]

Loads the program kept by `python benchmarks/analytics.py --keep DIR` (10M messages, 100k members,
1,000 groups; default DIR /tmp/shequn-bench-10m), brings the workspace up to date once (text labels,
insights snapshot, inbox: timed and printed), starts `shequn serve` as its own process on a free
port, signs in as an admin and as a leader of one group, and requests every page and the main API
routes with a real HTTP client, sequentially (a warm-up request first, not counted). Prints p50, p95
and max per route and the overall verdict against the target (p95 < 300 ms per page).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

TARGET_MS = 300.0
PASSWORD = "benchmark password 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(store_url: str, *, refresh: bool) -> dict[str, object]:
    """Refresh the workspace (timed), make the users, pick ids to request."""
    from shequn.store import schema as t
    from shequn.store import users
    from shequn.store.db import open_store

    store = open_store(store_url)
    if refresh:
        from shequn.workspace import refresh_workspace

        t0 = time.perf_counter()
        refresh_workspace(store, progress=lambda msg: print(f"  {msg}", flush=True))
        print(f"refresh_workspace: {time.perf_counter() - t0:.1f} s")
    with store.connect() as conn:
        group = conn.execute(select(func.min(t.community.c.id))).scalar_one()
        person = conn.execute(
            select(t.account.c.person_id)
            .join(t.membership, t.membership.c.account_id == t.account.c.id)
            .where(t.membership.c.community_id == group)
            .limit(1)
        ).scalar_one()
        task = conn.execute(select(func.min(t.task.c.id))).scalar()
        word = conn.execute(
            select(t.message.c.text).where(t.message.c.community_id == group).limit(1)
        ).scalar_one()
    for name, role, groups in (("bench-admin", "admin", []), ("bench-leader", "leader", [group])):
        try:
            users.find_user(store, name)
        except Exception:
            users.create_user(store, username=name, password=PASSWORD, role=role, groups=groups)
    query = next((w for w in re.split(r"\W+", word or "") if len(w) >= 2), "hello")
    return {"group": group, "person": person, "task": task, "query": query}


def routes(ids: dict[str, object]) -> list[str]:
    g, p, q = ids["group"], ids["person"], ids["query"]
    pages = [
        "/",
        "/?sort=active_ratio&desc=1",
        f"/groups/{g}",
        f"/people/{p}",
        "/inbox",
        f"/search?q={q}",
        "/imports",
        "/me",
    ]
    api = [
        "/api/v1/groups",
        "/api/v1/program",
        f"/api/v1/groups/{g}",
        f"/api/v1/groups/{g}/members",
        f"/api/v1/groups/{g}/daily",
        f"/api/v1/people/{p}",
        "/api/v1/tasks",
        f"/api/v1/search?q={q}",
    ]
    if ids["task"] is not None:
        api.append(f"/api/v1/tasks/{ids['task']}")
    return pages + api


def sign_in(client: httpx.Client, username: str) -> None:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, "no login form"
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert r.status_code in (200, 303), r.status_code


def measure(client: httpx.Client, path: str, n: int) -> tuple[list[float], int]:
    status = client.get(path).status_code  # warm-up, not counted
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        status = r.status_code
    return times, status


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", type=Path, default=Path("/tmp/shequn-bench-10m"))
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--skip-refresh", action="store_true")
    args = ap.parse_args()
    db = args.store / "store.db"
    if not db.exists():
        sys.exit(f"no store at {db}: run `python benchmarks/analytics.py --keep {args.store}`")
    url = f"sqlite:///{db}"
    print(f"store: {db} ({db.stat().st_size / 1e9:.1f} GB); cores: {os.cpu_count()}")
    ids = prepare(url, refresh=not args.skip_refresh)
    port = free_port()
    env = {**os.environ, "SHEQUN_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "shequn", "serve", "--no-refresh", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        worst = 0.0
        for who in ("bench-admin", "bench-leader"):
            with httpx.Client(base_url=base, timeout=30) as client:
                sign_in(client, who)
                print(f"\n{who}: route  p50 ms  p95 ms  max ms  status")
                for path in routes(ids):
                    times, status = measure(client, path, args.requests)
                    worst = max(worst, p95(times)) if status == 200 else worst
                    print(
                        f"  {path}: {statistics.median(times):.1f}  {p95(times):.1f}  "
                        f"{max(times):.1f}  {status}"
                    )
        print(f"\nworst p95: {worst:.1f} ms (target < {TARGET_MS:.0f} ms)")
        print("verdict:", "met" if worst < TARGET_MS else "NOT met")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
