"""Member roles: who runs a group (owner, admin, operator) and who is simply a member.

Roles come from two places (table `member_role`, one row per group and account):

- an export that names them (QQ 【群主】/【管理员】, Slack owners and admins): source "import";
- the operator (`shequn role set`): source "operator". The operator's word wins: an import
  never overwrites it, and "member" set by the operator means "not an operator, whatever an
  export says".

Membership spells are rebuilt from join/leave events and take their role from here; a bot
(account.is_bot) stays "bot" whatever its role. After any change the spells of that account in
that group get the new role at once, so nothing has to be rebuilt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.errors import InputError, NotFound
from shequn.store import schema as t

#: roles that run a group: their messages are not UGC, they are never core members
OPERATOR_ROLES = ("owner", "admin", "operator")
ROLES = (*OPERATOR_ROLES, "member")
SOURCES = ("import", "operator")


@dataclass(frozen=True)
class RoleRow:
    """One stored role, for listings."""

    community_id: int
    community: str
    account_id: int
    platform_id: str
    display_name: str | None
    role: str
    source: str
    updated_at: datetime


def set_role(
    store_or_conn: Engine | Connection,
    *,
    community_id: int,
    account_id: int,
    role: str,
    source: str = "operator",
) -> None:
    """Give `account_id` the role `role` in `community_id` and update its membership rows.

    With source "operator" (the default) the role is final; with source "import" it does not
    replace a role the operator set. Raises InputError for an unknown role or source, NotFound
    for an unknown group or account.
    """
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}", field="role")
    if source not in SOURCES:
        raise InputError(f"unknown source {source!r}", field="source")
    if isinstance(store_or_conn, Engine):
        with store_or_conn.begin() as conn:
            _set_role(conn, community_id, account_id, role, source)
    else:
        _set_role(store_or_conn, community_id, account_id, role, source)


def _set_role(conn: Connection, community_id: int, account_id: int, role: str, source: str) -> None:
    c, a = t.community.c, t.account.c
    if conn.execute(select(c.id).where(c.id == community_id)).first() is None:
        raise NotFound(f"no group with id {community_id}")
    if conn.execute(select(a.id).where(a.id == account_id)).first() is None:
        raise NotFound(f"no account with id {account_id}")
    _upsert(conn, community_id, {account_id: role}, source)


def record_import_roles(conn: Connection, community_id: int, roles: Mapping[int, str]) -> None:
    """Store roles an export gave ({account_id: role}), leaving the operator's own rows alone.

    Runs in the caller's transaction (the import's), so an interrupted import keeps none.
    """
    bad = sorted({r for r in roles.values() if r not in ROLES})
    if bad:
        raise InputError(f"unknown role {bad[0]!r}", field="role")
    if roles:
        _upsert(conn, community_id, roles, "import")


def roles_of(conn: Connection, community_id: int) -> dict[int, str]:
    """The stored role of every account that has one in `community_id`: {account_id: role}."""
    r = t.member_role.c
    rows = conn.execute(select(r.account_id, r.role).where(r.community_id == community_id))
    return {acc: role for acc, role in rows}


def find_member(engine: Engine, *, community_id: int, ref: str) -> int:
    """The account in a group named by `ref`: its platform id, else its display name.

    Members are the accounts with a membership or a role in the group. Raises InputError
    (field "member") when nobody or several members match, listing the candidates.
    """
    a, m, r = t.account.c, t.membership.c, t.member_role.c
    in_group = (
        select(m.account_id)
        .where(m.community_id == community_id)
        .union(select(r.account_id).where(r.community_id == community_id))
    )
    query = select(a.id, a.platform_id, a.display_name).where(
        a.id.in_(in_group), (a.platform_id == ref) | (a.display_name == ref)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
    by_id = [row for row in found if row.platform_id == ref]
    hits = by_id or found
    if len(hits) == 1:
        return int(hits[0].id)
    if not hits:
        raise InputError(f"no member {ref!r} in group {community_id}", field="member")
    listed = "; ".join(f"{h.platform_id} ({h.display_name or '-'})" for h in hits[:10])
    raise InputError(
        f"{len(hits)} members are called {ref!r}; give the platform id of one: {listed}",
        field="member",
    )


def list_roles(engine: Engine, community_id: int | None = None) -> list[RoleRow]:
    """Stored roles of one group or of all, by group, then operators first, then name."""
    r, a, c = t.member_role.c, t.account.c, t.community.c
    query = (
        select(
            r.community_id,
            c.name,
            r.account_id,
            a.platform_id,
            a.display_name,
            r.role,
            r.source,
            r.updated_at,
        )
        .join_from(t.member_role, t.account, a.id == r.account_id)
        .join(t.community, c.id == r.community_id)
    )
    if community_id is not None:
        query = query.where(r.community_id == community_id)
    with engine.connect() as conn:
        rows = [RoleRow(*row) for row in conn.execute(query)]
    rank = {role: i for i, role in enumerate(ROLES)}
    return sorted(rows, key=lambda x: (x.community_id, rank[x.role], x.display_name or ""))


def _upsert(conn: Connection, community_id: int, roles: Mapping[int, str], source: str) -> None:
    now = datetime.now(UTC)
    table = t.member_role
    rows = [
        {"community_id": community_id, "account_id": acc, "role": role, "source": source}
        for acc, role in sorted(roles.items())
    ]
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    stmt = insert(table).values(updated_at=now)
    changed = (table.c.role != stmt.excluded.role) | (table.c.source != stmt.excluded.source)
    if source == "import":  # the operator's word is never overwritten by an export
        changed = changed & (table.c.source != "operator")
    stmt = stmt.on_conflict_do_update(
        index_elements=["community_id", "account_id"],
        set_={"role": stmt.excluded.role, "source": stmt.excluded.source, "updated_at": now},
        where=changed,  # an unchanged role keeps its time: re-importing changes nothing
    )
    for i in range(0, len(rows), 2000):
        conn.execute(stmt, rows[i : i + 2000])
    apply_roles(conn, community_id, roles)


def apply_roles(conn: Connection, community_id: int, account_ids: Iterable[int]) -> None:
    """Copy the stored roles of these accounts onto their membership rows (bots stay bots)."""
    ids = sorted(set(account_ids))
    m, r = t.membership.c, t.member_role.c
    stored = (
        select(r.role)
        .where(r.community_id == m.community_id, r.account_id == m.account_id)
        .scalar_subquery()
    )
    bots = select(t.account.c.id).where(t.account.c.is_bot.is_(True))
    for i in range(0, len(ids), 500):
        conn.execute(
            update(t.membership)
            .where(
                m.community_id == community_id,
                m.account_id.in_(ids[i : i + 500]),
                m.account_id.not_in(bots),
            )
            .values(role=func.coalesce(stored, "member"))
        )
