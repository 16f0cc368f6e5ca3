"""Resolving @mentions to accounts, once per message after import (`message_mention`).

The importers keep what each export says about who a message @mentions in `message.mentions`
(a JSON array of strings), and that differs by platform (docs/text-theme-kol.md, "@mentions"):

- Slack `<@U024BE7LH>`, Discord mention objects or `mentionIds`, Telegram `mention_name`
  entities ("user123") and generic files with ids: the account's platform id;
- Telegram `mention` entities: the @username without the "@"; WeChat `@name` (followed by
  U+2005): the display name, or the wxid when the same file shows a sender of that name; generic
  files without ids: names;
- QQ and WhatsApp exports carry no mentions the importers could read: nothing to resolve.

Each entry is resolved within the message's group, first as a platform id of the group's
platform, then as a username, then as a name (current or past display name, `account_name`)
that exactly one member of the group carries; "members" are the accounts with a membership
spell in the group or a message in it. Unknown and ambiguous entries give no row and are only
counted (no names in the logs). A self-mention gives no row; bots stay (the metrics decide).

A name known only from a later import stays unresolved: the step goes over each message once
(a watermark, the search_state row "mentions", advanced in the same transaction as each batch's
rows), so an earlier message is not looked at again. Rows are written with ON CONFLICT DO
NOTHING, so a batch written twice (a lost watermark) adds nothing.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Row, func, select, union

from shequn.errors import InputError
from shequn.store import schema as t
from shequn.store.watermarks import Watermark, upsert

log = logging.getLogger(__name__)

WATERMARK = Watermark("mentions")  # the search_state row of this step
Mention = tuple[int, int, int]  # message id, account id, community id


@dataclass
class GroupNames:
    """Usernames and display names (current and past) of one group's members -> accounts."""

    usernames: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    names: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def find(self, entry: str) -> tuple[int | None, bool]:
        """(account, ambiguous): the one member known by `entry`, else None."""
        for book, key in ((self.usernames, entry.casefold()), (self.names, entry)):
            found = book.get(key)
            if found:
                return (next(iter(found)), False) if len(found) == 1 else (None, True)
        return None, False


@dataclass
class Resolver:
    """Resolves the entries of one run's messages; name books built once per group (set
    `conn` to each batch's connection)."""

    conn: Connection | None = None
    platforms: dict[int, str] = field(default_factory=dict)
    books: dict[int, GroupNames] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def _conn(self) -> Connection:
        if self.conn is None:
            raise RuntimeError("Resolver.conn is not set")
        return self.conn

    def resolve(self, found: Sequence[Row[Any]]) -> list[Mention]:
        """The mention rows of a batch of (id, community_id, account_id, mentions) rows."""
        parsed = [(r, _entries(r.id, r.mentions)) for r in found]
        self._platforms({r.community_id for r, _ in parsed})
        by_id = self._by_platform_id(
            {(self.platforms[r.community_id], e) for r, entries in parsed for e in entries}
        )
        out: list[Mention] = []
        for r, entries in parsed:
            targets: dict[int, None] = {}  # ordered and distinct: a name and an id may meet
            for entry in entries:
                acc = by_id.get((self.platforms[r.community_id], entry))
                if acc is None:
                    acc = self._by_name(r.community_id, entry)
                if acc is None:
                    continue
                if acc == r.account_id:
                    self.counts["self"] += 1
                    continue
                targets[acc] = None
            out.extend((r.id, acc, r.community_id) for acc in targets)
        self.counts["resolved"] += len(out)
        return out

    def _platforms(self, ids: set[int]) -> None:
        wanted = ids - self.platforms.keys()
        if wanted:
            c = t.community.c
            rows = self._conn.execute(select(c.id, c.platform).where(c.id.in_(wanted)))
            self.platforms.update({r.id: r.platform for r in rows})

    def _by_platform_id(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        by_platform: dict[str, list[str]] = defaultdict(list)
        for platform, entry in pairs:
            by_platform[platform].append(entry)
        a = t.account.c
        out: dict[tuple[str, str], int] = {}
        for platform, entries in by_platform.items():
            for chunk in _chunks(sorted(entries), 500):
                query = select(a.platform_id, a.id).where(
                    a.platform == platform, a.platform_id.in_(chunk)
                )
                out.update({(platform, r.platform_id): r.id for r in self._conn.execute(query)})
        return out

    def _by_name(self, community_id: int, entry: str) -> int | None:
        book = self.books.get(community_id)
        if book is None:
            book = self.books[community_id] = _group_names(self._conn, community_id)
        acc, ambiguous = book.find(entry)
        if acc is None:
            self.counts["ambiguous" if ambiguous else "unknown"] += 1
        return acc


def resolve_pending(store: Engine, *, batch: int = 5000) -> int:
    """Resolve the @mentions of every message after the watermark, in id order, into
    `message_mention`; returns how many mention rows were written.

    Messages are read `batch` mention-bearing messages at a time; each batch's rows and the new
    watermark are committed together. Safe to run again at any time: it adds nothing new then.
    """
    if batch < 1:
        raise InputError("batch must be at least 1", field="batch")
    with store.begin() as conn:
        WATERMARK.ensure(conn)
        last = WATERMARK.get(conn)
        top = int(conn.execute(select(func.coalesce(func.max(t.message.c.id), 0))).scalar_one())
    written = 0
    resolver = Resolver()
    while last < top:
        with store.begin() as conn:
            if WATERMARK.get(conn, lock=True) != last:
                log.info("another run is resolving the same mentions; leaving them to it")
                break
            found = _mentioning(conn, last, top, batch)
            upto = found[-1].id if len(found) == batch else top
            resolver.conn = conn
            rows = resolver.resolve(found)
            written += _insert(conn, rows)
            WATERMARK.set(conn, upto)
        last = upto
    counts = resolver.counts
    if counts:
        log.info(
            "mentions: %d resolved, %d unknown, %d ambiguous, %d self-mentions left out",
            counts["resolved"],
            counts["unknown"],
            counts["ambiguous"],
            counts["self"],
        )
    return written


def _mentioning(conn: Connection, after: int, top: int, size: int) -> Sequence[Row[Any]]:
    m = t.message.c
    return conn.execute(
        select(m.id, m.community_id, m.account_id, m.mentions)
        .where(m.id > after, m.id <= top, m.mentions.is_not(None))
        .order_by(m.id)
        .limit(size)
    ).all()


def _entries(message_id: int, raw: str) -> list[str]:
    """The non-blank strings of a `mentions` array; anything else counts as none."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, list):
        log.warning("message %d: mentions are not a JSON array; ignored", message_id)
        return []
    items = (str(v).strip() for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return [s for s in items if s]


def _group_names(conn: Connection, community_id: int) -> GroupNames:
    """The name book of a group: its members' usernames, display names and past names."""
    ms, msg = t.membership.c, t.message.c
    members = union(
        select(ms.account_id).where(ms.community_id == community_id),
        select(msg.account_id).where(msg.community_id == community_id, msg.account_id.is_not(None)),
    ).subquery()
    member_ids = select(members.c.account_id)
    a, n = t.account.c, t.account_name.c
    book = GroupNames()
    for r in conn.execute(select(a.id, a.display_name, a.username).where(a.id.in_(member_ids))):
        if r.username:
            book.usernames[r.username.casefold()].add(r.id)
        if r.display_name:
            book.names[r.display_name].add(r.id)
    past = select(n.account_id, n.name).where(n.account_id.in_(member_ids))
    for r in conn.execute(past):
        book.names[r.name].add(r.account_id)
    return book


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the rows ----------------------------------------------------------------------------------


def _insert(conn: Connection, rows: list[Mention]) -> int:
    """Insert the rows (those already there are skipped); returns how many were new."""
    if not rows:
        return 0
    values = [{"message_id": m, "account_id": a, "community_id": c} for m, a, c in rows]
    mm = t.message_mention
    stmt = upsert(conn, mm).on_conflict_do_nothing().returning(mm.c.message_id)
    # RETURNING gives the rows actually inserted (SQLAlchemy's "insertmanyvalues" batches)
    return len(conn.execute(stmt, values).all())
