"""What the WeChat readers share: deterministic ids, names, quote lookup, XML and CSV helpers."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from hashlib import blake2b
from pathlib import PurePosixPath
from typing import IO, Any

from shequn.errors import InputError
from shequn.model.records import AccountRef
from shequn.platforms.base import ParseContext, Source, open_binary


def parse_xml(text: str) -> ET.Element | None:
    """The root of an XML snippet from an export, or None (no DTDs, no entity expansion)."""
    if "<!DOCTYPE" in text or "<!ENTITY" in text:  # never expand entities from an export
        return None
    try:
        return ET.fromstring(text.strip())
    except (ET.ParseError, ValueError):
        return None


def appmsg_fields(text: str) -> dict[str, str]:
    """title, url, type and refermsg/{chatusr,displayname,content,svrid} of an `<appmsg>` XML."""
    if "<appmsg" not in text:
        return {}
    root = parse_xml(text)
    if root is None:
        return {}
    app = root if root.tag == "appmsg" else root.find("appmsg")
    if app is None:
        return {}
    out = {k: app.findtext(k) or "" for k in ("title", "url", "type", "des")}
    ref = app.find("refermsg")
    if ref is not None:
        for k in ("chatusr", "displayname", "content", "svrid", "type"):
            out[f"refer_{k}"] = ref.findtext(k) or ""
    return out


# -- ids, names, quotes -------------------------------------------------------------------
class MessageIds:
    """Deterministic ids for formats without message ids (see the common parser rule).

    `{epoch}-{blake2b(sender_key NUL text)[6 bytes]}-{k}`, k counting earlier messages with the
    same second, sender and text. Counters live in two generations of at most `limit` keys
    each (the older one dropped when the newer fills), enough because exports are in time order.
    """

    def __init__(self, limit: int = 100_000) -> None:
        self._new: dict[tuple[int, str], int] = {}
        self._old: dict[tuple[int, str], int] = {}
        self._limit = limit

    def make(self, sent_at: datetime, sender_key: str, text: str) -> str:
        ts = int(sent_at.timestamp())
        payload = (sender_key + "\x00" + text).encode("utf-8", "surrogatepass")
        digest = blake2b(payload, digest_size=6).hexdigest()
        key = (ts, digest)
        k = self._new.get(key)
        if k is None:
            k = self._old.get(key, 0)
            if len(self._new) >= self._limit:
                self._old, self._new = self._new, {}
        self._new[key] = k + 1
        return f"{ts}-{digest}-{k}"


class NameBook:
    """Display names seen on senders in this file -> their account, for name-only references."""

    def __init__(self, limit: int = 200_000) -> None:
        self._by_name: dict[str, AccountRef | None] = {}  # None: two accounts share the name
        self._limit = limit

    def saw(self, ref: AccountRef, *names: str | None) -> None:
        for name in names:
            if not name or ref.by_name:
                continue
            if name in self._by_name:
                known = self._by_name[name]
                if known is not None and known.platform_id != ref.platform_id:
                    self._by_name[name] = None
            elif len(self._by_name) < self._limit:
                self._by_name[name] = ref

    def ref(self, name: str) -> AccountRef:
        """The account uniquely known by `name`, else a name-only reference for the store."""
        found = self._by_name.get(name)
        return found if found is not None else AccountRef(name, name=name, by_name=True)


class RecentMessages:
    """The last `limit` distinct texts per chat with who sent them, to link WeChat quotes."""

    _PER_TEXT = 8  # "好的" is said often: keep its latest few senders

    def __init__(self, limit: int = 5_000) -> None:
        self._chats: dict[str, OrderedDict[str, list[tuple[tuple[str, ...], str]]]] = {}
        self._limit = limit

    def remember(self, chat: str, keys: tuple[str, ...], text: str, message_id: str) -> None:
        """Remember that `text` was sent as `message_id` by someone known by any of `keys`."""
        recent = self._chats.get(chat)
        if recent is None:
            recent = self._chats[chat] = OrderedDict()
        senders = recent.get(text)
        if senders is None:
            senders = recent[text] = []
            if len(recent) > self._limit:
                recent.popitem(last=False)
        else:
            recent.move_to_end(text)
            if len(senders) >= self._PER_TEXT:
                del senders[0]
        senders.append((keys, message_id))

    def find(self, chat: str, key: str, text: str) -> str | None:
        """The latest message in `chat` with `text` from someone known by `key`."""
        recent = self._chats.get(chat)
        senders = recent.get(text) if recent is not None else None
        for keys, message_id in reversed(senders or []):
            if key in keys:
                return message_id
        return None


def quoted_text(content: str) -> str:
    """The text a quote shows of its original: a quoted quote/link carries its appmsg XML."""
    if content.lstrip().startswith("<"):
        return appmsg_fields(content).get("title", content)
    return content


_MENTION = re.compile(r"@([^\s@\u2005]{1,64})\u2005")


def mention_names(text: str) -> list[str]:
    """Names WeChat @-mentions in a text (`@name` followed by U+2005 as the client inserts)."""
    return _MENTION.findall(text) if "@" in text else []


# -- CSV files --------------------------------------------------------------------------------
_FIELD_LIMIT = 1 << 26  # a message can be long; the csv default (128 KiB) is not a format limit


def header_matches(head: bytes, columns: list[str]) -> bool:
    """Whether the first line of `head` starts with `columns` (a UTF-8 BOM is allowed)."""
    text = head.decode("utf-8", "ignore").lstrip("\ufeff")
    first = text.split("\n", 1)[0].strip()
    return [c.strip().strip('"') for c in first.split(",")][: len(columns)] == columns


def sniff_csv(source: Source, columns: list[str], score: int) -> int:
    """`score` for a .csv file (or a folder/zip holding one) whose header starts with `columns`."""
    if source.is_file:
        ok = source.path.suffix.lower() == ".csv" and header_matches(source.head(), columns)
        return score if ok else 0
    csvs = [n for n in source.names() if n.lower().endswith(".csv")][:50]
    return score - 5 if any(header_matches(source.head(4096, n), columns) for n in csvs) else 0


def csv_members(source: Source, columns: list[str], what: str) -> list[str]:
    """The CSV members of a folder or zip whose header starts with `columns`, in name order."""
    found = [
        n
        for n in sorted(source.names())
        if n.lower().endswith(".csv") and header_matches(source.head(4096, n), columns)
    ]
    if not found:
        raise InputError(f"no {what} CSV file found", file=source.display())
    return found


def file_stem(name: str, suffix: str = "") -> str:
    """`聊天记录/张三_utf8.csv` -> `张三` (with suffix `_utf8`)."""
    stem = PurePosixPath(name).name
    if stem.lower().endswith(".csv"):
        stem = stem[:-4]
    return stem.removesuffix(suffix) or stem


def open_csv(source: Source, ctx: ParseContext, member: str | None) -> IO[str]:
    """A CSV as UTF-8 text (BOM or not), counting progress.

    Bytes that are not UTF-8 decode to lone surrogates (surrogateescape) so that `read_csv`
    reports the row that holds them, instead of the decoder failing a whole chunk away.
    """
    return io.TextIOWrapper(
        open_binary(source, ctx, member),
        encoding="utf-8-sig",
        errors="surrogateescape",
        newline="",
    )


def not_utf8(*texts: str) -> bool:
    """Whether any text holds bytes that were not UTF-8 (surrogates from `open_csv`)."""
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def read_csv(
    stream: IO[str], display: str, ctx: ParseContext
) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and an iterator of (first line number, row); blank lines are skipped.

    A row the csv module cannot read, or with bytes that are not UTF-8, goes through
    `ctx.skip_or_raise`.
    """
    csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"not a readable CSV header: {exc}", file=display, line=1) from None
    if header is None:
        raise InputError("empty file: no CSV header", file=display, line=1)
    if not_utf8(*header):
        raise InputError("not UTF-8 text", file=display, line=1)
    return [h.strip() for h in header], _rows(reader, display, ctx)


def _rows(reader: Any, display: str, ctx: ParseContext) -> Iterator[tuple[int, list[str]]]:
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            ctx.skip_or_raise(InputError(f"broken CSV row: {exc}", file=display, line=start))
            if reader.line_num < start:  # nothing consumed: it would fail again
                return
            continue
        if not_utf8(*row):
            ctx.skip_or_raise(InputError("not UTF-8 text", file=display, line=start))
        elif row:
            yield start, row
