"""Helpers for workspace tests: an app on a test store, users of each role, signed-in clients.

app = make_app(store.engine)
client = signed_in(app, make_user(store.engine, "leader", groups=[g1]))
client.post("/inbox/3/done", data={"csrf_token": client.csrf})  # forms need the token
api = token_client(app, user)  # Authorization: Bearer, no CSRF needed
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from shequn.store import users
from shequn.store.users import User
from shequn.web.app import create_app
from shequn.web.auth import reset_login_limits

PASSWORD = "a long test password"
ROLES = ("admin", "operator", "leader", "viewer")


def make_app(engine: Engine) -> FastAPI:
    reset_login_limits()
    return create_app(engine)


def make_user(
    engine: Engine,
    role: str,
    *,
    groups: Collection[int] = (),
    username: str | None = None,
    lang: str = "en",
) -> User:
    return users.create_user(
        engine,
        username=username or f"{role}-{len(users.list_users(engine)) + 1}",
        password=PASSWORD,
        role=role,
        lang=lang,
        groups=groups,
    )


class Client(TestClient):
    """A TestClient that remembers its CSRF token (`client.csrf`)."""

    csrf: str = ""

    def form(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a form with the CSRF token added."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf}, **kw)


def signed_in(app: FastAPI, user: User) -> Client:
    """A browser-like client signed in as `user` (session cookie + CSRF token)."""
    client = Client(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "login form without a CSRF token"
    done = client.post(
        "/login",
        data={"username": user.username, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    home = client.get("/me")  # every signed-in page carries the token
    found = re.search(r'data-csrf="([^"]+)"', home.text)
    assert found, "signed-in page without data-csrf"
    client.csrf = found.group(1)
    return client


def token_client(app: FastAPI, user: User, engine: Engine | None = None) -> TestClient:
    """A script-like client with an API token (no cookies, no CSRF)."""
    store = engine or app.state.store
    token = users.create_api_token(store, user.id, "test")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})
