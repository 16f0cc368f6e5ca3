"""Writing parsed records into the store, fast and idempotently.

One `ImportWriter` per import, inside one transaction that the caller owns: either the whole
import lands or none of it (bad input, kill -9). Messages go in with batched
`INSERT ... ON CONFLICT DO NOTHING` on (community, platform message id), so importing the same or
an overlapping export again adds nothing. Roles an export states (MemberRole) are stored at the
end, in the same transaction, without replacing the operator's; then membership spells are rebuilt
from the events.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    Community,
    MemberRole,
    MembershipEvent,
    Message,
    Reaction,
    Record,
)
from shequn.store import schema as t
from shequn.store.membership import rebuild_memberships
from shequn.store.message_rows import (
    EncodedMessage,
    encode_message,
    pg_ts,
    saw,
    sender_fields,
    sqlite_ts,
)
from shequn.store.roles import record_import_roles
from shequn.store.writer_flush import RowSink

log = logging.getLogger(__name__)


@dataclass
class WriteCounts:
    communities: int = 0
    messages_seen: int = 0
    messages_added: int = 0
    membership_events_seen: int = 0
    membership_events_added: int = 0
    reactions_seen: int = 0
    accounts_added: int = 0
    names_unmatched: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Pending:
    """A membership event or role whose member (or actor) is known only by display name."""

    community: int
    platform: str
    event: MembershipEvent | MemberRole
    extra: dict[str, Any] = field(default_factory=dict)


class ImportWriter:
    """Consumes records in the order a parser yields them; call `finish()` at the end."""

    def __init__(
        self,
        conn: Connection,
        *,
        import_run_id: int | None,
        batch_size: int = 5000,
        defer_indexes: bool = False,
    ):
        self.conn = conn
        self.run_id = import_run_id
        self.batch_size = batch_size
        self.dialect = conn.dialect.name
        self.counts = WriteCounts()
        self._sink = RowSink(conn, run_id=import_run_id)
        self._ts = sqlite_ts if self.dialect == "sqlite" else pg_ts
        self._communities: dict[str, tuple[int, str]] = {}  # platform group id -> (id, platform)
        self._accounts: dict[tuple[str, str], int] = {}
        self._names: dict[tuple[int, str], list[Any]] = {}
        self._sender_info: dict[str, tuple[Any, ...]] = {}
        self._messages: list[tuple[Any, ...]] = []
        self._messages_added = 0  # rows the inserts reported (SQLite counts them exactly)
        self._reactions: list[tuple[Any, ...]] = []
        self._events: list[tuple[Any, ...]] = []
        self._pending: list[_Pending] = []
        self._roles: dict[int, dict[int, str]] = defaultdict(dict)  # community -> account -> role
        self._touched: set[int] = set()
        self._deferred = defer_indexes and self.dialect == "sqlite"
        if self._deferred:
            # A large import into a small store: building the two time indexes once at the end
            # is several times faster than maintaining them row by row. SQLite DDL is
            # transactional, so a failed or killed import leaves them as they were.
            for ix in _DEFERRABLE:
                self.conn.exec_driver_sql(f"DROP INDEX {ix.name}")

    # -- dispatch -------------------------------------------------------------------------
    def write(self, record: Record) -> None:
        if isinstance(record, Message):
            self._message(record)
        elif isinstance(record, MembershipEvent):
            self._membership_event(record)
        elif isinstance(record, Reaction):
            self._reaction(record)
        elif isinstance(record, Community):
            self._community(record)
        elif isinstance(record, MemberRole):
            self._member_role(record)
        else:  # pragma: no cover - a parser bug
            raise TypeError(f"not a record: {type(record).__name__}")

    def _community_of(self, platform_group_id: str) -> tuple[int, str]:
        found = self._communities.get(platform_group_id)
        if found is None:
            raise InputError(
                "record names a group the export has not described yet",
                field="community_id",
                record=platform_group_id,
            )
        return found

    def _community(self, c: Community) -> None:
        values = {
            "platform": c.platform,
            "platform_id": c.platform_id,
            "name": c.name,
            "chat_type": c.chat_type,
            "theme": c.topic,
            "timezone": c.timezone,
            "created_at": datetime.now(UTC),
        }
        stmt = _dialect_insert(self.dialect, t.community).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform", "platform_id"],
            set_={"name": stmt.excluded.name, "chat_type": stmt.excluded.chat_type},
        )
        self.conn.execute(stmt)
        cid = self.conn.execute(
            select(t.community.c.id).where(
                t.community.c.platform == c.platform, t.community.c.platform_id == c.platform_id
            )
        ).scalar_one()
        self._communities[c.platform_id] = (cid, c.platform)
        self._touched.add(cid)
        self.counts.communities += 1

    def _message(self, m: Message) -> None:
        sqlite = self.dialect == "sqlite"
        enc = encode_message(m, sqlite=sqlite, run_id=self.run_id)
        s = m.sender
        self.add_batch([enc], {} if s is None else {s.platform_id: sender_fields(s)})
        if s is not None and s.name:
            platform = self._communities[m.community_id][1]
            self._saw_name(self._accounts[(platform, s.platform_id)], s.name, enc[2][1])

    def add_batch(self, items: list[EncodedMessage], senders: dict[str, tuple[Any, ...]]) -> None:
        """The fast path: messages encoded by `encode_message` in the parsing process.

        `senders` gives the AccountRef fields of sender ids not sent before; display names
        seen come separately, once, through `add_names`.
        """
        self._sender_info.update(senders)
        accounts, out = self._accounts, self._messages
        last_group, cid, platform = None, 0, ""
        for group, pid, tail in items:
            if group != last_group:
                cid, platform = self._community_of(group)
                last_group = group
            if pid is None:
                out.append((cid, None, *tail))
                continue
            acc = accounts.get((platform, pid))
            if acc is None:
                acc = self.account_id(platform, AccountRef(*self._sender_info[pid]))
            out.append((cid, acc, *tail))
        self.counts.messages_seen += len(items)
        if len(out) >= self.batch_size:
            self._flush_messages()

    def add_names(self, names: dict[tuple[str, str, str], list[Any]]) -> None:
        """Display names seen by the parsing process: (group, sender id, name) -> [first, last]."""
        for (group, pid, name), (first, last) in names.items():
            _cid, platform = self._community_of(group)
            acc = self._accounts[(platform, pid)]
            self._saw_name(acc, name, first)
            self._saw_name(acc, name, last)

    def _reaction(self, r: Reaction) -> None:
        cid, platform = self._community_of(r.community_id)
        self.counts.reactions_seen += 1
        acc = self.account_id(platform, r.reactor) if r.reactor is not None else None
        self._reactions.append(
            (
                cid,
                r.message_id,
                acc,
                "" if acc is None else str(acc),
                r.emoji,
                r.count,
                self._ts(r.at) if r.at else None,
            )
        )
        if len(self._reactions) >= self.batch_size:
            self._flush_reactions()

    def _membership_event(self, e: MembershipEvent) -> None:
        cid, platform = self._community_of(e.community_id)
        self.counts.membership_events_seen += 1
        self._touched.add(cid)
        if e.member.by_name or (e.actor is not None and e.actor.by_name):
            self._pending.append(_Pending(cid, platform, e))
            return
        member = self.account_id(platform, e.member)
        actor = self.account_id(platform, e.actor) if e.actor is not None else None
        self._add_event(cid, member, actor, e)

    def _member_role(self, r: MemberRole) -> None:
        cid, platform = self._community_of(r.community_id)
        self._touched.add(cid)
        if r.member.by_name:
            self._pending.append(_Pending(cid, platform, r))
            return
        # a later record for the same member replaces an earlier one: the export's latest word
        self._roles[cid][self.account_id(platform, r.member)] = r.role

    def _add_event(self, cid: int, member: int, actor: int | None, e: MembershipEvent) -> None:
        self._events.append(
            (cid, member, e.action, self._ts(e.at), actor, e.source, e.message_id, self.run_id)
        )
        if len(self._events) >= self.batch_size:
            self._flush_events()

    # -- accounts -------------------------------------------------------------------------
    def account_id(self, platform: str, ref: AccountRef) -> int:
        """The store id of a platform account, created (with its own person) on first sight."""
        key = (platform, ref.platform_id)
        found = self._accounts.get(key)
        if found is not None:
            return found
        acc = self.conn.execute(
            select(t.account.c.id).where(
                t.account.c.platform == platform, t.account.c.platform_id == ref.platform_id
            )
        ).scalar()
        if acc is None:
            acc = self._create_account(platform, ref)
        self._accounts[key] = acc
        return acc

    def _create_account(self, platform: str, ref: AccountRef) -> int:
        now = datetime.now(UTC)
        person_id = self.conn.execute(  # type: ignore[index]
            t.person.insert().values(display_name=ref.name, created_at=now)
        ).inserted_primary_key[0]
        self.counts.accounts_added += 1
        return int(
            self.conn.execute(  # type: ignore[index]
                t.account.insert().values(
                    platform=platform,
                    platform_id=ref.platform_id,
                    person_id=person_id,
                    display_name=ref.name,
                    username=ref.username,
                    is_bot=ref.is_bot,
                    name_only=ref.by_name,
                    created_at=now,
                )
            ).inserted_primary_key[0]
        )

    def _saw_name(self, acc: int, name: str, at: Any) -> None:
        saw(self._names, (acc, name), at)

    # -- flushing -------------------------------------------------------------------------
    def _flush_messages(self) -> None:
        if self._messages:
            self._messages_added += self._sink.messages(self._messages)
            self._messages = []

    def _flush_reactions(self) -> None:
        self._sink.reactions(self._reactions)
        self._reactions = []

    def _flush_events(self) -> None:
        self._sink.events(self._events)
        self._events = []

    def _flush_names(self) -> None:
        """Record every display name seen (with first/last seen); the newest becomes current."""
        self._sink.names(
            [(acc, name, first, last) for (acc, name), (first, last) in self._names.items()]
        )
        self._names = {}

    def finish(self) -> WriteCounts:
        """Flush everything, resolve names, rebuild memberships, count what was added."""
        self._flush_messages()
        if self._deferred:
            # the parsing process is done by now: SQLite may sort on the free cores
            self.conn.exec_driver_sql("PRAGMA threads=4")
            for ix in _DEFERRABLE:
                ix.create(self.conn)
            self.conn.exec_driver_sql("PRAGMA threads=0")
            self._deferred = False
        self._flush_reactions()
        self._flush_names()
        self._resolve_pending()
        self._flush_events()
        for cid, roles in sorted(self._roles.items()):
            record_import_roles(self.conn, cid, roles)
        for cid in sorted(self._touched):
            rebuild_memberships(self.conn, cid)
        self._count_added()
        self._sink.close()
        return self.counts

    def _resolve_pending(self) -> None:
        by_community: dict[int, list[_Pending]] = defaultdict(list)
        for p in self._pending:
            by_community[p.community].append(p)
        for cid, items in by_community.items():
            names = _names_in_community(self.conn, cid)
            for p in items:
                e = p.event
                member = self._by_name(p.platform, e.member, names)
                if isinstance(e, MemberRole):
                    self._roles[cid][member] = e.role
                    continue
                actor = self._by_name(p.platform, e.actor, names) if e.actor else None
                self._add_event(cid, member, actor, e)
        self._pending = []

    def _by_name(self, platform: str, ref: AccountRef, names: dict[str, set[int]]) -> int:
        if not ref.by_name:
            return self.account_id(platform, ref)
        matches = names.get(ref.name or ref.platform_id, set())
        if len(matches) == 1:
            return next(iter(matches))
        # Unknown or ambiguous name: an account known by name only; people suggestions offer
        # linking it to the real one later, never silently.
        self.counts.names_unmatched += 1
        return self.account_id(
            platform, AccountRef(platform_id=f"name:{ref.name}", name=ref.name, by_name=True)
        )

    def _count_added(self) -> None:
        if self.run_id is None:
            return
        tables = [(t.membership_event, "membership_events_added")]
        if self.dialect == "sqlite":  # no scan of the whole table for the count
            self.counts.messages_added = self._messages_added
        else:
            tables.append((t.message, "messages_added"))
        for table, attr in tables:
            n = self.conn.execute(
                select(func.count()).select_from(table).where(table.c.import_run_id == self.run_id)
            ).scalar_one()
            setattr(self.counts, attr, int(n))


_DEFERRABLE = [ix for ix in t.message.indexes if not ix.unique]


def _names_in_community(conn: Connection, cid: int) -> dict[str, set[int]]:
    """Display names (current and past) of the accounts that spoke in a community."""
    speakers = select(t.message.c.account_id).where(t.message.c.community_id == cid).distinct()
    rows = conn.execute(
        select(t.account_name.c.name, t.account_name.c.account_id).where(
            t.account_name.c.account_id.in_(speakers)
        )
    )
    out: dict[str, set[int]] = defaultdict(set)
    for name, acc in rows:
        out[name].add(acc)
    return out


def _dialect_insert(dialect: str, table: Any) -> Any:
    return sqlite_insert(table) if dialect == "sqlite" else pg_insert(table)
