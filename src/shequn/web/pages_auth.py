"""Signing in and out, the first-run setup link, and the user's own preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shequn.errors import Conflict, InputError
from shequn.store import users
from shequn.web.auth import (
    SESSION_COOKIE,
    CurrentUser,
    MaybeUser,
    Store,
    anon_csrf,
    client_address,
    login_allowed,
    record_failed_login,
)
from shequn.web.render import page

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # only paths on this site: never an open redirect
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _signed_in(request: Request, store: Store, user_id: int, target: str) -> Response:
    token, _csrf = users.start_session(store, user_id)
    response = RedirectResponse(_safe_next(target), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=users.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    request.state.anon_csrf = anon_csrf(request)
    return page(request, None, "login.html.j2", next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    store: Store,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    address = client_address(request)
    request.state.anon_csrf = anon_csrf(request)
    if not login_allowed(username, address):
        return page(
            request, None, "login.html.j2", status_code=429, next=next, error="login.limited"
        )
    user = users.authenticate(store, username, password)
    if user is None:
        record_failed_login(username, address)
        return page(
            request, None, "login.html.j2", status_code=401, next=next, error="login.failed"
        )
    return _signed_in(request, store, user.id, next)


@router.post("/logout")
def logout(request: Request, store: Store) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        users.end_session(store, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/setup")
def setup_form(request: Request, store: Store, token: str = "") -> Response:
    request.state.anon_csrf = anon_csrf(request)
    valid = bool(token) and users.needs_setup(store)
    return page(request, None, "setup.html.j2", token=token, valid=valid, error=None)


@router.post("/setup")
def setup(
    request: Request,
    store: Store,
    token: Annotated[str, Form()],
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
) -> Response:
    request.state.anon_csrf = anon_csrf(request)
    try:
        user = users.use_setup_token(store, token, username=username, password=password)
    except (InputError, Conflict) as exc:
        return page(
            request,
            None,
            "setup.html.j2",
            status_code=400,
            token=token,
            valid=not isinstance(exc, Conflict),
            error=str(exc),
        )
    return _signed_in(request, store, user.id, "/")


@router.post("/prefs")
def preferences(
    request: Request,
    store: Store,
    user: CurrentUser,
    lang: Annotated[str | None, Form()] = None,
    timezone: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Switch the interface language and the zone dates are shown in."""
    users.set_preferences(store, user.id, lang=lang or None, timezone=timezone)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.get("/me")
def my_account(request: Request, store: Store, user: CurrentUser) -> Response:
    """The user's own page: language, zone, API tokens."""
    tokens = users.list_api_tokens(store, user.id)
    return page(request, user, "me.html.j2", tokens=tokens, new_token=None, active="me")


@router.post("/me/tokens")
def new_api_token(
    request: Request, store: Store, user: CurrentUser, name: Annotated[str, Form()] = "script"
) -> Response:
    """Make an API token; the page shows it once."""
    token = users.create_api_token(store, user.id, name.strip() or "script")
    tokens = users.list_api_tokens(store, user.id)
    return page(request, user, "me.html.j2", tokens=tokens, new_token=token, active="me")


@router.post("/me/tokens/{token_id}/revoke")
def revoke_api_token(store: Store, user: CurrentUser, token_id: int) -> Response:
    users.revoke_api_token(store, user.id, token_id)
    return RedirectResponse("/me", status_code=303)
