"""Splitting a Telegram Desktop result.json into chats and message objects, fast and streaming.

Telegram Desktop pretty-prints with one space per nesting level and escapes every newline inside
strings, so a message object of the `messages` array starts with a line `<k spaces>{` and ends
with a line `<k spaces>}` (k = 2 for a single-chat export, 5 inside a full-account export), and
every line inside it is indented deeper. `FastSplitter` walks the few skeleton lines around the
arrays one by one and cuts the arrays themselves into batches of whole messages at those end
lines, each batch parsed by one `orjson.loads` call. Anything not laid out like that (minified,
tabs, hand-edited skeleton) raises `LayoutError`, and `ijson_events` reads the file instead.

Both produce the same events: `("chat", header, section)` when a chat's `messages` array opens
(header = the name/type/id seen before it; section "" for a single-chat file, else "chats" or
"left_chats"), `("batch", [message objects], None)` and `("error", InputError, kind)`: kind
"record" for one broken message (reading goes on), None for a break that ends the file. Memory
is bounded by the batch size whatever the file size.

Telegram Desktop writes control characters as `\\xNN`, which is not JSON. `fix_escapes` turns
them into `\\u00NN`: FastSplitter only for a batch orjson refused (valid JSON holds none), and
`EscapeFixer` on the whole byte stream, chunk edges included, for the ijson reader.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Generator, Iterator
from typing import IO, Any

import ijson
import orjson
from ijson.common import ObjectBuilder

from shequn.errors import InputError
from shequn.platforms.base import ParseContext, Source, open_binary

log = logging.getLogger(__name__)

CHUNK = 1 << 20
BATCH = 1 << 16
MAX_PENDING = 64 << 20  # a message object larger than this means the layout is not understood
IJSON_BATCH = 2000
MAX_LINE = 1 << 20  # skeleton lines (name, type, id, keys) are short

Event = tuple[str, Any, Any]

_BACKSLASH = 0x5C
_ESCAPE = re.compile(rb"\\(\\|x([0-9A-Fa-f]{2}))")
_MEMBER = re.compile(rb'"((?:[^"\\]|\\.)*)"\s*:\s*(.*)')
_ID = re.compile(rb'"id"\s*:\s*(-?\d+)')
_CHAT_PATHS = {(), ("chats", "list", "item"), ("left_chats", "list", "item")}
_SECTIONS = ("chats", "left_chats")


class LayoutError(Exception):
    """The file is not pretty-printed the way Telegram Desktop does it."""


def _fix(match: re.Match[bytes]) -> bytes:
    hex_pair = match.group(2)
    return match.group(0) if hex_pair is None else b"\\u00" + hex_pair


def fix_escapes(data: bytes) -> bytes:
    """`\\xNN` -> `\\u00NN`; an escaped backslash followed by x (`\\\\x41`) stays as it is."""
    if b"\\x" not in data:
        return data
    return _ESCAPE.sub(_fix, data)


def _safe_cut(data: bytes) -> int:
    """How much of `data` can be fixed now without cutting an escape or a run of backslashes."""
    cut = len(data) - 3  # an escape is 4 bytes: one starting in the last 3 may be incomplete
    if cut <= 0:
        return 0
    k = data.rfind(b"\\", max(0, cut - 3), cut)
    if k != -1:
        cut = k
    while cut > 0 and data[cut - 1] == _BACKSLASH:
        cut -= 1  # the parity of a backslash run decides what it escapes: keep it whole
    return cut


class EscapeFixer:
    """A read()-able byte stream that applies `fix_escapes` across chunk boundaries."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._carry = b""

    def read(self, size: int = -1) -> bytes:
        if size == 0:
            return b""  # ijson calls read(0) to see whether the stream gives bytes or text
        while True:
            data = self._raw.read(size if size and size > 0 else CHUNK)
            if not data:
                out, self._carry = self._carry, b""
                return fix_escapes(out)
            data = self._carry + data
            cut = _safe_cut(data)
            self._carry = data[cut:]
            if cut:
                return fix_escapes(data[:cut])


def _first_line(exc: BaseException) -> str:
    msg = exc.args[0] if exc.args else ""
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    # parsers quote the surrounding JSON (message text) on the next lines: keep the first only
    lines = str(msg).splitlines()
    return lines[0] if lines else type(exc).__name__


class FastSplitter:
    """Reads a Telegram Desktop result.json in its own layout; see the module docstring."""

    def __init__(self, stream: IO[bytes], display: str) -> None:
        self._in = stream
        self._display = display
        self._buf = b""
        self._pos = 0
        self.line = 0  # newlines before self._pos, for error messages
        self.objects_done = 0  # message objects handed out, so a fallback can resume after them

    def events(self) -> Iterator[Event]:
        first = self._readline()
        while first is not None and not first.strip():
            first = self._readline()
        if first is None or first.strip().lstrip(b"\xef\xbb\xbf") != b"{":
            raise LayoutError("the first line is not a lone '{'")
        yield from self._object(())

    # --- reading -------------------------------------------------------------------------
    def _more(self) -> bool:
        data = self._in.read(CHUNK)
        if not data:
            return False
        self._buf = self._buf[self._pos :] + data
        self._pos = 0
        return True

    def _readline(self, *, consume: bool = True) -> bytes | None:
        while True:
            i = self._buf.find(b"\n", self._pos)
            if i >= 0:
                line = self._buf[self._pos : i]
                if consume:
                    self._pos = i + 1
                    self.line += 1
                return line
            if len(self._buf) - self._pos > MAX_LINE:
                raise LayoutError("a skeleton line longer than MAX_LINE (minified?)")
            if not self._more():
                if self._pos >= len(self._buf):
                    return None
                line = self._buf[self._pos :]
                if consume:
                    self._pos = len(self._buf)
                return line

    # --- the skeleton ----------------------------------------------------------------------
    def _object(self, path: tuple[str, ...]) -> Iterator[Event]:
        """The members of an object whose '{' line was just read, up to its closing line."""
        header: dict[str, Any] = {}
        chat = path in _CHAT_PATHS
        section = path[0] if path else ""
        while True:
            line = self._readline()
            if line is None:
                raise LayoutError("the file ends inside an object")
            content = line.strip()
            if content in (b"}", b"},"):
                return
            if not content:
                continue
            member = _MEMBER.fullmatch(content)
            indent = len(line) - len(line.lstrip(b" "))
            if member is None or line[indent : indent + 1].isspace():
                raise LayoutError(f"unexpected line {self.line}")  # or indented with tabs
            key = member.group(1).decode("utf-8", "replace")
            value = member.group(2).rstrip()
            value = value[:-1].rstrip() if value.endswith(b",") else value
            if chat and key == "messages":
                yield ("chat", dict(header), section)
                if value == b"[":
                    yield from self._messages()
                elif value != b"[]":
                    raise LayoutError("'messages' is not an array")
            elif value == b"{" and path == () and key in _SECTIONS:
                yield from self._object((key,))
            elif value == b"[" and len(path) == 1 and key == "list":
                yield from self._list((path[0], "list"))
            elif value in (b"{", b"["):
                self._skip(indent, b"}" if value == b"{" else b"]")
            elif chat and key in ("name", "type", "id"):
                header[key] = _loads(value)
                if header[key] is None and value != b"null":
                    raise LayoutError(f"chat {key} spans lines")

    def _list(self, path: tuple[str, ...]) -> Iterator[Event]:
        while True:
            line = self._readline()
            if line is None:
                raise LayoutError("the file ends inside a list")
            content = line.strip()
            if content in (b"]", b"],"):
                return
            if content == b"{":
                yield from self._object((*path, "item"))
            elif content:
                raise LayoutError(f"unexpected line {self.line} in a chat list")

    def _skip(self, indent: int, closer: bytes) -> None:
        """Skip a section we do not read (contacts, sessions, ...) up to its closing line."""
        marker = b"\n" + b" " * indent + closer
        while True:
            i = self._buf.find(marker, max(self._pos - 1, 0))
            if i >= 0:
                self.line += self._buf.count(b"\n", self._pos, i + 1)
                self._pos = i + 1
                self._readline()
                return
            keep = max(self._pos, len(self._buf) - len(marker))
            self.line += self._buf.count(b"\n", self._pos, keep)
            self._pos = keep
            if not self._more():
                raise LayoutError("a section is never closed")

    # --- the messages ----------------------------------------------------------------------
    def _messages(self) -> Iterator[Event]:
        """The objects of a `messages` array whose '[' line was just read, in batches."""
        first = self._readline(consume=False)
        if first is None:
            raise LayoutError("the file ends after 'messages'")
        content = first.strip()
        if content in (b"]", b"],"):
            self._readline()
            return
        if content != b"{":
            raise LayoutError("a message does not start on a line of its own")
        k = len(first) - len(first.lstrip(b" "))
        if k == 0 or first[k : k + 1] != b"{":
            raise LayoutError("messages are not indented with spaces")
        end = b"\n" + b" " * k + b"}"
        closers = [b"\n" + b" " * j + b"]" for j in range(k)]
        while True:
            buf = self._buf
            e = buf.rfind(end, self._pos)
            while e >= 0 and self._pos < e:
                # batches of about BATCH bytes: fewer objects alive at a time, less GC work
                cut = buf.rfind(end, self._pos, self._pos + BATCH) if e - self._pos > BATCH else e
                cut = e if cut < 0 else cut
                if (yield from self._batch(buf, self._pos, cut + len(end), end, closers)):
                    return
            # The array's closing line comes after its last message; a batch that ran past it
            # (more chats follow in an account export) failed to parse and found it above.
            close = _find_any(buf, closers, self._pos, len(buf))
            if close >= 0:
                yield from self._pieces(buf, self._pos, close, end)  # a hand-edited tail
                self._end_array(buf, close)
                return
            if e < 0 and len(buf) - self._pos > MAX_PENDING:
                raise LayoutError(f"no message end within {MAX_PENDING} bytes")
            if not self._more():
                err = InputError(
                    "the file ends inside the messages (cut short?)",
                    file=self._display,
                    line=self.line + 1,
                )
                yield ("error", err, None)
                return

    def _end_array(self, buf: bytes, close: int) -> None:
        self.line += buf.count(b"\n", self._pos, close + 1)
        self._pos = close + 1
        self._readline()

    def _batch(
        self, buf: bytes, start: int, stop: int, end: bytes, closers: list[bytes]
    ) -> Generator[Event, None, bool]:
        """Parse buf[start:stop], whole messages, in one go (True: the array ended in it)."""
        skip = 1 if buf[start : start + 1] == b"," else 0
        body = b"".join((b"[", memoryview(buf)[start + skip : stop], b"]"))
        objects = _loads(body)
        if objects is not None:
            self.objects_done += len(objects)
            yield ("batch", objects, None)
        else:
            close = _find_any(buf, closers, start, stop)
            if close >= 0:
                yield from self._pieces(buf, start, close, end)
                self._end_array(buf, close)
                return True
            yield from self._pieces(buf, start, stop, end)
        self.line += buf.count(b"\n", start, stop)
        self._pos = stop
        return False

    def _pieces(self, buf: bytes, start: int, stop: int, end: bytes) -> Iterator[Event]:
        """buf[start:stop] message by message, to name the broken one (slow path)."""
        p = start
        while p < stop:
            e = buf.find(end, p, stop)
            q = stop if e < 0 else e + len(end)
            piece = buf[p:q].strip()
            piece = piece[1:].strip() if piece.startswith(b",") else piece
            objects = _loads(b"[" + piece + b"]") if piece else []
            if objects is None:
                found = _ID.search(piece)
                err = InputError(
                    "broken JSON",
                    file=self._display,
                    line=self.line + buf.count(b"\n", start, buf.find(piece[:1], p, q)) + 1,
                    record=found.group(1).decode() if found else None,
                )
                self.objects_done += 1
                yield ("error", err, "record")
            elif objects:
                self.objects_done += len(objects)
                yield ("batch", objects, None)
            p = q


def _find_any(buf: bytes, needles: list[bytes], start: int, stop: int) -> int:
    found = [i for n in needles if (i := buf.find(n, start, stop)) >= 0]
    return min(found, default=-1)


def _loads(body: bytes) -> Any:
    """orjson.loads, None if not JSON; tdesktop's \\xNN escapes are fixed only when it fails,
    as valid JSON cannot hold one."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        if b"\\x" not in body:
            return None
    try:
        return orjson.loads(fix_escapes(body))
    except orjson.JSONDecodeError:
        return None


_HEADER_PREFIXES = {
    f"{base}{key}": key
    for base in ("", "chats.list.item.", "left_chats.list.item.")
    for key in ("name", "type", "id")
}
_ITEM_STARTS = {"chats.list.item", "left_chats.list.item"}
_ARRAYS = {"messages": "", "chats.list.item.messages": "chats"}
_ARRAYS["left_chats.list.item.messages"] = "left_chats"
_ITEMS = {f"{prefix}.item" for prefix in _ARRAYS}
_SCALARS = {"null", "boolean", "integer", "double", "number", "string"}


def _build(events: Iterator[tuple[str, str, Any]], event: str, value: Any) -> Any:
    builder = ObjectBuilder()
    builder.event(event, value)
    depth = 1
    for _prefix, ev, val in events:
        builder.event(ev, val)
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                break
    return builder.value


def _skip_value(events: Iterator[tuple[str, str, Any]]) -> None:
    depth = 1
    for _prefix, ev, _val in events:
        if ev in ("start_map", "start_array"):
            depth += 1
        elif ev in ("end_map", "end_array"):
            depth -= 1
            if depth == 0:
                return


def ijson_events(stream: EscapeFixer, display: str, *, skip: int = 0) -> Iterator[Event]:
    """The same events as FastSplitter, from any valid layout; `skip` message objects unsent."""
    events = ijson.parse(stream, use_float=True)
    header: dict[str, Any] = {}
    batch: list[Any] = []
    seen = 0
    try:
        for prefix, event, value in events:
            if prefix in _ITEMS:
                seen += 1
                if event in ("start_map", "start_array"):
                    if seen <= skip:
                        _skip_value(events)
                        continue
                    value = _build(events, event, value)
                if seen > skip:
                    batch.append(value)
                    if len(batch) >= IJSON_BATCH:
                        yield ("batch", batch, None)
                        batch = []
            elif prefix in _HEADER_PREFIXES and event in _SCALARS:
                header[_HEADER_PREFIXES[prefix]] = value
            elif event == "start_map" and prefix in _ITEM_STARTS:
                header = {}
            elif event == "start_array" and prefix in _ARRAYS:
                yield ("chat", dict(header), _ARRAYS[prefix])
            elif event == "end_array" and prefix in _ARRAYS and batch:
                yield ("batch", batch, None)
                batch = []
    except (ijson.JSONError, ValueError, OverflowError) as exc:
        if batch:
            yield ("batch", batch, None)
        err = InputError(f"broken JSON: {_first_line(exc)}", file=display, record=f"#{seen}")
        yield ("error", err, None)


class _Progress:
    """Forwards progress to the import's context, less the first `skip` bytes."""

    def __init__(self, ctx: ParseContext, skip: int = 0) -> None:
        self.ctx = ctx
        self.skip = skip
        self.total = 0

    def __call__(self, nbytes: int) -> None:
        self.total += nbytes
        skipped = min(self.skip, nbytes)
        self.skip -= skipped
        self.ctx.advance(nbytes - skipped)


def chat_events(source: Source, ctx: ParseContext, name: str | None) -> Iterator[Event]:
    """The events of one result.json: FastSplitter, or ijson where the layout is not tdesktop's.

    A layout surprise after some messages were handed out restarts with ijson, which skips the
    message objects already handed out. Progress is reported once per byte.
    """
    display = source.display(name)
    progress = _Progress(ctx)
    with open_binary(source, ParseContext(on_progress=progress), name) as raw:
        splitter = FastSplitter(raw, display)
        try:
            yield from splitter.events()
            return
        except LayoutError as exc:
            log.info("%s: not in tdesktop's layout (%s); reading it slowly", display, exc)
    again = _Progress(ctx, skip=progress.total)
    with open_binary(source, ParseContext(on_progress=again), name) as raw:
        yield from ijson_events(EscapeFixer(raw), display, skip=splitter.objects_done)
