"""People: one human across groups and platforms. Accounts are linked on request, never silently."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, exists, func, select, update

from shequn.errors import InputError, NotFound
from shequn.store import schema as t


@dataclass
class AccountView:
    id: int
    platform: str
    platform_id: str
    display_name: str | None
    person_id: int
    name_only: bool


@dataclass
class Suggestion:
    name: str
    accounts: list[AccountView]
    reason: str


def _views(rows: object) -> list[AccountView]:
    return [AccountView(*r) for r in rows]  # type: ignore[attr-defined]


_COLS = (
    t.account.c.id,
    t.account.c.platform,
    t.account.c.platform_id,
    t.account.c.display_name,
    t.account.c.person_id,
    t.account.c.name_only,
)


def find_account(engine: Engine, ref: str) -> AccountView:
    """An account by store id ("42"), or "platform:platform_id" ("telegram:user123")."""
    q = select(*_COLS)
    if ref.isdigit():
        q = q.where(t.account.c.id == int(ref))
    elif ":" in ref:
        platform, pid = ref.split(":", 1)
        q = q.where(t.account.c.platform == platform, t.account.c.platform_id == pid)
    else:
        raise InputError(
            "give an account as its id or as platform:platform_id", field="account", record=ref
        )
    with engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"no account {ref!r}")
    return AccountView(*row)


def link(engine: Engine, refs: list[str]) -> int:
    """Make the given accounts one person (the first account's); returns that person id."""
    if len(refs) < 2:
        raise InputError("link needs at least two accounts", field="accounts")
    accounts = [find_account(engine, r) for r in refs]
    target = accounts[0].person_id
    with engine.begin() as conn:
        for acc in accounts[1:]:
            old = acc.person_id
            conn.execute(
                update(t.account).where(t.account.c.person_id == old).values(person_id=target)
            )
            if old != target:
                _drop_if_empty(conn, old)
    return target


def unlink(engine: Engine, ref: str) -> int:
    """Give an account a person of its own again; returns the new person id."""
    acc = find_account(engine, ref)
    with engine.begin() as conn:
        shared = conn.execute(
            select(func.count())
            .select_from(t.account)
            .where(t.account.c.person_id == acc.person_id)
        ).scalar_one()
        if shared == 1:
            return acc.person_id
        pid = int(
            conn.execute(  # type: ignore[index]
                t.person.insert().values(
                    display_name=acc.display_name, created_at=datetime.now(UTC)
                )
            ).inserted_primary_key[0]
        )
        conn.execute(update(t.account).where(t.account.c.id == acc.id).values(person_id=pid))
    return pid


def _drop_if_empty(conn: object, person_id: int) -> None:
    still = conn.execute(select(exists().where(t.account.c.person_id == person_id))).scalar()  # type: ignore[attr-defined]
    if not still:
        conn.execute(delete(t.person).where(t.person.c.id == person_id))  # type: ignore[attr-defined]


def normalise_name(name: str) -> str:
    """Names compared for suggestions: NFKC, case-folded, spaces and a leading ~/@ dropped."""
    folded = unicodedata.normalize("NFKC", name).casefold().strip().lstrip("~@").strip()
    return "".join(folded.split())


def suggestions(engine: Engine, *, limit: int = 50) -> list[Suggestion]:
    """Accounts of different people whose names match: offered for linking, never merged."""
    with engine.connect() as conn:
        rows = conn.execute(select(*_COLS).where(t.account.c.display_name.is_not(None))).all()
    groups: dict[str, list[AccountView]] = defaultdict(list)
    for acc in _views(rows):
        key = normalise_name(acc.display_name or "")
        if len(key) >= 2:
            groups[key].append(acc)
    out: list[Suggestion] = []
    for accs in groups.values():
        if len({a.person_id for a in accs}) < 2:
            continue
        platforms = {a.platform for a in accs}
        reason = (
            "same name on " + ", ".join(sorted(platforms))
            if len(platforms) > 1
            else "same name; one account is known only by its name"
            if any(a.name_only for a in accs)
            else "same name on one platform"
        )
        out.append(Suggestion(name=accs[0].display_name or "", accounts=accs, reason=reason))
    out.sort(key=lambda s: (-len({a.platform for a in s.accounts}), s.name))
    return out[:limit]


def person_accounts(engine: Engine, person_id: int) -> list[AccountView]:
    with engine.connect() as conn:
        return _views(
            conn.execute(
                select(*_COLS).where(t.account.c.person_id == person_id).order_by(t.account.c.id)
            ).all()
        )
