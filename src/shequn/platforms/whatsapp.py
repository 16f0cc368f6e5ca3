"""WhatsApp "Export chat" reader: the .txt file, or the .zip with `_chat.txt` and media.

The export has no ids, no zone and no marker of its date order, so the reader works in two
passes. It reads the head to learn the header layout (separators, brackets, seconds, 12 or 24
hours) and builds one regex for it; a cheap streaming pass then looks for a header whose first
or second date field is above 12, which fixes the day/month order for the whole file. The second
pass splits the text at each header (the text up to the next header is one message, continuation
lines included) and yields the records.

Rules (docs/whatsapp-system-messages.md has the system lines):
- community id: "wa:" + the chat name, from the file name ("WhatsApp Chat with NAME.txt",
  "WhatsApp Chat - NAME.zip"), else from the head of the file (the group name iOS shows as the
  author of the encryption notice, else the latest subject change, else "created group"), else
  the file's own name with a warning. WhatsApp exports carry no group id.
- sender: the name as shown, invisible marks and the "~ " of non-contacts removed, NFKC applied
  to the name only. The exporting user in system lines is the account "You".
- "NAME: text" is a message unless NAME is not a known participant and holds a system phrase
  (`X changed the subject to "a: b"`), or the text (after iOS's U+200E) is a system notice.
- WhatsApp gives no edit time: an edited message gets `edited_at = sent_at`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import blake2b
from pathlib import PurePosixPath
from typing import IO, Any

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    Community,
    MembershipEvent,
    Message,
    MessageKind,
    Record,
)
from shequn.platforms import whatsapp_locales as loc
from shequn.platforms.base import ParseContext, Parser, Source, open_binary, register
from shequn.platforms.util import find_links
from shequn.platforms.whatsapp_locales import clean_name

log = logging.getLogger(__name__)

HEAD_BYTES = 256 * 1024  # read for the layout and the chat name ("seen early")
SNIFF_BYTES = 16 * 1024
CHUNK_BYTES = 1 << 21
NL = b"\n"
HEADER_WITHIN_LINES = 20  # the first header must come this early, or it is not WhatsApp's
_MARKERS = frozenset(m.encode() for m in (*loc.MEDIA_MARKERS, *loc.DELETED_MARKERS))
_SPECIAL_ENDS = frozenset({b")", b">", b":"})  # file attached, <attached: …>, edited, POLL:
_EMPTY_MESSAGE = re.compile(r"([^:\n]+):(\.?)$")  # "John Doe:." (view once), "Name:" (empty)
YOU = AccountRef(platform_id="You", name="You")
Sent = tuple[datetime, int]  # (sent_at UTC, epoch seconds)
Found = tuple[tuple[AccountRef, Any], str, MessageKind, bool, datetime | None]


def _name_from_file(stem: str) -> str | None:
    for pattern in loc.FILE_NAMES:
        m = pattern.match(stem)
        if m is not None:
            return m["name"].strip()
    return None


def _chat_member(source: Source) -> str | None:
    """The chat .txt inside a zip or folder; None for a plain file."""
    if source.is_file:
        return None
    found = source.find("_chat.txt")
    if found is not None:
        return found
    txts = [
        n for n in source.names() if n.lower().endswith(".txt") and not n.startswith("__MACOSX/")
    ]
    named = [n for n in txts if _name_from_file(PurePosixPath(n).stem)]
    if len(named) == 1 or len(txts) == 1:
        return (named or txts)[0]
    raise InputError(
        f"expected one WhatsApp chat .txt (such as _chat.txt) in it, found {len(txts)}",
        file=source.display(),
    )


def _chunks(raw: IO[bytes]) -> Iterator[bytes]:
    """UTF-8 chunks with CRLF and CR turned into LF (only line ends change), BOM removed.

    The reader works on bytes: the splitting regex runs faster on them than on text that an
    emoji has made 4 bytes a character, and the message id hashes the UTF-8 bytes anyway.
    """
    held = b""  # a CR at the end of a chunk waits for the next: it may be half of a CRLF
    first = True
    with raw:
        while True:
            data = raw.read(CHUNK_BYTES)
            chunk = held + data
            if first:
                chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
            held = b""
            if data and chunk.endswith(b"\r"):
                chunk, held = chunk[:-1], b"\r"
            if b"\r" in chunk:
                chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if chunk:
                yield chunk
            elif not data:
                return


@dataclass
class Head:
    """What the head of the file tells: the layout, chat-name hints, the first date fields."""

    layout: loc.Layout
    names: list[str]
    fields: list[tuple[int, int]]


def _read_head(source: Source, member: str | None, nbytes: int = HEAD_BYTES) -> list[str]:
    data = source.head(nbytes, member)
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if len(data) == nbytes and len(lines) > 1 else lines


def _layout(lines: list[str]) -> loc.Layout | None:
    for i, line in enumerate(lines[:HEADER_WITHIN_LINES]):
        m = loc.GENERIC_HEADER.match(line)
        if m is not None and bool(m["open"]) == (m["end"] == "] "):
            return loc.Layout.of(m)
        if line.strip() and i >= 3:
            break
    return None


def _detect(lines: list[str], display: str) -> Head:
    """Learn the layout from the first header; collect chat-name hints from the head."""
    layout = _layout(lines)
    if layout is None:
        raise InputError(
            "not a WhatsApp chat export: no header such as "
            "'31/12/23, 21:05 - Name: text' in the first lines",
            file=display,
            line=1,
            field="header",
        )
    rx = layout.header()
    authors: list[str] = []
    subjects: list[str] = []
    fields: list[tuple[int, int]] = []
    for line in lines:
        m = rx.match("\n" + line)
        if m is None:
            continue
        fields.append((int(m[1]), int(m[2])))
        rest = line[m.end() - 1 :]
        name, sep, text = rest.partition(": ")
        bare = text.lstrip("\u200e")
        if sep and loc.E2E_NOTICE.match(bare):
            authors.append(clean_name(name))
            continue
        if sep and bare == text and not loc.SYSTEM_NAME_HINTS.search(name):
            continue  # a message, not a system line
        ios = sep and bare != text  # iOS: "GROUP: \u200enotice"
        hit = loc.match_system_line(bare if ios else rest.lstrip("\u200e"))
        if hit is not None and ios:
            authors.append(clean_name(name))
        if hit is not None and "subject" in hit[1].groupdict():
            subjects.append(hit[1]["subject"])
    names = [n.strip() for n in authors + subjects[::-1] if n.strip()]
    return Head(layout=layout, names=names, fields=fields)


def _chat_name(source: Source, member: str | None, head: Head, ctx: ParseContext) -> str:
    stems = [PurePosixPath(member).stem] if member else []
    for stem in [*stems, source.path.stem]:
        name = _name_from_file(stem)
        if name:
            return name
    if head.names:
        return head.names[0]
    ctx.warnings.append(
        f"{source.display(member)}: no chat name in the file name or the file; "
        f"using {source.path.stem!r} (name the file 'WhatsApp Chat with "
        "NAME.txt' to set it)"
    )
    return source.path.stem


def _day_first(source: Source, member: str | None, head: Head, ctx: ParseContext) -> bool:
    """Day/month order of the whole file: a field above 12 is the day."""
    if head.layout.ymd:
        return False
    for a, b in head.fields:
        if a > 12 or b > 12:
            return a > 12
    big = rb"(?:1[3-9]|[2-9][0-9])"
    first_big = re.compile(b"".join(head.layout.bytes_parts(d1=big))).search
    second_big = re.compile(b"".join(head.layout.bytes_parts(d2=big))).search
    carry = b"\n"
    for chunk in _chunks(source.open(member)):
        buf = carry + chunk
        end = buf.rfind(b"\n")
        day1, day2 = first_big(buf, 0, end), second_big(buf, 0, end)
        if day1 is not None or day2 is not None:
            return day2 is None or (day1 is not None and day1.start() <= day2.start())
        carry = buf[end:]
    day1, day2 = first_big(carry), second_big(carry)
    if day1 is not None or day2 is not None:
        return day1 is not None
    ctx.warnings.append(
        f"{source.display(member)}: no date tells day from month (all fields "
        "are 12 or less); reading dates as day first (DD/MM)"
    )
    return True


class _ChatReader:
    """The second pass: split the bytes at each header and turn each piece into records."""

    def __init__(
        self, *, cid: str, layout: loc.Layout, day_first: bool, ctx: ParseContext, display: str
    ) -> None:
        self.cid = cid
        self.layout = layout
        self.day_first = day_first
        self.ctx = ctx
        self.display = display
        self.split = layout.splitter().split
        self.date_rx = re.compile(layout.date_part())
        self.time_rx = re.compile(layout.time_part())
        # Caches: a date part -> (UTC of local midnight, its epoch, naive midnight when the
        # day has a zone change), a time part -> seconds since midnight, and for days with a
        # zone change, naive minute -> Sent. Converting through ZoneInfo is the slow part.
        self.days: dict[bytes, tuple[datetime, int, datetime | None]] = {}
        self.times: dict[bytes, tuple[timedelta, int]] = {}
        self.minutes: dict[datetime, Sent] = {}
        # name as written -> (account, blake2b seeded with its id + NUL) for the message id
        self.senders: dict[bytes, tuple[AccountRef, Any]] = {}
        self.participants: set[str] = set()  # clean names seen as senders or in system lines
        self.dups: dict[str, int] = {}  # "epoch-hash" -> how many so far, when more than one
        self.block = b""  # the bytes being split, and their parts: for error line numbers
        self.parts: list[bytes] = []
        self.line0 = 1  # the line of the first header in self.block

    def read(self, chunks: Iterator[bytes]) -> Iterator[Record]:
        """The records of the whole file, in file order."""
        split, days, times, senders = self.split, self.days, self.times, self.senders
        cid, markers, slow, dups = self.cid, _MARKERS, self._slow, self.dups
        seen: set[str] = set()  # id hashes in the current second, for the id's k
        pending, started, eof, cur_ts, prefix = b"\n", False, False, -1, ""
        last_d = last_t = last_name = b""
        last_day: tuple[datetime, int, datetime | None] | None = None
        last_sender: tuple[AccountRef, Any] | None = None
        while not eof:
            chunk = next(chunks, None)
            if chunk is None:
                eof, block, tail = True, pending, b""
            else:
                pending += chunk
                end = pending.rfind(b"\n")
                block, tail = pending[:end], pending[end:]
            parts = split(block)
            n = len(parts)
            if n == 1 and not eof:
                continue  # no header yet: one long message, read on
            if not started and n > 1:
                started = True
                self._before_first(parts[0])
            if eof:
                parts[-1] = parts[-1].removesuffix(b"\n")
            stop = n if eof else n - 3
            self.block, self.parts = block, parts
            for j in range(1, stop, 3):
                # Neighbours mostly share the date, often the minute and the sender: comparing
                # with the previous one is cheaper than hashing the fresh strings.
                dpart, tpart = parts[j], parts[j + 1]
                if tpart != last_t or dpart != last_d:
                    day = last_day if dpart == last_d else days.get(dpart)
                    tod = times.get(tpart)
                    if day is None or tod is None or day[2] is not None:
                        sent = self._sent(j)
                        if sent is None:
                            continue
                        at, ts = sent
                        day = days.get(dpart)
                    else:
                        at, ts = day[0] + tod[0], day[1] + tod[1]
                    last_d, last_t, last_day = dpart, tpart, day
                # No known name holds a newline, so a ": " past the first line (or none at
                # all, which leaves data b"") never passes as a plain message here.
                name, _, data = parts[j + 2].partition(b": ")
                if name != last_name:
                    sender = senders.get(name)
                    if sender is not None:
                        last_name, last_sender = name, sender
                else:
                    sender = last_sender
                try:
                    text = data.decode()
                except UnicodeDecodeError as exc:
                    self._bad_utf8(j, exc)
                    continue
                kind: MessageKind = "text"
                deleted, edited = False, None
                # Tested on the text, not the bytes: `in` on bytes first tries its argument as
                # an int (a hidden exception), and bytes.find/endswith parse arguments slowly.
                if (
                    sender is None
                    or "\n" in text
                    or "\u200e" in text  # iOS puts it before its markers and notices
                    or data[-1:] in _SPECIAL_ENDS
                    or data in markers
                ):
                    found = slow(j, at)
                    if isinstance(found, list):
                        yield from found
                        continue
                    if found is None:
                        continue
                    sender, text, kind, deleted, edited = found
                    data = text.encode()
                if ts != cur_ts:
                    # Identical messages share a second and an export's times only go forward,
                    # so the counts for the id's k are kept for one second (memory stays flat).
                    cur_ts, prefix = ts, f"{ts}-"
                    seen.clear()
                    if dups:
                        dups.clear()
                digest = sender[1].copy()  # seeded with the sender's id and NUL
                digest.update(data)
                hx = digest.hexdigest()
                if hx in seen:
                    mid = self._dup(prefix + hx)
                else:
                    seen.add(hx)
                    mid = f"{prefix}{hx}-0"
                links = find_links(text) if "://" in text else []
                yield Message(cid, mid, at, sender[0], text, kind, None, None, [], links,
                              edited, deleted, False)  # fmt: skip
            if eof and not started:
                raise InputError(
                    "no message header of the layout found in the first lines",
                    file=self.display, line=1, field="header",
                )  # fmt: skip
            if not eof:
                carry = parts[n - 3] + parts[n - 2] + parts[n - 1]
                self.line0 += block.count(b"\n", 1, len(block) - len(carry) + 1)
                pending = carry + tail

    def _line(self, j: int) -> int:
        """The file line of the header at parts[j], counted only when an error needs it."""
        pos = sum(map(len, self.parts[:j]))
        return self.line0 + self.block.count(b"\n", 1, pos + 1)

    def _bad_utf8(self, j: int, exc: UnicodeDecodeError) -> None:
        err = InputError(f"not UTF-8 text ({exc.reason})", field="encoding")
        self.ctx.skip_or_raise(err.located(file=self.display, line=self._line(j)))

    def _before_first(self, junk: bytes) -> None:
        if junk.strip():
            self.ctx.warnings.append(
                f"{self.display}: ignored {junk.count(NL)} line(s) before the first header"
            )

    def _dup(self, base: str) -> str:
        k = self.dups.get(base, 1)
        self.dups[base] = k + 1
        return f"{base}-{k}"

    def _sent(self, j: int) -> Sent | None:
        """Time of the header at parts[j]; None (after skip_or_raise) when it is bad."""
        dpart, tpart = self.parts[j], self.parts[j + 1]
        try:
            day = self.days.get(dpart) or self._day(dpart)
            tod = self.times.get(tpart) or self._time(tpart)
        except InputError as err:
            self.ctx.skip_or_raise(err.located(file=self.display, line=self._line(j)))
            return None
        if day[2] is None:
            return day[0] + tod[0], day[1] + tod[1]
        naive = day[2] + tod[0]
        minute = naive.replace(second=0)
        hit = self.minutes.get(minute)
        if hit is None:
            utc = self.ctx.localize(minute)
            hit = self.minutes[minute] = (utc, int(utc.timestamp()))
        return hit[0] + timedelta(seconds=naive.second), hit[1] + naive.second

    def _day(self, dpart: bytes) -> tuple[datetime, int, datetime | None]:
        m = self.date_rx.match(dpart.decode())  # the splitter matched ASCII digits here
        if m is None:  # cannot happen: the splitter matched the same text
            raise InputError(f"unreadable date {dpart.strip()!r}", field="date")
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        y, mo, d = (a, b, c) if self.layout.ymd else (c, b, a) if self.day_first else (c, a, b)
        y += 2000 if y < 100 else 0
        try:
            midnight = datetime(y, mo, d)  # noqa: DTZ001  (device-local; localised below)
            start = self.ctx.localize(midnight)
            last = self.ctx.localize(midnight + timedelta(seconds=86399))
        except (ValueError, OverflowError) as exc:
            order = "Y/M/D" if self.layout.ymd else "D/M/Y" if self.day_first else "M/D/Y"
            raise InputError(
                f"no such date {m.group().strip()!r} (read as {order}): {exc}", field="date"
            ) from exc
        uniform = (last - start).total_seconds() == 86399
        if len(self.days) > 100_000:
            self.days.clear()
        day = self.days[dpart] = (start, int(start.timestamp()), None if uniform else midnight)
        return day

    def _time(self, tpart: bytes) -> tuple[timedelta, int]:
        m = self.time_rx.match(tpart.decode())
        if m is None:  # cannot happen: the splitter matched the same text
            raise InputError(f"unreadable time {tpart.strip()!r}", field="time")
        g = list(m.groups())
        marker = g.pop(0) if self.layout.ap0 else g.pop() if self.layout.ap else None
        h, mi, s = int(g[0]), int(g[1]), int(g[2]) if self.layout.seconds else 0
        if marker is not None:
            h = (h % 12) + (12 if marker in loc.PM_WORDS else 0) if h <= 12 else h
        if h > 23 or mi > 59 or s > 59:
            raise InputError(f"no such time {m.group().strip()!r}", field="time")
        secs = h * 3600 + mi * 60 + s
        tod = self.times[tpart] = (timedelta(seconds=secs), secs)
        return tod

    def _slow(self, j: int, at: datetime) -> Found | list[Record] | None:
        """All but a plain message from a known sender: markers, system lines, new names."""
        raw_body = self.parts[j + 2]
        try:
            body = raw_body.decode()
        except UnicodeDecodeError as exc:
            self._bad_utf8(j, exc)
            return None
        i = body.find(": ")
        nl = body.find("\n")
        if i < 0 or 0 <= nl < i:
            first = body if nl < 0 else body[:nl]
            empty = _EMPTY_MESSAGE.match(first)
            if empty is None or loc.match_system_line(first) is not None:
                return self._system(first.lstrip("\u200e"), at)
            raw, text = empty[1], empty[2] + body[len(first) :]
        else:
            raw, text = body[:i], body[i + 2 :]
        key = raw.encode()
        sender = self.senders.get(key)
        if text[:1] == "\u200e":
            text, kind, deleted, edited = loc.read_markers(text)
            bare = text.lstrip("\u200e")
            if (
                kind == "text"
                and not (deleted or edited)
                and (loc.E2E_NOTICE.match(bare) or loc.match_system_line(bare) is not None)
            ):
                return self._system(bare, at)  # iOS: the group itself "says" its notices
        else:
            if sender is None and (
                loc.E2E_NOTICE.match(text)
                or (loc.SYSTEM_NAME_HINTS.search(raw) and clean_name(raw) not in self.participants)
            ):
                return self._system(body if nl < 0 else body[:nl], at)
            text, kind, deleted, edited = loc.read_markers(text)
        if sender is None:
            name = clean_name(raw)
            self.participants.add(name)
            seed = blake2b((name + "\x00").encode(), digest_size=6)
            sender = self.senders[key] = (AccountRef(platform_id=name, name=name), seed)
        return sender, text, kind, deleted, at if edited else None

    def _system(self, line: str, at: datetime) -> list[Record] | None:
        """Membership events of a system line; None for the notices that are not one."""
        found = loc.read_system_line(line, self.participants)
        if found is None:
            log.debug("system line that is no membership event: %r", line)
            return None
        action, source, actor, members = found
        self.participants.update(n for n in (actor, *members) if n and n != "You")
        return [
            MembershipEvent(
                community_id=self.cid,
                member=_account(name),
                action=action,
                at=at,
                actor=_account(actor) if actor else None,
                source=source,
            )
            for name in members
        ]


def _account(name: str) -> AccountRef:
    return YOU if name == "You" else AccountRef(platform_id=name, name=name)


@register
class WhatsAppParser(Parser):
    """WhatsApp "Export chat" .txt, or its .zip."""

    name = "whatsapp"
    title = "WhatsApp chat export (.txt or .zip)"
    platform = "whatsapp"
    naive_times = True

    @classmethod
    def sniff(cls, source: Source) -> int:
        """95 for a WhatsApp-named file with WhatsApp headers, 85 or 70 for the headers alone."""
        if source.is_file and source.path.suffix.lower() not in (".txt", ""):
            return 0
        try:
            member = _chat_member(source)
        except InputError:
            return 0
        if member is None and not source.is_file:
            return 0
        lines = _read_head(source, member, SNIFF_BYTES)
        layout = _layout(lines)
        if layout is None:
            return 0
        rx = layout.header()
        found = [line[m.end() - 1 :] for line in lines[:100] if (m := rx.match("\n" + line))]
        with_name = sum(": " in rest for rest in found)
        # " - " and "] " headers are WhatsApp's own; a bare "date time " header is also how
        # other tools start a record, so then most lines must read "Name: text".
        strong = layout.end.strip() in ("-", "–", "]")
        if not strong and with_name * 2 < len(found):
            return 0
        stems = [source.path.stem] + ([PurePosixPath(member).stem] if member else [])
        if any(_name_from_file(s) or s == "_chat" for s in stems):
            return 95
        return 85 if strong else 70

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        """The Community, then messages and membership events in file order."""
        member = _chat_member(source)
        display = source.display(member)
        head = _detect(_read_head(source, member), display)
        name = _chat_name(source, member, head, ctx)
        day_first = _day_first(source, member, head, ctx)
        cid = "wa:" + name
        yield Community(
            platform="whatsapp",
            platform_id=cid,
            name=name,
            chat_type="group",
            timezone=getattr(ctx.tz, "key", None) if ctx.tz_explicit else None,
        )
        reader = _ChatReader(
            cid=cid, layout=head.layout, day_first=day_first, ctx=ctx, display=display
        )
        yield from reader.read(_chunks(open_binary(source, ctx, member)))
