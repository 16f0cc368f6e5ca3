"""Membership spells (joined → left) rebuilt from the join/leave/remove events of a community.

Rebuilding from events (rather than patching spells) keeps overlapping and re-run imports
idempotent: the events are deduplicated, so the spells come out the same whatever the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from shequn.store import schema as t
from shequn.store.roles import roles_of

_ORDER = {"join": 0, "leave": 1, "remove": 1}


@dataclass
class Spell:
    joined_at: datetime | None
    inviter: int | None = None
    source: str | None = None
    left_at: datetime | None = None
    left_reason: str | None = None


def spells_from_events(events: list[tuple[str, datetime, int | None, str]]) -> list[Spell]:
    """Spells of one member from (action, at, actor, source) events.

    A leave with no join before it means the member was there before the history starts
    (joined_at None). A second join while already in, or a leave while out, is ignored.
    """
    spells: list[Spell] = []
    current: Spell | None = None
    for action, at, actor, source in sorted(events, key=lambda e: (e[1], _ORDER[e[0]])):
        if action == "join":
            if current is None:
                current = Spell(joined_at=at, inviter=actor, source=source)
        elif current is not None:
            current.left_at, current.left_reason = at, action
            spells.append(current)
            current = None
        elif not spells:
            spells.append(Spell(joined_at=None, left_at=at, left_reason=action))
    if current is not None:
        spells.append(current)
    return spells


def rebuild_memberships(conn: Connection, community_id: int) -> None:
    """Replace the spells of one community with those derived from its events and messages.

    Each spell takes the account's role from `member_role` ("member" when it has none); an
    account flagged as a bot is "bot" whatever its role.
    """
    ev = t.membership_event.c
    by_account: dict[int, list[tuple[str, datetime, int | None, str]]] = {}
    for acc, action, at, actor, source in conn.execute(
        select(ev.account_id, ev.action, ev.at, ev.actor_account_id, ev.source).where(
            ev.community_id == community_id
        )
    ):
        by_account.setdefault(acc, []).append((action, at, actor, source))
    speakers = set(
        conn.execute(
            select(t.message.c.account_id)
            .where(t.message.c.community_id == community_id, t.message.c.account_id.is_not(None))
            .distinct()
        ).scalars()
    )
    bots = set(
        conn.execute(
            select(t.account.c.id).where(
                t.account.c.is_bot.is_(True), t.account.c.id.in_(speakers | set(by_account))
            )
        ).scalars()
    )
    roles = roles_of(conn, community_id)  # seen in an export or set by the operator
    rows: list[dict[str, Any]] = []
    for acc in sorted(speakers | set(by_account)):
        spells = spells_from_events(by_account.get(acc, [])) or [Spell(joined_at=None)]
        role = "bot" if acc in bots else roles.get(acc, "member")
        rows.extend(
            {
                "community_id": community_id,
                "account_id": acc,
                "joined_at": s.joined_at,
                "left_at": s.left_at,
                "left_reason": s.left_reason,
                "inviter_account_id": s.inviter,
                "join_source": s.source,
                "role": role,
            }
            for s in spells
        )
    conn.execute(delete(t.membership).where(t.membership.c.community_id == community_id))
    for i in range(0, len(rows), 5000):
        conn.execute(insert(t.membership), rows[i : i + 5000])
