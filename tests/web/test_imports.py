"""The import page and /api/v1/imports: upload, progress, counts, bad files, who may import."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from shequn.store import schema as t
from shequn.web.import_jobs import ImportJobs
from web_client import make_app, make_user, signed_in, token_client

FIXTURE = Path(__file__).parents[1] / "fixtures" / "generic" / "chats.jsonl"
# What `shequn import` reports for the fixture (worked out with the CLI): 9 messages in 2 groups.
COUNTS = {
    "communities": 2,
    "messages_seen": 9,
    "messages_added": 9,
    "membership_events_seen": 4,
    "membership_events_added": 4,
    "reactions_seen": 1,
    "accounts_added": 7,
    "names_unmatched": 1,
    "skipped": 0,
}


def broken_fixture() -> bytes:
    """The fixture with the time of its 3rd line made unreadable."""
    lines = FIXTURE.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"time":1716197760500', b'"time":"not a time"')
    assert b"not a time" in lines[2]
    return b"\n".join(lines)


class Refreshes:
    """Stands in for refresh_workspace: counts calls, can hold the job until released."""

    def __init__(self, *, hold: bool = False) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, store: Any) -> None:
        self.calls += 1
        self.started.set()
        self.release.wait(30)


@pytest.fixture
def setup(store, tmp_path):
    app = make_app(store.engine)
    refresh = Refreshes()
    app.state.import_jobs = ImportJobs(store.engine, uploads=tmp_path / "up", refresh=refresh)
    return app, refresh, tmp_path / "up"


def messages(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.message)).scalar_one())


def upload_page(client, data: bytes, name: str = "chats.jsonl", **form: Any):
    fields = {"csrf_token": client.csrf, "format": "auto", "timezone": "", **form}
    return client.post(
        "/imports", data=fields, files={"file": (name, data)}, follow_redirects=False
    )


def poll(api, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """Ask for the job's progress until it is over, as a script would. Pass a session client:
    an API token records its last use on every request, a write that races the import on
    SQLite (users.token_user; reported)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/imports/{job_id}").json()
        if job["state"] in ("ok", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_page_upload_imports_and_shows_counts(setup, store):
    app, refresh, uploads = setup
    operator = make_user(store.engine, "operator")
    client = signed_in(app, operator)
    form = client.get("/imports")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert '<option value="generic">' in form.text
    sent = upload_page(client, FIXTURE.read_bytes(), timezone="Asia/Shanghai")
    assert sent.status_code == 303
    job_id = sent.headers["location"].rsplit("/", 1)[1]
    job = app.state.import_jobs.wait(job_id)
    assert job.state == "ok" and job.counts == COUNTS and job.error is None
    assert messages(store.engine) == 9
    assert refresh.calls == 1  # the insights and the inbox were brought up to date
    assert list(uploads.iterdir()) == []  # the upload is gone once imported
    done = client.get(f"/imports/{job_id}/progress")
    assert "hx-trigger" not in done.text  # polling stops
    assert 'data-state="ok"' in done.text and "New messages" in done.text
    assert '<td class="num">9</td>' in done.text
    page = client.get(f"/imports/{job_id}")
    assert "chats.jsonl" in page.text and "Done" in page.text
    history = client.get("/imports")
    assert "upload: chats.jsonl" in history.text and str(uploads) not in history.text
    again = upload_page(client, FIXTURE.read_bytes(), timezone="Asia/Shanghai")
    second = app.state.import_jobs.wait(again.headers["location"].rsplit("/", 1)[1])
    assert second.state == "ok" and second.already_imported and second.counts == {}
    assert refresh.calls == 1 and messages(store.engine) == 9


def test_api_upload_then_poll_until_done(setup, store):
    app, _, _ = setup
    admin = make_user(store.engine, "admin")
    api, browser = token_client(app, admin), signed_in(app, admin)
    sent = api.post(
        "/api/v1/imports",
        data={"format": "generic", "timezone": "UTC"},
        files={"file": ("chats.jsonl", FIXTURE.read_bytes())},
    )
    assert sent.status_code == 202
    started = sent.json()
    assert started["filename"] == "chats.jsonl" and started["format"] == "generic"
    assert started["state"] in ("queued", "running", "refreshing", "ok")
    job = poll(browser, started["id"])
    assert job["state"] == "ok" and job["counts"] == COUNTS
    assert job["progress"] == 1.0 and job["format_title"] and job["run_id"] == 1
    listed = api.get("/api/v1/imports").json()
    assert [j["id"] for j in listed["jobs"]] == [started["id"]]
    assert [(r["id"], r["status"], r["source"]) for r in listed["runs"]] == [
        (1, "ok", "upload: chats.jsonl")
    ]
    assert listed["runs"][0]["counts"]["messages_added"] == 9
    assert listed["total_runs"] == 1 and listed["has_more"] is False
    csv = api.get("/api/v1/imports?format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert (
        lines[0]
        == "id,source,format,timezone,status,started_at,finished_at,duration_s,counts,error"
    )
    assert lines[1].startswith("1,upload: chats.jsonl,generic,UTC,ok,")
    assert api.get("/api/v1/imports/nope").status_code == 404


def test_broken_file_fails_clearly_and_writes_nothing(setup, store):
    app, refresh, uploads = setup
    operator = make_user(store.engine, "operator")
    api, browser = token_client(app, operator), signed_in(app, operator)
    sent = api.post(
        "/api/v1/imports",
        data={"timezone": "UTC"},
        files={"file": ("broken chats.jsonl", broken_fixture())},
    )
    job = poll(browser, sent.json()["id"])
    assert job["state"] == "failed" and job["counts"] == {}
    error = job["error"]
    assert error.startswith("broken chats.jsonl, line 3") and "'time'" in error
    assert str(uploads) not in error  # names the file as uploaded, not the server's copy
    assert messages(store.engine) == 0 and refresh.calls == 0
    with store.engine.connect() as conn:
        run = conn.execute(select(t.import_run)).one()
    assert (run.status, run.source) == ("failed", "upload: broken chats.jsonl")
    assert run.error == error
    client = signed_in(app, make_user(store.engine, "admin"))
    shown = client.get(f"/imports/{job['id']}/progress")
    assert 'id="import-error"' in shown.text and "line 3" in shown.text
    assert "Failed; nothing was imported" in shown.text


def test_skip_bad_imports_the_rest_and_lists_what_was_skipped(setup, store):
    app, refresh, _ = setup
    client = signed_in(app, make_user(store.engine, "operator", lang="zh"))
    sent = upload_page(client, broken_fixture(), name="b.jsonl", timezone="UTC", skip_bad="true")
    job_id = sent.headers["location"].rsplit("/", 1)[1]
    job = app.state.import_jobs.wait(job_id)
    assert job.state == "ok" and job.counts["messages_added"] == 8 and job.counts["skipped"] == 1
    assert len(job.skipped) == 1 and job.skipped[0].startswith("b.jsonl, line 3")
    assert messages(store.engine) == 8 and refresh.calls == 1
    shown = client.get(f"/imports/{job_id}")
    assert "跳过的错误记录 (1)" in shown.text and "新增消息" in shown.text


def test_one_import_at_a_time_the_next_waits(store, tmp_path):
    app = make_app(store.engine)
    held = Refreshes(hold=True)
    jobs = ImportJobs(store.engine, uploads=tmp_path / "up", refresh=held)
    app.state.import_jobs = jobs
    admin = make_user(store.engine, "admin")
    api, browser = token_client(app, admin), signed_in(app, admin)
    first = api.post("/api/v1/imports", files={"file": ("a.jsonl", FIXTURE.read_bytes())}).json()
    assert held.started.wait(60)
    other = FIXTURE.read_bytes().replace(b"team-42", b"team-43")
    second = api.post("/api/v1/imports", files={"file": ("b.jsonl", other)}).json()
    time.sleep(0.3)
    states = {j["id"]: j["state"] for j in browser.get("/api/v1/imports").json()["jobs"]}
    assert states == {first["id"]: "refreshing", second["id"]: "queued"}
    held.release.set()
    assert poll(browser, first["id"])["state"] == "ok"
    assert poll(browser, second["id"])["state"] == "ok"
    assert held.calls == 2


def test_bad_options_and_empty_files_are_refused(setup, store):
    app, _, uploads = setup
    client = signed_in(app, make_user(store.engine, "operator"))
    bad_zone = upload_page(client, FIXTURE.read_bytes(), timezone="Mars/Base")
    assert bad_zone.status_code == 400 and "field &#39;timezone&#39;" in bad_zone.text
    api = token_client(app, make_user(store.engine, "admin"))
    empty = api.post("/api/v1/imports", files={"file": ("e.jsonl", b"")})
    assert empty.status_code == 400 and empty.json()["error"] == "bad_input"
    fmt = api.post("/api/v1/imports", data={"format": "nope"}, files={"file": ("x", b"x")})
    assert fmt.status_code == 400 and "format" in fmt.json()["message"]
    assert list(uploads.iterdir()) == []
    assert app.state.import_jobs.jobs() == []


@pytest.mark.parametrize("role", ["leader", "viewer"])
def test_leaders_and_viewers_cannot_import_or_see_imports(setup, store, role):
    app, _, _ = setup
    group = store.group("A")
    user = make_user(store.engine, role, groups=[group] if role == "leader" else [])
    client = signed_in(app, user)
    assert client.get("/imports").status_code == 403
    assert client.get("/imports?format=csv").status_code == 403
    assert upload_page(client, FIXTURE.read_bytes()).status_code == 403
    api = token_client(app, user)
    assert api.get("/api/v1/imports").status_code == 403
    sent = api.post("/api/v1/imports", files={"file": ("c.jsonl", FIXTURE.read_bytes())})
    assert sent.status_code == 403
    assert api.get("/api/v1/imports/x").status_code == 403
    assert messages(store.engine) == 0 and app.state.import_jobs.jobs() == []


def test_upload_without_csrf_token_is_refused(setup, store):
    app, _, _ = setup
    client = signed_in(app, make_user(store.engine, "admin"))
    sent = client.post(
        "/imports", data={"format": "auto"}, files={"file": ("c.jsonl", FIXTURE.read_bytes())}
    )
    assert sent.status_code == 403
    assert app.state.import_jobs.jobs() == []
    assert client.get("/imports").status_code == 200


def test_runs_csv_and_signed_out(setup, store):
    app, _, _ = setup
    client = signed_in(app, make_user(store.engine, "operator"))
    csv = client.get("/imports?format=csv")
    assert csv.status_code == 200 and csv.text.lstrip("\ufeff").startswith("id,source,")
    anonymous = make_app(store.engine)
    from fastapi.testclient import TestClient

    plain = TestClient(anonymous)
    assert plain.get("/imports", follow_redirects=False).status_code == 303
    assert plain.get("/api/v1/imports").status_code == 401


def test_import_refreshes_the_real_insights(store, tmp_path, monkeypatch):
    """The default board runs refresh_workspace after the import: a snapshot exists after."""
    from shequn.analytics.snapshot import Insights
    from shequn.config import get_settings

    monkeypatch.setattr(get_settings(), "data_dir", tmp_path / "data")
    app = make_app(store.engine)
    operator = make_user(store.engine, "operator")
    api, browser = token_client(app, operator), signed_in(app, operator)
    assert Insights.open(store.engine) is None
    sent = api.post("/api/v1/imports", files={"file": ("chats.jsonl", FIXTURE.read_bytes())})
    job = poll(browser, sent.json()["id"], timeout=540)
    assert job["state"] == "ok" and job["refresh_error"] is None
    assert list((tmp_path / "data" / "uploads").iterdir()) == []
    insights = Insights.open(store.engine)
    assert insights is not None
    try:
        assert insights.has("member_stats")
    finally:
        insights.close()
