"""Access rules, route by route, for every role: no sampling.

Every route of the workspace must have a rule here (a new route without one fails the test). A
leader of group A asks every route for group B's things (its group, its person, its task, its
note, its messages): each route that names one of them answers 403 or 404, and every listing,
search and export leaves B's names and words out. A viewer's every state-changing request is
refused. Messages carry markup, which must come out escaped everywhere.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from analytics_builder import StoreBuilder, at
from shequn import people_notes
from shequn.store import schema as t
from shequn.web.app import all_routes
from web_client import make_app, make_user, signed_in, token_client

# Words that exist only in group B: none may reach a leader of group A.
B_MARKERS = ("Bravo-SECRET", "Secretname", "zebrasecret")
XSS = "<script>alert(1)</script>"

# Routes about the user's own session and account: every signed-in role may use them and they
# carry nothing of any group.
SELF = {
    ("GET", "/api/docs"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/setup"),
    ("POST", "/setup"),
    ("POST", "/prefs"),
    ("GET", "/me"),
    ("POST", "/me/tokens"),
    ("POST", "/me/tokens/{token_id}/revoke"),
    ("GET", "/api/v1/me"),
    ("PATCH", "/api/v1/me"),
}
# Only administrators (users), or administrators and operators (imports).
ADMIN_ONLY_PREFIXES = ("/admin/", "/api/v1/users")
IMPORT_PREFIXES = ("/imports", "/api/v1/imports")
# Listings that take no id: a leader gets them, limited to A.
LISTINGS = {
    ("GET", "/"),
    ("GET", "/inbox"),
    ("GET", "/search"),
    ("GET", "/api/v1/groups"),
    ("GET", "/api/v1/program"),
    ("GET", "/api/v1/search"),
    ("GET", "/api/v1/tasks"),
    ("GET", "/api/v1/tasks/feedback-read"),
}
# A group's settings: read by whoever sees the group; written by admins, operators and the
# group's own leaders (as they work its inbox), never by viewers (test_viewer_changes_nothing).
GROUP_SETTINGS = {
    ("GET", "/api/v1/groups/{community_id}/settings"),
    ("PUT", "/api/v1/groups/{community_id}/settings"),
}
GROUP_TABLES = [
    "daily",
    "heatmap",
    "cohorts",
    "retention",
    "levels",
    "level_history",
    "member_levels",
    "core",
    "members",
    "unanswered",
    "questions",
    "health",
    "tier",
    "tier_movements",
    "summary",
    "concentration",
    "leavers",
    "slipping",
    "silent",
    "prune",
    "funnel",
    "kols",
    "connections",
    "theme_fit",
]
PERSON_TABLES = ("memberships", "activity", "level_changes")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Groups A and B with a member each, markup in B's texts, refreshed, plus B's task and note."""
    from shequn.store.db import make_engine, upgrade
    from shequn.workspace import refresh_workspace

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('access') / 'store.db'}")
    upgrade(engine)
    s = StoreBuilder(engine)
    ga, gb = s.group("甲 Alpha"), s.group("乙 Bravo-SECRET")
    ann, bob = s.person("Ann"), s.person("Bob Secretname")
    s.member(ga, ann, joined=at("2026-09-01 08:00"))
    s.member(gb, bob, joined=at("2026-09-01 08:00"))
    start = at("2026-09-02 09:00")
    for i in range(12):
        when = start + timedelta(days=i)
        s.say(ga, ann, when, f"hello alpha {i}")
        s.say(gb, bob, when, f"zebrasecret 怎么办 {XSS} 第{i}天打卡？")
    refresh_workspace(engine)
    admin = make_user(engine, "admin")
    with engine.begin() as conn:
        pb = conn.execute(select(t.account.c.person_id).where(t.account.c.id == bob)).scalar()
        task_b = conn.execute(
            insert(t.task).values(
                kind="welcome",
                key="access-test-b",
                community_id=gb,
                person_id=pb,
                account_id=bob,
                detail='{"name": "Bob Secretname"}',
                status="open",
                updated_at=start,
            )
        ).inserted_primary_key[0]
    note = people_notes.add_note(engine, person_id=pb, text="zebrasecret note", user_id=admin.id)
    app = make_app(engine)
    ids = {
        "community_id": gb,
        "person_id": pb,
        "task_id": task_b,
        "note_id": note.id,
        "tag": "vip",
        "action": "done",
        "user_id": admin.id,
        "token_id": 1,
        "job_id": "nope",
    }
    yield app, engine, ids, ga, gb
    engine.dispose()


def _path(template: str, ids: dict, **override) -> str:
    values = {**ids, **override}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), template)


def _routes(app):
    return sorted({(m, r.path) for r in all_routes(app) for m in r.methods - {"HEAD"}})


BODY = {"tag": "x", "text": "x", "note": "x", "groups": [], "until": "2030-01-01T00:00:00Z"}


def _call(client, method: str, path: str, **params):
    """A well-formed request, so that only the access rule can refuse it."""
    if method == "GET":
        return client.get(path, params=params or None)
    if path.startswith("/api/"):
        csrf = {"X-CSRF-Token": getattr(client, "csrf", "")}
        return client.request(method, path, json=BODY, headers=csrf)
    return client.form(path, {"tag": "x", "text": "x", "until": "2030-01-01"})


def _assert_clean(response, where: str) -> None:
    for marker in B_MARKERS:
        assert marker not in response.text, f"{where} shows group B's {marker!r}"
    assert XSS not in response.text, f"{where} shows markup unescaped"


def test_every_route_has_a_rule(world):
    app, *_ = world
    for method, path in _routes(app):
        ruled = (
            (method, path) in SELF
            or (method, path) in LISTINGS
            or path.startswith(ADMIN_ONLY_PREFIXES + IMPORT_PREFIXES)
            or re.search(r"\{(community_id|person_id|task_id)\}", path)
        )
        assert ruled, f"{method} {path} has no access rule in tests/web/test_access.py"


def test_leader_of_a_reaches_nothing_of_b(world):
    app, engine, ids, ga, gb = world
    leader = make_user(engine, "leader", groups=[ga])
    client = signed_in(app, leader)
    for method, path in _routes(app):
        where = f"{method} {path}"
        if (method, path) in SELF:
            continue
        if path.startswith(ADMIN_ONLY_PREFIXES + IMPORT_PREFIXES):
            r = _call(client, method, _path(path, ids))
            assert r.status_code in (403, 404), (where, r.status_code)
            continue
        if (method, path) in LISTINGS:
            for params in ({}, {"q": "怎么办"}, {"format": "csv"}):
                r = client.get(path, params=params)
                assert r.status_code in (200, 400), (where, params, r.status_code)
                _assert_clean(r, f"{where} {params}")
            if "group" in {p.name for p in _query_params(app, method, path)}:
                r = client.get(path, params={"group": gb, "q": "怎么办"})
                assert r.status_code in (403, 404) or not any(m in r.text for m in B_MARKERS), where
            continue
        if "{table}" in path:
            targets = [_path(path, ids, table=name) for name in GROUP_TABLES]
        else:
            targets = [_path(path, ids)]
        for target in targets:
            r = _call(client, method, target)
            assert r.status_code in (403, 404), (method, target, r.status_code)
            _assert_clean(r, f"{method} {target}")
        if path == "/api/v1/people/{person_id}":
            for table in PERSON_TABLES:
                r = client.get(_path(path, ids), params={"format": "csv", "table": table})
                assert r.status_code in (403, 404), (path, table)


def _query_params(app, method: str, path: str):
    for r in all_routes(app):
        if r.path == path and method in r.methods:
            return r.dependant.query_params
    return []


def test_leader_sees_own_group(world):
    """The same leader does reach group A (the refusals above are not a blanket 403)."""
    app, engine, _ids, ga, _gb = world
    client = signed_in(app, make_user(engine, "leader", groups=[ga]))
    assert client.get(f"/groups/{ga}").status_code == 200
    assert client.get(f"/api/v1/groups/{ga}/members").status_code == 200
    assert "甲 Alpha" in client.get("/").text


def test_group_settings_rule(world):
    """The settings routes exist; a leader of A reads and writes A's (B's: the loop above)."""
    app, engine, _ids, ga, _gb = world
    assert set(_routes(app)) >= GROUP_SETTINGS
    client = signed_in(app, make_user(engine, "leader", groups=[ga]))
    url = f"/api/v1/groups/{ga}/settings"
    assert client.get(url).status_code == 200
    body = {"answer_window": 30}  # no theme: nothing to re-score in the shared world
    assert client.put(url, json=body, headers={"X-CSRF-Token": client.csrf}).status_code == 200


def test_viewer_changes_nothing(world):
    app, engine, ids, _ga, _gb = world
    viewer = make_user(engine, "viewer")
    for client in (signed_in(app, viewer), token_client(app, viewer)):
        if not hasattr(client, "form"):
            client.form = lambda url, data=None, _c=client, **kw: _c.post(url, data=data, **kw)
        for method, path in _routes(app):
            if method == "GET" or (method, path) in SELF:
                continue
            r = _call(client, method, _path(path, ids))
            assert r.status_code == 403, (method, path, r.status_code)


def test_admin_pages_escape_markup(world):
    """B's messages hold a script tag: every page that shows them escapes it."""
    app, engine, ids, _ga, gb = world
    client = signed_in(app, make_user(engine, "admin"))
    for url in (
        f"/groups/{gb}",
        f"/people/{ids['person_id']}",
        "/search?q=zebrasecret",
        "/inbox?status=all",
    ):
        r = client.get(url)
        assert r.status_code == 200, url
        assert XSS not in r.text, url
    assert "zebrasecret" in client.get("/search?q=zebrasecret").text
