"""Row -> records for the generic CSV/JSONL format (docs/generic-format.md).

A row is a mapping of column name to value: always strings from CSV, JSON values from JSONL.
`RowReader` turns one row into records and keeps the little per-import state the format needs:
which groups were announced (bounded by the number of groups) and a bounded window of recent
(time, sender, text) keys for the deterministic ids of rows that have no message_id.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from hashlib import blake2b
from typing import Final, get_args

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    Community,
    JoinSource,
    MembershipAction,
    MembershipEvent,
    Message,
    MessageKind,
    Reaction,
    Record,
)
from shequn.platforms.base import ParseContext
from shequn.platforms.util import find_links

log = logging.getLogger(__name__)

REQUIRED: Final = ("group_id", "message_id", "time", "sender_id", "text")
OPTIONAL: Final = (
    "platform",
    "group_name",
    "sender_name",
    "is_bot",
    "event",
    "kind",
    "reply_to",
    "thread_id",
    "mentions",
    "edited_time",
    "deleted",
    "actor_id",
    "actor_name",
    "join_source",
    "emoji",
    "target_message_id",
)
COLUMNS: Final = REQUIRED + OPTIONAL
KNOWN: Final = frozenset(COLUMNS)

EVENTS: Final[tuple[str, ...]] = ("message", *get_args(MembershipAction), "reaction")
KINDS: Final[tuple[str, ...]] = get_args(MessageKind)
JOIN_SOURCES: Final[tuple[str, ...]] = get_args(JoinSource)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Epoch numbers from 10^11 on are milliseconds: as seconds they would be after year 5138, as
# milliseconds they are after March 1973, so no real chat time is ambiguous.
MS_FROM: Final = Decimal(100_000_000_000)
_MAX_SECONDS = Decimal("253402300799.999999")  # 9999-12-31T23:59:59.999999Z, datetime.max
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
_DUP_WINDOW = 100_000  # recent id-less keys remembered; bounds memory on huge files


def _shown(value: object) -> str:
    """A bad value for an error message, cut short (it is not message text, but may be long)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_time(value: object, *, field: str) -> tuple[datetime, bool]:
    """A `time`-style value as (datetime, naive). Aware results are UTC; naive ones need a zone.

    Accepts ISO 8601 with Z or an offset, a naive "YYYY-MM-DD HH:MM[:SS[.ffffff]]" (T or space),
    or epoch seconds / milliseconds as a JSON number or a string of digits.
    """
    number: Decimal
    if isinstance(value, bool):
        raise InputError(f"not a time: {_shown(value)}", field=field)
    if isinstance(value, int):
        if 0 <= value < MS_FROM:  # the common case, without Decimal
            return _EPOCH + timedelta(seconds=value), False
        number = Decimal(value)
    elif isinstance(value, float):
        # repr gives back the decimal digits the writer used (exact to µs until year 2286).
        try:
            number = Decimal(repr(value))
        except InvalidOperation:
            raise InputError(f"not a time: {_shown(value)}", field=field) from None
    elif isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            number = Decimal(text)
        elif _ISO.match(text):
            return _iso(text, field=field)
        else:
            raise InputError(
                f"not a time: {_shown(value)}; use ISO 8601 (2024-03-01T20:15:00+08:00), "
                "epoch seconds or milliseconds",
                field=field,
            )
    else:
        raise InputError(f"not a time: {_shown(value)}", field=field)
    return _from_epoch(number, field=field), False


def _iso(text: str, *, field: str) -> tuple[datetime, bool]:
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed, True
        return parsed.astimezone(UTC), False
    except (ValueError, OverflowError):
        raise InputError(f"not a valid ISO 8601 time: {_shown(text)}", field=field) from None


def _from_epoch(number: Decimal, *, field: str) -> datetime:
    if not number.is_finite() or number < 0:
        raise InputError(f"not an epoch time: {number}", field=field)
    seconds = number / 1000 if number >= MS_FROM else number
    if seconds > _MAX_SECONDS:
        raise InputError(f"epoch time out of range: {number}", field=field)
    whole = int(seconds)
    micro = int(((seconds - whole) * 1_000_000).to_integral_value(ROUND_HALF_EVEN))
    try:
        return _EPOCH + timedelta(seconds=whole, microseconds=micro)
    except OverflowError:  # .9999995 s rounded up past 9999-12-31T23:59:59
        raise InputError(f"epoch time out of range: {number}", field=field) from None


class Fields:
    """Typed access to one row's values; "" and null (or a missing JSONL key) mean empty."""

    def __init__(self, row: Mapping[str, object]) -> None:
        self.row = row

    def raw(self, key: str) -> str:
        """The value as a string ("" when empty); JSON integers are allowed (numeric ids)."""
        value = self.row.get(key)
        if type(value) is str:  # the common case first
            return value
        if value is None:
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # numeric ids are common in JSON exports
        raise InputError(f"expected a string, got {_shown(value)}", field=key)

    def id(self, key: str) -> str:
        """An id, enum word or other token: surrounding whitespace removed."""
        return self.raw(key).strip()

    def text(self, key: str) -> str:
        """Message text, which must be a string in JSON, kept exactly."""
        value = self.row.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise InputError(f"expected a string, got {_shown(value)}", field=key)
        return value  # exactly as written: no trimming

    def flag(self, key: str) -> bool:
        """A boolean: true/false/1/0 in any case, JSON true/false; empty is False."""
        value = self.row.get(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        word = value.strip().lower() if isinstance(value, str) else value
        if word in (None, "", "false", "0"):
            return False
        if word in ("true", "1"):
            return True
        raise InputError(f"not a boolean: {_shown(value)}; use true/false/1/0", field=key)

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        """One of `allowed` (case-insensitive), or `default` when empty."""
        word = self.id(key).lower()
        if not word:
            return default
        if word not in allowed:
            raise InputError(
                f"unknown value {_shown(word)}; expected one of {', '.join(allowed)}", field=key
            )
        return word

    def names(self, key: str) -> list[str]:
        """A list of ids or names: a JSON array, or a `;`-separated string; blanks dropped."""
        value = self.row.get(key)
        if isinstance(value, list):
            items = [Fields({key: v}).raw(key) for v in value]
        else:
            items = self.raw(key).split(";")
        return [s for s in (item.strip() for item in items) if s]

    def account(self, id_key: str, name_key: str, *, is_bot: bool = False) -> AccountRef | None:
        """An account from an id and/or a name column; only a name means by_name."""
        account_id, name = self.id(id_key), self.raw(name_key).strip() or None
        if account_id:
            return AccountRef(platform_id=account_id, name=name, is_bot=is_bot)
        if name:
            return AccountRef(platform_id=name, name=name, is_bot=is_bot, by_name=True)
        return None


class RowReader:
    """Turns rows into records. One per import; `start_file` before each file's rows."""

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.display = ""
        self._groups: dict[str, str] = {}  # group id -> platform, for one Community each
        self._recent: dict[tuple[str, int, str, str], int] = {}
        self._warned_naive = False

    def start_file(self, display: str) -> None:
        """Begin a new file: errors name it, and duplicate counting starts again."""
        self.display = display
        self._recent.clear()  # ids count duplicates within one file
        self._warned_naive = False

    def records(self, row: Mapping[str, object], line: int) -> list[Record]:
        """The records of one row; a bad row goes to ctx.skip_or_raise and gives []."""
        try:
            return self._build(Fields(row), line)
        except InputError as err:
            self.ctx.skip_or_raise(err.located(file=self.display, line=line))
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            # A shape the checks above did not foresee; still a bad row, not a crash.
            log.debug("unexpected value in %s line %d", self.display, line, exc_info=True)
            self.ctx.skip_or_raise(
                InputError(f"malformed row ({type(exc).__name__})", file=self.display, line=line)
            )
        return []

    def _build(self, f: Fields, line: int) -> list[Record]:
        group_id = f.id("group_id")
        if not group_id:
            raise InputError("group_id is empty", field="group_id")
        platform = f.id("platform").lower() or "generic"
        known = self._groups.get(group_id)
        if known is not None and known != platform:
            raise InputError(
                f"group {group_id!r} has platform {known!r} on an earlier row", field="platform"
            )
        event = f.choice("event", EVENTS, "message")
        at = self._time(f, "time", line)
        if at is None:
            raise InputError("time is empty", field="time")
        record: Record
        if event == "message":
            record = self._message(f, group_id, at, line)
        elif event == "reaction":
            record = self._reaction(f, group_id, at)
        else:
            record = self._membership(f, group_id, at, event)
        if known is not None:
            return [record]
        self._groups[group_id] = platform
        name = f.raw("group_name").strip() or group_id
        return [Community(platform=platform, platform_id=group_id, name=name), record]

    def _time(self, f: Fields, key: str, line: int) -> datetime | None:
        value = f.row.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        at, naive = parse_time(value, field=key)
        if not naive:
            return at
        if not self.ctx.tz_explicit and not self._warned_naive:
            self._warned_naive = True
            self.ctx.warnings.append(
                f"{self.display}: times without a zone (first on line {line}) were read as "
                f"{self.ctx.tz} local time; pass --tz Area/City if that is wrong. / "
                f"时间不带时区，已按 {self.ctx.tz} 处理；如不对请加 --tz。"
            )
        try:
            return self.ctx.localize(at)
        except (OverflowError, ValueError):
            raise InputError(f"time out of range: {_shown(value)}", field=key) from None

    def _message(self, f: Fields, group_id: str, at: datetime, line: int) -> Message:
        sender = f.account("sender_id", "sender_name", is_bot=f.flag("is_bot"))
        text = f.text("text")
        kind = f.choice("kind", KINDS, "text" if sender is not None else "system")
        edited_at = self._time(f, "edited_time", line)
        message_id = f.id("message_id") or self._derived_id(group_id, at, sender, text)
        return Message(
            community_id=group_id,
            message_id=message_id,
            sent_at=at,
            sender=sender,
            text=text,
            kind=kind,  # type: ignore[arg-type]  # checked against KINDS
            reply_to=f.id("reply_to") or None,
            thread_id=f.id("thread_id") or None,
            mentions=f.names("mentions"),
            links=find_links(text),
            edited_at=edited_at,
            deleted=f.flag("deleted"),
        )

    def _derived_id(self, group_id: str, at: datetime, sender: AccountRef | None, text: str) -> str:
        """The common deterministic id: time, hash of sender and text, and a duplicate count."""
        sender_key = sender.platform_id if sender is not None else ""
        data = (sender_key + "\x00" + text).encode("utf-8", "surrogatepass")
        digest = blake2b(data, digest_size=6).hexdigest()
        ts = int(at.timestamp())
        key = (group_id, ts, sender_key, digest)
        k = self._recent.get(key, 0)
        self._recent[key] = k + 1
        if len(self._recent) > _DUP_WINDOW:
            del self._recent[next(iter(self._recent))]  # the oldest: dicts keep insertion order
        return f"{ts}-{digest}-{k}"

    def _reaction(self, f: Fields, group_id: str, at: datetime) -> Reaction:
        emoji = f.raw("emoji").strip()
        if not emoji:
            raise InputError("a reaction needs an emoji", field="emoji")
        target = f.id("target_message_id")
        if not target:
            raise InputError("a reaction needs target_message_id", field="target_message_id")
        reactor = f.account("sender_id", "sender_name", is_bot=f.flag("is_bot"))
        return Reaction(
            community_id=group_id, message_id=target, emoji=emoji, reactor=reactor, at=at
        )

    def _membership(self, f: Fields, group_id: str, at: datetime, event: str) -> MembershipEvent:
        member = f.account("sender_id", "sender_name", is_bot=f.flag("is_bot"))
        if member is None:
            raise InputError(
                f"a {event} row needs sender_id or sender_name (the member)", field="sender_id"
            )
        source = f.choice("join_source", JOIN_SOURCES, "unknown") if event == "join" else "unknown"
        return MembershipEvent(
            community_id=group_id,
            member=member,
            action=event,  # type: ignore[arg-type]  # checked against EVENTS
            at=at,
            actor=f.account("actor_id", "actor_name"),
            source=source,  # type: ignore[arg-type]  # checked against JOIN_SOURCES
            message_id=f.id("message_id") or None,
        )
