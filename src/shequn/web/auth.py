"""Who is asking, what they may see, and the guards every route uses.

A request is signed in by the session cookie (browsers) or by `Authorization: Bearer sq_…`
(scripts). Every state-changing request made with the cookie must carry the session's CSRF token
(form field `csrf_token` or header `X-CSRF-Token`); token requests need none, since a browser
never sends them on its own. Leaders see only their groups: routes call `check_group` on every
group they touch and pass `scope(user)` to every query that lists.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Collection
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine

from shequn.errors import PermissionDenied, ShequnError
from shequn.store.users import User, session_user, token_user

SESSION_COOKIE = "shequn_session"
ANON_CSRF_COOKIE = "shequn_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Failed logins: 5 a minute per user name and address, 20 a minute per address.
_limiter = MovingWindowRateLimiter(MemoryStorage())
_PER_NAME = RateLimitItemPerMinute(5)
_PER_ADDRESS = RateLimitItemPerMinute(20)


class LoginRequired(ShequnError):
    """No valid session or token: pages redirect to the login form, the API answers 401."""

    code = "login_required"


class CsrfFailed(ShequnError):
    code = "csrf_failed"


class TooManyAttempts(ShequnError):
    code = "too_many_attempts"


def get_store(request: Request) -> Engine:
    return request.app.state.store


Store = Annotated[Engine, Depends(get_store)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def optional_user(request: Request) -> User | None:
    """The user of this request, or None; remembers how they signed in (for the CSRF check)."""
    if "user" in request.state._state:
        return request.state.user
    store = get_store(request)
    user: User | None = None
    request.state.by_token = False
    request.state.csrf = None
    token = _bearer(request)
    if token is not None:
        user = token_user(store, token)
        request.state.by_token = user is not None
    elif cookie := request.cookies.get(SESSION_COOKIE):
        found = session_user(store, cookie)
        if found is not None:
            user, request.state.csrf = found
    request.state.user = user
    return user


def require_user(request: Request) -> User:
    user = optional_user(request)
    if user is None:
        raise LoginRequired("sign in first / 请先登录")
    return user


CurrentUser = Annotated[User, Depends(require_user)]
MaybeUser = Annotated[User | None, Depends(optional_user)]


def require_actor(user: CurrentUser) -> User:
    """Users who may change things (everyone but viewers)."""
    if not user.can_act:
        raise PermissionDenied("viewers can only read / 只读用户不能操作")
    return user


def require_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise PermissionDenied("administrators only / 仅管理员")
    return user


Actor = Annotated[User, Depends(require_actor)]
Admin = Annotated[User, Depends(require_admin)]


def scope(user: User) -> Collection[int] | None:
    """The groups a user's queries are limited to; None means all."""
    return user.groups


def check_group(user: User, community_id: int | None) -> None:
    """Refuse a group outside the user's scope (leaders)."""
    if not user.can_see(community_id):
        raise PermissionDenied("not one of your groups / 不是你负责的群")


async def csrf_guard(request: Request) -> None:
    """Every state-changing request from a browser carries the right CSRF token."""
    if request.method in SAFE_METHODS:
        return
    user = optional_user(request)
    if user is not None and request.state.by_token:
        return
    expected = request.state.csrf if user is not None else request.cookies.get(ANON_CSRF_COOKIE)
    given = request.headers.get("x-csrf-token")
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette keeps it for the route
        value = form.get("csrf_token")
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise CsrfFailed(
            "the form expired or came from elsewhere; reload the page / 请刷新页面重试"
        )


def anon_csrf(request: Request) -> str:
    """The CSRF token for forms shown before sign-in (double-submit cookie)."""
    token = request.cookies.get(ANON_CSRF_COOKIE)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_anon_csrf = token
    return token


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def login_allowed(username: str, address: str) -> bool:
    """False when this name or address has failed too often in the last minute."""
    return _limiter.test(_PER_NAME, username.lower(), address) and _limiter.test(
        _PER_ADDRESS, address
    )


def record_failed_login(username: str, address: str) -> None:
    _limiter.hit(_PER_NAME, username.lower(), address)
    _limiter.hit(_PER_ADDRESS, address)


def reset_login_limits() -> None:
    """Forget failed logins (tests; an admin restarting the server does the same)."""
    _limiter.storage.reset()
