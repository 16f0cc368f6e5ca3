"""Workspace users, their groups, sessions, API tokens and one-time setup links.

Secrets never reach the store in the clear: passwords as argon2id hashes, session cookies, API
tokens and setup links as SHA-256 digests of 256-bit random tokens (a digest suffices for random
tokens; a slow KDF is only needed for what people choose).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, Row, delete, func, insert, select, update

from shequn.errors import Conflict, InputError, NotFound
from shequn.store import schema as t

ROLES = ("admin", "operator", "leader", "viewer")
LANGS = ("zh", "en")
SESSION_DAYS = 14
SETUP_HOURS = 24
MIN_PASSWORD = 10
TOKEN_USE_GRANULARITY = timedelta(minutes=5)  # how precisely "last used" is kept
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    """A signed-in user and what they may see: `groups` None means every group."""

    id: int
    username: str
    display_name: str | None
    role: str
    lang: str
    timezone: str | None
    disabled: bool
    groups: frozenset[int] | None

    def can_see(self, community_id: int | None) -> bool:
        """Whether this user may read the group (program-wide rows: only unrestricted users)."""
        if self.groups is None:
            return True
        return community_id is not None and community_id in self.groups

    @property
    def can_act(self) -> bool:
        """Viewers only read; everyone else works the inbox and edits notes."""
        return self.role != "viewer"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def name(self) -> str:
        return self.display_name or self.username


def digest(token: str) -> str:
    """SHA-256 hex of a random token, the form in which tokens are stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _now() -> datetime:
    return datetime.now(UTC)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"password too short: at least {MIN_PASSWORD} characters / 密码至少 {MIN_PASSWORD} 位",
            field="password",
        )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role {role!r} (one of {', '.join(ROLES)})", field="role")


def create_user(
    store: Engine,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str | None = None,
    lang: str = "zh",
    groups: Collection[int] = (),
) -> User:
    """Add a user; a leader gets the groups given (ids). Raises Conflict when the name is taken."""
    username = username.strip()
    if not username:
        raise InputError("username is empty", field="username")
    _check_role(role)
    _check_password(password)
    if lang not in LANGS:
        raise InputError(f"unknown language {lang!r} (zh or en)", field="lang")
    with store.begin() as conn:
        taken = conn.execute(select(t.app_user.c.id).where(t.app_user.c.username == username))
        if taken.first() is not None:
            raise Conflict(f"user {username!r} exists already")
        inserted = conn.execute(
            insert(t.app_user).values(
                username=username,
                display_name=display_name,
                password_hash=_hasher.hash(password),
                role=role,
                lang=lang,
                disabled=False,
            )
        ).inserted_primary_key
        assert inserted is not None
        uid = int(inserted[0])
        _set_groups(conn, uid, groups)
    return get_user(store, uid)


def _set_groups(conn: Connection, user_id: int, groups: Collection[int]) -> None:
    conn.execute(delete(t.user_group).where(t.user_group.c.user_id == user_id))
    if groups:
        conn.execute(
            insert(t.user_group), [{"user_id": user_id, "community_id": g} for g in set(groups)]
        )


def set_groups(store: Engine, user_id: int, groups: Collection[int]) -> User:
    """Replace the groups a leader may see."""
    with store.begin() as conn:
        _set_groups(conn, user_id, groups)
    return get_user(store, user_id)


def get_user(store: Engine, user_id: int) -> User:
    with store.connect() as conn:
        row = conn.execute(select(t.app_user).where(t.app_user.c.id == user_id)).first()
        if row is None:
            raise NotFound(f"no user {user_id}")
        return _user(conn, row)


def find_user(store: Engine, username: str) -> User:
    with store.connect() as conn:
        row = conn.execute(select(t.app_user).where(t.app_user.c.username == username)).first()
        if row is None:
            raise NotFound(f"no user {username!r}")
        return _user(conn, row)


def _user(conn: Connection, row: Row[Any]) -> User:
    r = row._mapping
    groups: frozenset[int] | None = None
    if r["role"] == "leader":
        ids = conn.execute(
            select(t.user_group.c.community_id).where(t.user_group.c.user_id == r["id"])
        )
        groups = frozenset(int(g) for (g,) in ids)
    return User(
        id=int(r["id"]),
        username=r["username"],
        display_name=r["display_name"],
        role=r["role"],
        lang=r["lang"],
        timezone=r["timezone"],
        disabled=bool(r["disabled"]),
        groups=groups,
    )


def list_users(store: Engine) -> list[User]:
    with store.connect() as conn:
        rows = conn.execute(select(t.app_user).order_by(t.app_user.c.username)).all()
        return [_user(conn, r) for r in rows]


def user_count(store: Engine) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.app_user)).scalar_one())


def set_disabled(store: Engine, username: str, disabled: bool = True) -> User:
    """Disable (or enable) a user; disabling ends their sessions and API tokens at once."""
    user = find_user(store, username)
    with store.begin() as conn:
        conn.execute(update(t.app_user).where(t.app_user.c.id == user.id).values(disabled=disabled))
        if disabled:
            conn.execute(delete(t.user_session).where(t.user_session.c.user_id == user.id))
    return get_user(store, user.id)


def set_password(store: Engine, user_id: int, password: str) -> None:
    _check_password(password)
    with store.begin() as conn:
        conn.execute(
            update(t.app_user)
            .where(t.app_user.c.id == user_id)
            .values(password_hash=_hasher.hash(password))
        )
        conn.execute(delete(t.user_session).where(t.user_session.c.user_id == user_id))


def set_preferences(
    store: Engine, user_id: int, *, lang: str | None = None, timezone: str | None = None
) -> User:
    """The user's interface language and zone for dates and times."""
    values: dict[str, object] = {}
    if lang is not None:
        if lang not in LANGS:
            raise InputError(f"unknown language {lang!r} (zh or en)", field="lang")
        values["lang"] = lang
    if timezone is not None:
        from shequn.importing import resolve_timezone

        values["timezone"] = resolve_timezone(timezone)[1] if timezone else None
    if values:
        with store.begin() as conn:
            conn.execute(update(t.app_user).where(t.app_user.c.id == user_id).values(**values))
    return get_user(store, user_id)


def authenticate(store: Engine, username: str, password: str) -> User | None:
    """The user when name and password match and the user is enabled, else None."""
    with store.connect() as conn:
        row = conn.execute(select(t.app_user).where(t.app_user.c.username == username)).first()
    if row is None:
        _hasher.hash(password)  # same work whether or not the name exists
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if row.disabled:
        return None
    with store.begin() as conn:
        values: dict[str, object] = {"last_login_at": _now()}
        if _hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = _hasher.hash(password)
        conn.execute(update(t.app_user).where(t.app_user.c.id == row.id).values(**values))
    return get_user(store, int(row.id))


# -- sessions ---------------------------------------------------------------------------------


def start_session(store: Engine, user_id: int) -> tuple[str, str]:
    """A new session: (cookie token, CSRF token). Only the cookie token's digest is stored."""
    token, csrf = new_token(), secrets.token_urlsafe(24)
    now = _now()
    with store.begin() as conn:
        conn.execute(delete(t.user_session).where(t.user_session.c.expires_at < now))
        conn.execute(
            insert(t.user_session).values(
                token_hash=digest(token),
                user_id=user_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + timedelta(days=SESSION_DAYS),
            )
        )
    return token, csrf


def session_user(store: Engine, token: str) -> tuple[User, str] | None:
    """The enabled user and CSRF token of a live session, else None."""
    s, u = t.user_session.c, t.app_user.c
    with store.connect() as conn:
        row = conn.execute(
            select(s.user_id, s.csrf_token, s.expires_at, u.disabled)
            .join(t.app_user, u.id == s.user_id)
            .where(s.token_hash == digest(token))
        ).first()
    if row is None or row.disabled or row.expires_at < _now():
        return None
    return get_user(store, int(row.user_id)), row.csrf_token


def end_session(store: Engine, token: str) -> None:
    with store.begin() as conn:
        conn.execute(delete(t.user_session).where(t.user_session.c.token_hash == digest(token)))


# -- API tokens -------------------------------------------------------------------------------


def create_api_token(store: Engine, user_id: int, name: str) -> str:
    """A new API token for scripts; returned once, stored only as a digest."""
    token = "sq_" + new_token()
    with store.begin() as conn:
        conn.execute(
            insert(t.api_token).values(
                user_id=user_id, name=name, token_hash=digest(token), prefix=token[:10]
            )
        )
    return token


def token_user(store: Engine, token: str) -> User | None:
    """The enabled user behind an unrevoked API token, else None."""
    a, u = t.api_token.c, t.app_user.c
    with store.connect() as conn:
        row = conn.execute(
            select(a.id, a.user_id, a.last_used_at, u.disabled)
            .join(t.app_user, u.id == a.user_id)
            .where(a.token_hash == digest(token), a.revoked_at.is_(None))
        ).first()
    if row is None or row.disabled:
        return None
    now = _now()
    # a write per request would queue every API call behind a running import on SQLite
    if row.last_used_at is None or now - row.last_used_at > TOKEN_USE_GRANULARITY:
        with store.begin() as conn:
            conn.execute(update(t.api_token).where(a.id == row.id).values(last_used_at=now))
    return get_user(store, int(row.user_id))


def list_api_tokens(store: Engine, user_id: int) -> list[dict[str, object]]:
    a = t.api_token.c
    with store.connect() as conn:
        rows = conn.execute(
            select(a.id, a.name, a.prefix, a.created_at, a.last_used_at, a.revoked_at)
            .where(a.user_id == user_id)
            .order_by(a.id)
        )
        return [dict(r._mapping) for r in rows]


def revoke_api_token(store: Engine, user_id: int, token_id: int) -> None:
    a = t.api_token.c
    with store.begin() as conn:
        done = conn.execute(
            update(t.api_token)
            .where(a.id == token_id, a.user_id == user_id, a.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
        if done.rowcount == 0:
            raise NotFound(f"no live token {token_id}")


# -- first run --------------------------------------------------------------------------------


def needs_setup(store: Engine) -> bool:
    """True until the first admin exists: there is no default password."""
    with store.connect() as conn:
        q = select(func.count()).select_from(t.app_user).where(t.app_user.c.role == "admin")
        return int(conn.execute(q).scalar_one()) == 0


def create_setup_token(store: Engine) -> str:
    """A one-time token for the setup link that lets the first admin choose a password."""
    token = new_token()
    now = _now()
    with store.begin() as conn:
        conn.execute(
            insert(t.setup_token).values(
                token_hash=digest(token),
                created_at=now,
                expires_at=now + timedelta(hours=SETUP_HOURS),
            )
        )
    return token


def use_setup_token(store: Engine, token: str, *, username: str, password: str) -> User:
    """Make the first admin with a setup token; the token then stops working."""
    s = t.setup_token.c
    with store.begin() as conn:
        row = conn.execute(select(t.setup_token).where(s.token_hash == digest(token))).first()
        if row is None or row.used_at is not None or row.expires_at < _now():
            raise InputError("this setup link is not valid (used or expired)", field="token")
    if not needs_setup(store):
        raise Conflict("an administrator exists already; sign in instead")
    user = create_user(store, username=username, password=password, role="admin")
    with store.begin() as conn:
        conn.execute(
            update(t.setup_token).where(s.token_hash == digest(token)).values(used_at=_now())
        )
    return user
