"""A message as a row of the `message` table: the compact form the parsing process sends and
the INSERT statements the writer runs it through.

Most chat messages are plain text: no reply, thread, mentions, links, edit or flags. Such a
message travels as three values and goes in through a statement that writes the constant
columns as literals; binding a parameter costs SQLite's Python driver about as much as the
insert itself does per column, and a Python bool costs several times an int (it goes through
the adapter lookup), so the plain form makes a bulk import about a third faster. Any other
message takes the full form, with its flags as 0/1 on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from shequn.errors import InputError
from shequn.model.records import AccountRef, Message

MESSAGE_COLS = (
    "community_id",
    "account_id",
    "platform_msg_id",
    "sent_at",
    "kind",
    "text",
    "reply_to",
    "thread_id",
    "mentions",
    "links",
    "edited_at",
    "deleted",
    "forwarded",
    "import_run_id",
)
# A row of the plain form: community_id, account_id, platform_msg_id, sent_at, text.
PLAIN_ROW_LEN = 5

# A message as plain values, cheap to pickle between processes: (group, sender id or None,
# row tail). The tail is the message's row after community_id and account_id: in MESSAGE_COLS
# order (full form), or (platform_msg_id, sent_at, text) (plain form). sent_at is tail[1] in both.
EncodedMessage = tuple[str, str | None, tuple[Any, ...]]


def insert_ignore_sql(table: str, cols: tuple[str, ...], ph: str, conflict: str) -> str:
    """INSERT of one row with placeholders `ph` that skips rows already there."""
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([ph] * len(cols))}) "
        f"ON CONFLICT ({conflict}) DO NOTHING"
    )


_CONFLICT = "community_id, platform_msg_id"


def full_message_sql(ph: str) -> str:
    """The INSERT for rows of the full form."""
    return insert_ignore_sql("message", MESSAGE_COLS, ph, _CONFLICT)


def plain_message_sql(ph: str, run_id: int | None, rows: int = 1) -> str:
    """The INSERT for `rows` rows of the plain form (in their order); the import run is the
    same for every row."""
    run = "NULL" if run_id is None else str(int(run_id))
    values = ", ".join([f"({ph}, {ph}, {ph}, {ph}, {ph}, 'text', FALSE, FALSE, {run})"] * rows)
    return (
        "INSERT INTO message (community_id, account_id, platform_msg_id, sent_at, text, kind, "
        f"deleted, forwarded, import_run_id) VALUES {values} ON CONFLICT ({_CONFLICT}) DO NOTHING"
    )


def sender_fields(ref: AccountRef) -> tuple[Any, ...]:
    """An AccountRef as plain values (AccountRef(*fields) rebuilds it)."""
    return (ref.platform_id, ref.name, ref.username, ref.is_bot, ref.by_name)


def saw(names: dict[Any, list[Any]], key: Any, at: Any) -> None:
    """Widen the [first, last] seen span of `key` to include `at`.

    `at` is the store's time parameter (SQLite text or datetime): both order correctly.
    """
    seen = names.get(key)
    if seen is None:
        names[key] = [at, at]
    elif at > seen[1]:  # first: exports mostly go forward in time, then one comparison does
        seen[1] = at
    elif at < seen[0]:
        seen[0] = at


def encode_message(m: Message, *, sqlite: bool, run_id: int | None) -> EncodedMessage:
    """The compact form of a message that `ImportWriter.add_batch` takes."""
    ts = sqlite_ts if sqlite else pg_ts
    if (
        m.kind == "text"
        and m.reply_to is None
        and m.thread_id is None
        and not m.mentions
        and not m.links
        and m.edited_at is None
        and not m.deleted
        and not m.forwarded
    ):
        tail: tuple[Any, ...] = (m.message_id, ts(m.sent_at), m.text)
    else:
        tail = (
            m.message_id,
            ts(m.sent_at),
            m.kind,
            m.text,
            m.reply_to,
            m.thread_id,
            orjson.dumps(m.mentions).decode() if m.mentions else None,
            orjson.dumps(m.links).decode() if m.links else None,
            None if m.edited_at is None else ts(m.edited_at),
            (1 if m.deleted else 0) if sqlite else m.deleted,
            (1 if m.forwarded else 0) if sqlite else m.forwarded,
            run_id,
        )
    return m.community_id, None if m.sender is None else m.sender.platform_id, tail


# SQLAlchemy's SQLite DATETIME text is "YYYY-MM-DD HH:MM:SS.ffffff". datetime.isoformat costs
# about a microsecond and a half a call, a fifth of parsing a message; put together from the
# text of its hour (kept, a chat stays within one hour for many messages) and a table of
# "MM:SS." it costs a third of that.
_HOURS: dict[tuple[int, int, int, int], str] = {}
_MINUTE_SECOND = tuple(f"{m:02d}:{s:02d}." for m in range(60) for s in range(60))


def sqlite_ts(dt: datetime) -> str:
    """A UTC time as SQLite stores it: naive UTC text, always with microseconds (sorts as text)."""
    if dt.tzinfo is not UTC:
        if dt.tzinfo is None:
            raise InputError("naive time from the reader (a parser bug)", field="time")
        dt = dt.astimezone(UTC)
    key = (dt.year, dt.month, dt.day, dt.hour)
    hour = _HOURS.get(key)
    if hour is None:
        if len(_HOURS) > 100_000:  # bounded: a long history spans many hours
            _HOURS.clear()
        hour = _HOURS[key] = dt.isoformat(" ")[:14]
    us = dt.microsecond
    return f"{hour}{_MINUTE_SECOND[dt.minute * 60 + dt.second]}{us:06d}"


def pg_ts(dt: datetime) -> datetime:
    """A time as the PostgreSQL driver takes it: the aware datetime itself."""
    if dt.tzinfo is None:
        raise InputError("naive time from the reader (a parser bug)", field="time")
    return dt
