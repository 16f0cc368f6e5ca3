"""Accounts, sessions, CSRF, tokens, the setup link, the login limit and the users admin."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from shequn.store import schema as t
from shequn.store import users
from shequn.store.users import digest
from shequn.web.app import all_routes
from web_client import PASSWORD, make_app, make_user, signed_in, token_client


@pytest.fixture
def app(engine):
    return make_app(engine)


def _login_form(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_pages_need_a_session(app):
    client = TestClient(app)
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/me"
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").json()["error"] == "login_required"


def test_secrets_are_stored_hashed(engine, app):
    user = make_user(engine, "operator")
    client = signed_in(app, user)
    cookie = client.cookies.get("shequn_session")
    token = users.create_api_token(engine, user.id, "x")
    with engine.connect() as conn:
        pw = conn.execute(select(t.app_user.c.password_hash)).scalar_one()
        sessions = [r.token_hash for r in conn.execute(select(t.user_session))]
        tokens = [r.token_hash for r in conn.execute(select(t.api_token))]
    assert pw.startswith("$argon2id$") and PASSWORD not in pw
    assert sessions == [digest(cookie)] and cookie not in sessions
    assert tokens == [digest(token)]


def test_wrong_password_and_login_limit(engine, app):
    make_user(engine, "operator", username="ann")
    client = TestClient(app)
    csrf = _login_form(client)
    for _ in range(5):
        r = client.post("/login", data={"username": "ann", "password": "nope", "csrf_token": csrf})
        assert r.status_code == 401
    # the sixth attempt within the minute is refused even with the right password
    r = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 429


def test_login_needs_the_form_token(engine, app):
    make_user(engine, "operator", username="ann")
    client = TestClient(app)
    _login_form(client)
    r = client.post("/login", data={"username": "ann", "password": PASSWORD})
    assert r.status_code == 403


def test_open_redirect_refused(engine, app):
    make_user(engine, "operator", username="ann")
    client = TestClient(app)
    csrf = _login_form(client)
    r = client.post(
        "/login",
        data={"username": "ann", "password": PASSWORD, "csrf_token": csrf, "next": "//evil.com"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_every_state_changing_route_checks_csrf(engine, app):
    """Route by route: a cookie session without the token is refused before anything runs."""
    client = signed_in(app, make_user(engine, "admin"))
    checked = 0
    for route in all_routes(app):
        for method in route.methods - {"GET", "HEAD", "OPTIONS"}:
            path = re.sub(r"\{[^}]+\}", "1", route.path)
            r = client.request(method, path, data={"x": "1"})
            assert r.status_code == 403, (method, route.path, r.status_code)
            assert "csrf" in r.text.lower() or "刷新" in r.text
            checked += 1
    assert checked >= 8


def test_logout_ends_the_session(engine, app):
    client = signed_in(app, make_user(engine, "operator"))
    cookie = client.cookies.get("shequn_session")
    assert client.form("/logout", follow_redirects=False).status_code == 303
    again = TestClient(app, cookies={"shequn_session": cookie})
    assert again.get("/api/v1/me").status_code == 401


def test_disabled_user_loses_sessions_and_tokens(engine, app):
    user = make_user(engine, "operator", username="bob")
    client = signed_in(app, user)
    api = token_client(app, user)
    assert api.get("/api/v1/me").json()["username"] == "bob"
    users.set_disabled(engine, "bob")
    assert client.get("/api/v1/me").status_code == 401
    assert api.get("/api/v1/me").status_code == 401
    assert users.authenticate(engine, "bob", PASSWORD) is None


def test_token_requests_skip_csrf_and_revoked_tokens_fail(engine, app):
    user = make_user(engine, "operator")
    token = users.create_api_token(engine, user.id, "cron")
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    r = api.patch("/api/v1/me", json={"lang": "zh"})
    assert r.status_code == 200 and r.json()["lang"] == "zh"
    (row,) = users.list_api_tokens(engine, user.id)
    users.revoke_api_token(engine, user.id, int(row["id"]))
    assert api.get("/api/v1/me").status_code == 401
    bad = TestClient(app, headers={"Authorization": "Bearer sq_not-a-token"})
    assert bad.get("/api/v1/me").status_code == 401


def test_setup_link_makes_the_first_admin_once(engine, app):
    assert users.needs_setup(engine)
    token = users.create_setup_token(engine)
    client = TestClient(app)
    page = client.get(f"/setup?token={token}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    short = {"token": token, "username": "root", "password": "short", "csrf_token": csrf}
    assert client.post("/setup", data=short).status_code == 400
    form = {**short, "password": "a good long password"}
    r = client.post("/setup", data=form, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/me").json()["role"] == "admin"
    # used: a second visitor with the same link gets nothing
    other = TestClient(app)
    page = other.get(f"/setup?token={token}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is None  # the form is not shown
    assert not users.needs_setup(engine)


def test_language_switch_and_zone(engine, app):
    client = signed_in(app, make_user(engine, "operator", lang="en"))
    assert "My account" in client.get("/me").text
    client.form("/prefs", {"lang": "zh", "next": "/me"})
    assert "我的账号" in client.get("/me").text
    r = client.form("/prefs", {"timezone": "Asia/Shanghai", "next": "/me"})
    assert r.status_code == 200
    assert client.get("/api/v1/me").json()["timezone"] == "Asia/Shanghai"
    bad = client.form("/prefs", {"timezone": "Mars/Olympus", "next": "/me"})
    assert bad.status_code == 400


@pytest.mark.parametrize("role", ["operator", "leader", "viewer"])
def test_only_admins_manage_users(engine, app, role):
    user = make_user(engine, role)
    client = signed_in(app, user)
    assert client.get("/admin/users").status_code == 403
    form = {"username": "x", "password": "a long password", "role": "admin"}
    assert client.form("/admin/users", form).status_code == 403
    api = token_client(app, user)
    assert api.get("/api/v1/users").status_code == 403
    assert api.post("/api/v1/users", json=form).status_code == 403
    assert api.put(f"/api/v1/users/{user.id}/groups", json={"groups": []}).status_code == 403
    assert api.post(f"/api/v1/users/{user.id}/disable").status_code == 403


def test_admin_manages_users(engine, app, store_groups):
    admin = make_user(engine, "admin")
    client = signed_in(app, admin)
    form = {"username": "lee", "password": "a long password", "role": "leader"}
    r = client.form("/admin/users", {**form, "group": [store_groups[0]]})
    assert r.status_code == 200 and "lee" in r.text
    lee = users.find_user(engine, "lee")
    assert lee.groups == frozenset({store_groups[0]})
    assert client.form("/admin/users", form).status_code == 400  # name taken
    api = token_client(app, admin)
    r = api.put(f"/api/v1/users/{lee.id}/groups", json={"groups": store_groups})
    assert r.json()["groups"] == sorted(store_groups)
    assert api.post(f"/api/v1/users/{lee.id}/disable").json()["disabled"] is True
    assert api.post(f"/api/v1/users/{admin.id}/disable").status_code == 400
    listed = {u["username"]: u["role"] for u in api.get("/api/v1/users").json()}
    assert listed == {admin.username: "admin", "lee": "leader"}


@pytest.fixture
def store_groups(engine):
    from sqlalchemy import insert

    with engine.begin() as conn:
        ids = []
        for name in ("甲群", "B group"):
            res = conn.execute(
                insert(t.community).values(platform="telegram", platform_id=name, name=name)
            )
            ids.append(int(res.inserted_primary_key[0]))
    return ids


def test_cli_user_commands(engine, monkeypatch, store_groups):
    from shequn.cli import app as cli
    from shequn.config import get_settings

    monkeypatch.setattr(get_settings(), "database_url", engine.url.render_as_string(False))
    monkeypatch.setattr("shequn.cli_web._store", lambda: engine)
    runner = CliRunner()
    r = runner.invoke(cli, ["user", "setup-link"])
    assert r.exit_code == 0 and "/setup?token=" in r.output
    r = runner.invoke(
        cli,
        ["user", "add", "lee", "--role", "leader", "--group", "甲群", "--password-stdin"],
        input="a long password\n",
    )
    assert r.exit_code == 0, r.output
    assert users.find_user(engine, "lee").groups == frozenset({store_groups[0]})
    r = runner.invoke(cli, ["user", "add", "x", "--password-stdin"], input="short\n")
    assert r.exit_code != 0
    r = runner.invoke(cli, ["user", "token", "lee", "--name", "cron"])
    assert r.exit_code == 0 and r.stdout.strip().startswith("sq_")
    assert users.token_user(engine, r.stdout.strip()).username == "lee"
    assert runner.invoke(cli, ["user", "disable", "lee"]).exit_code == 0
    r = runner.invoke(cli, ["user", "list", "--json"])
    assert '"disabled": true' in r.stdout
