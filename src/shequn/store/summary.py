"""Per-group summaries for `shequn groups`, `shequn demo` and import reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from shequn.store import schema as t


@dataclass
class GroupSummary:
    id: int
    platform: str
    platform_id: str
    name: str
    messages: int
    speakers: int
    members_now: int
    joins: int
    leaves: int
    removals: int
    first_message: datetime | None
    last_message: datetime | None


def group_summaries(engine: Engine) -> list[GroupSummary]:
    """One row per community with its message, member and join/leave counts."""
    m, ms, ev, c = t.message.c, t.membership.c, t.membership_event.c, t.community.c
    msg = (
        select(
            m.community_id,
            func.count().label("n"),
            func.count(m.account_id.distinct()).label("speakers"),
            func.min(m.sent_at).label("first"),
            func.max(m.sent_at).label("last"),
        )
        .group_by(m.community_id)
        .subquery()
    )
    now = (
        select(ms.community_id, func.count(ms.account_id.distinct()).label("n"))
        .where(ms.left_at.is_(None))
        .group_by(ms.community_id)
        .subquery()
    )
    evs = (
        select(
            ev.community_id,
            func.sum((ev.action == "join").cast(t.Id)).label("joins"),
            func.sum((ev.action == "leave").cast(t.Id)).label("leaves"),
            func.sum((ev.action == "remove").cast(t.Id)).label("removals"),
        )
        .group_by(ev.community_id)
        .subquery()
    )
    q = (
        select(
            c.id,
            c.platform,
            c.platform_id,
            c.name,
            func.coalesce(msg.c.n, 0),
            func.coalesce(msg.c.speakers, 0),
            func.coalesce(now.c.n, 0),
            func.coalesce(evs.c.joins, 0),
            func.coalesce(evs.c.leaves, 0),
            func.coalesce(evs.c.removals, 0),
            msg.c.first,
            msg.c.last,
        )
        .outerjoin(msg, msg.c.community_id == c.id)
        .outerjoin(now, now.c.community_id == c.id)
        .outerjoin(evs, evs.c.community_id == c.id)
        .order_by(c.platform, c.name)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [
        GroupSummary(
            id=r[0],
            platform=r[1],
            platform_id=r[2],
            name=r[3],
            messages=int(r[4]),
            speakers=int(r[5]),
            members_now=int(r[6]),
            joins=int(r[7]),
            leaves=int(r[8]),
            removals=int(r[9]),
            first_message=_aware(r[10]),
            last_message=_aware(r[11]),
        )
        for r in rows
    ]


def _aware(value: object) -> datetime | None:
    return t.UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]
