"""The archive: full-text search of messages, limited to the asking user's groups, paged.

Built from the pieces of `shequn.store.search` (the same segmentation, the same index match and
the same neighbours), adding what the workspace needs on top: a list of allowed groups (leaders),
a group by id, a member by person id or name, an end date and an offset for paging. With no
words but a group or member given, it lists their newest messages (a plain index read).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, Select, select

from shequn.errors import InputError
from shequn.store import schema as t
from shequn.store.search import matching_ids, neighbours, segment
from shequn.store.users import User
from shequn.web.auth import check_group

PAGE_SIZE = 20  # each hit reads its neighbours: 2 small index reads per hit
EXPORT_SIZE = 1000  # hits in one CSV export
CONTEXT = 2


@dataclass(frozen=True)
class SearchQuery:
    """What was asked. `groups` None: every group; `member`: a person id (digits) or a name."""

    q: str = ""
    groups: frozenset[int] | None = None
    group_id: int | None = None
    member: str | None = None
    since: date | None = None
    until: date | None = None
    zone: str = "UTC"
    page: int = 1
    page_size: int = PAGE_SIZE

    @property
    def tokens(self) -> list[str]:
        return [tok for tok in segment(self.q) if tok.strip()]

    @property
    def empty(self) -> bool:
        """Nothing to search for: no words and no group or member to list."""
        return not self.tokens and self.group_id is None and not self.member


@dataclass
class SearchHit:
    message_id: int
    community_id: int
    group: str
    platform: str
    account_id: int | None
    person_id: int | None
    sender: str | None
    sent_at: datetime
    text: str
    parts: list[tuple[str, bool]]  # the text cut into (piece, is a searched word)
    context: list[dict[str, Any]] = field(default_factory=list)


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError("a date is YYYY-MM-DD / 日期格式为 YYYY-MM-DD", field=name) from None


def _group(value: str | None) -> int | None:
    if not value:
        return None
    if not value.strip().isdigit():
        raise InputError("a group is given by its id / 群用编号表示", field="group")
    return int(value)


def query_for(
    user: User,
    *,
    q: str = "",
    group: str | None = None,
    member: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page: int = 1,
    zone: str = "UTC",
) -> SearchQuery:
    """The search `user` may run from the page's or the API's parameters (text as given):
    a leader's search covers only their groups, and a group outside them is refused."""
    group_id = _group(group)
    if group_id is not None:
        check_group(user, group_id)
    return SearchQuery(
        q=q.strip(),
        groups=user.groups,
        group_id=group_id,
        member=(member or "").strip() or None,
        since=_day(since, "since"),
        until=_day(until, "until"),
        zone=zone,
        page=max(page, 1),
    )


def visible_groups(engine: Engine, user: User) -> list[tuple[int, str]]:
    """(id, name) of the groups the user may search, by name."""
    c = t.community.c
    q = select(c.id, c.name).order_by(c.name, c.id)
    if user.groups is not None:
        q = q.where(c.id.in_(sorted(user.groups)))
    with engine.connect() as conn:
        return [(int(i), n) for i, n in conn.execute(q)]


def local_start(day: date, zone: str) -> datetime:
    """Midnight of `day` in `zone`, as aware UTC."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def highlight(text: str, tokens: list[str]) -> list[tuple[str, bool]]:
    """`text` cut into pieces, each marked True where it is one of the searched words."""
    words = sorted({tok for tok in tokens if tok}, key=len, reverse=True)
    if not words or not text:
        return [(text, False)] if text else []
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            parts.append((text[pos : m.start()], False))
        if parts and parts[-1][1] and m.start() == pos:  # 社群 + 运营 read as one phrase
            parts[-1] = (parts[-1][0] + m.group(0), True)
        else:
            parts.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def _filtered(conn: Connection, query: SearchQuery) -> Select[Any]:
    m, c, a = t.message.c, t.community.c, t.account.c
    q = (
        select(
            m.id,
            m.community_id,
            c.name,
            c.platform,
            m.account_id,
            a.person_id,
            a.display_name,
            m.sent_at,
            m.text,
            m.kind,
        )
        .join(t.community, c.id == m.community_id)
        .outerjoin(t.account, a.id == m.account_id)
    )
    if query.tokens:
        matched = matching_ids(conn, query.tokens)
        q = q.join(matched, matched.c.id == m.id)
    if query.groups is not None:
        q = q.where(m.community_id.in_(sorted(query.groups)))
    if query.group_id is not None:
        q = q.where(m.community_id == query.group_id)
    if query.member:
        q = q.where(_member_clause(query.member))
    if query.since is not None:
        q = q.where(m.sent_at >= local_start(query.since, query.zone))
    if query.until is not None:
        q = q.where(m.sent_at < local_start(query.until + timedelta(days=1), query.zone))
    return q


def _member_clause(member: str) -> Any:
    a = t.account.c
    value = member.strip()
    if value.isdigit():
        return a.person_id == int(value)
    return (a.display_name == value) | (a.username == value) | (a.platform_id == value)


def search_messages(
    engine: Engine, query: SearchQuery, *, context: int = CONTEXT
) -> tuple[list[SearchHit], bool]:
    """One page of hits, newest first, each with `context` messages either side; and whether
    another page follows."""
    if query.empty or (query.groups is not None and not query.groups):
        return [], False
    m = t.message.c
    offset = (max(query.page, 1) - 1) * query.page_size
    with engine.connect() as conn:
        q = _filtered(conn, query).order_by(m.sent_at.desc(), m.id.desc())
        rows = conn.execute(q.limit(query.page_size + 1).offset(offset)).all()
        more = len(rows) > query.page_size
        tokens = query.tokens
        hits = [_hit(conn, row, tokens, context) for row in rows[: query.page_size]]
    return hits, more


def _hit(conn: Connection, row: Any, tokens: list[str], context: int) -> SearchHit:
    mid, cid, group, platform, aid, pid, sender, at, text, kind = row
    shown = text or f"[{kind}]"
    around = neighbours(conn, cid, at, mid, context) if context else []
    return SearchHit(
        message_id=mid,
        community_id=cid,
        group=group,
        platform=platform,
        account_id=aid,
        person_id=pid,
        sender=sender,
        sent_at=at,
        text=shown,
        parts=highlight(shown, tokens),
        context=[
            {
                "sent_at": when,
                "sender": who,
                "text": said,
                "hit": is_hit,
                "parts": highlight(said, tokens) if is_hit else [(said, False)],
            }
            for when, who, said, is_hit in around
        ],
    )


def hits_csv(hits: list[SearchHit]) -> str:
    """Hits as CSV: one line per hit, its context as 'time sender: text' lines in one cell."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "message_id",
            "community_id",
            "group",
            "platform",
            "person_id",
            "sender",
            "sent_at",
            "text",
            "context",
        ]
    )
    for h in hits:
        around = "\n".join(
            f"{c['sent_at'].isoformat()} {c['sender'] or ''}: {c['text']}" for c in h.context
        )
        writer.writerow(
            [
                h.message_id,
                h.community_id,
                h.group,
                h.platform,
                h.person_id,
                h.sender,
                h.sent_at.isoformat(),
                h.text,
                around,
            ]
        )
    return out.getvalue()
