"""`shequn import` end to end: detection, idempotence, bad input, --skip-bad, kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest


def shequn(
    tmp_path: Path, *args: str, check: bool = True, worker: str = "true"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SHEQUN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SHEQUN_DATA_DIR": str(tmp_path / "data"),
        "SHEQUN_IMPORT_WORKER": worker,
    }
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


def _jsonl(path: Path, n: int, *, start: int = 0, bad_line: int | None = None) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(start, start + n):
            row = {
                "group_id": "g1",
                "group_name": "读书会",
                "message_id": str(i),
                "time": 1767225600 + i * 60,
                "sender_id": f"u{i % 7}",
                "sender_name": f"成员{i % 7}",
                "text": f"第{i}条消息：今天读完了第{i}页！",
            }
            if bad_line is not None and i - start + 1 == bad_line:
                row["time"] = "not a time"
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def _count(tmp_path: Path, sql: str = "SELECT count(*) FROM message") -> int:
    with sqlite3.connect(tmp_path / "cli.db") as con:
        return con.execute(sql).fetchone()[0]


def test_import_detects_reports_and_never_duplicates(tmp_path):
    pytest.importorskip("shequn.platforms.generic")
    path = _jsonl(tmp_path / "chat.jsonl", 50)
    first = json.loads(shequn(tmp_path, "import", str(path), "--json").stdout)
    assert first["format"] == "generic"
    assert first["counts"]["messages_added"] == 50
    again = json.loads(shequn(tmp_path, "import", str(path), "--json").stdout)
    assert again["already_imported"] is True
    forced = json.loads(shequn(tmp_path, "import", str(path), "--force", "--json").stdout)
    assert forced["counts"]["messages_seen"] == 50
    assert forced["counts"]["messages_added"] == 0
    overlap = _jsonl(tmp_path / "later.jsonl", 50, start=30)
    later = json.loads(shequn(tmp_path, "import", str(overlap), "--json").stdout)
    assert later["counts"]["messages_added"] == 30
    assert _count(tmp_path) == 80
    groups = json.loads(shequn(tmp_path, "groups", "--json").stdout)
    assert [(g["name"], g["messages"], g["speakers"]) for g in groups] == [("读书会", 80, 7)]


@pytest.mark.parametrize("worker", ["true", "false"])  # parsed in a second process, or not
def test_bad_input_names_file_line_field_and_keeps_nothing(tmp_path, worker):
    pytest.importorskip("shequn.platforms.generic")
    good = _jsonl(tmp_path / "good.jsonl", 10)
    shequn(tmp_path, "import", str(good), worker=worker)
    bad = _jsonl(tmp_path / "bad.jsonl", 20, start=100, bad_line=12)
    done = shequn(tmp_path, "import", str(bad), check=False, worker=worker)
    assert done.returncode != 0
    assert "bad.jsonl" in done.stderr and "line 12" in done.stderr and "time" in done.stderr
    assert _count(tmp_path) == 10  # nothing of the bad file, nothing lost
    runs = json.loads(shequn(tmp_path, "imports", "--json").stdout)
    assert [r["status"] for r in runs] == ["ok", "failed"]

    skipped = json.loads(
        shequn(tmp_path, "import", str(bad), "--skip-bad", "--json", worker=worker).stdout
    )
    assert skipped["counts"]["messages_added"] == 19
    assert len(skipped["skipped"]) == 1 and "line 12" in skipped["skipped"][0]
    assert _count(tmp_path) == 29


def test_unknown_format_and_missing_file_are_clear(tmp_path):
    odd = tmp_path / "notes.txt"
    odd.write_text("just some notes\n", encoding="utf-8")
    done = shequn(tmp_path, "import", str(odd), check=False)
    assert done.returncode == 2 and "--format" in done.stderr
    done = shequn(tmp_path, "import", str(tmp_path / "nope.json"), check=False)
    assert done.returncode == 2 and "no such file" in done.stderr
    done = shequn(
        tmp_path, "import", str(odd), "--tz", "Mars/Olympus", "--format", "whatsapp", check=False
    )
    assert done.returncode == 2 and "--tz" in done.stderr


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _assert_gone(pids: list[int], wait: float = 15.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        alive = [
            p
            for p in pids
            if Path(f"/proc/{p}").exists()
            and "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]
        ]
        if not alive:
            return
        time.sleep(0.2)
    raise AssertionError(f"parsing processes still running: {alive}")


def test_killed_import_leaves_store_consistent_and_rerun_completes(tmp_path):
    pytest.importorskip("shequn.platforms.generic")
    shequn(tmp_path, "import", str(_jsonl(tmp_path / "small.jsonl", 5, start=10**7)))
    big = _jsonl(tmp_path / "big.jsonl", 300_000)
    env = {**os.environ, "SHEQUN_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "shequn", "import", str(big)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    # wait until the import is under way (its run is recorded), then let it write for a while
    while time.monotonic() < deadline and not _count(
        tmp_path, "SELECT count(*) FROM import_run WHERE status='running'"
    ):
        time.sleep(0.05)
    time.sleep(1.0)
    assert proc.poll() is None, "import finished before it could be killed; use a bigger file"
    children = _children(proc.pid)
    if Path("/proc").exists():
        assert children, "the import should be parsing in a worker process"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _assert_gone(children)  # the parsing process does not outlive the killed import
    assert _count(tmp_path) == 5  # the killed import left nothing half-written
    with sqlite3.connect(tmp_path / "cli.db") as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    done = json.loads(shequn(tmp_path, "import", str(big), "--json").stdout)
    assert done["counts"]["messages_added"] == 300_000
    assert _count(tmp_path) == 300_005
