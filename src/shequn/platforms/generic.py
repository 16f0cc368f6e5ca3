"""The generic chat format: CSV or JSON Lines that any other tool can be converted to.

The format is specified in docs/generic-format.md (通用格式); this module reads files, and
`generic_rows` turns each row into records. One record per JSONL line or CSV row; several
groups may share a file; a `Community` is yielded the first time a group_id appears.

Input: one .jsonl/.ndjson/.csv file, or a folder or zip of them (each member that looks like
this format is read, in name order). Both readers stream: JSONL line by line (lines are capped
at 16 MB), CSV row by row (the csv module's 128 KB field limit also stops an unterminated quote
from swallowing the rest of a big file).

Errors: a missing required CSV column, an empty file, or a first JSONL line that is not JSON
means the file is not in this format and raises at once. Anything wrong with one row goes
through `ctx.skip_or_raise`, naming file, line (the row's first line) and field.
"""

from __future__ import annotations

import _csv
import csv
import logging
from collections.abc import Iterator
from typing import IO, ClassVar, Final

import orjson

from shequn.errors import InputError
from shequn.model.records import Record
from shequn.platforms.base import (
    ParseContext,
    Parser,
    Source,
    open_binary,
    open_text,
    register,
)
from shequn.platforms.generic_rows import COLUMNS, KNOWN, REQUIRED, RowReader

log = logging.getLogger(__name__)

__all__ = ["COLUMNS", "REQUIRED", "GenericParser"]

_BOM: Final = b"\xef\xbb\xbf"
_JSONL_EXTS: Final = (".jsonl", ".ndjson")
_CSV_EXT: Final = ".csv"
_MAX_LINE: Final = 16 << 20
_SNIFF_MEMBERS: Final = 20


def _sniff_jsonl(head: bytes) -> int:
    for line in head.removeprefix(_BOM).splitlines():
        if line.strip():
            break
    else:
        return 0
    try:
        first = orjson.loads(line)
    except orjson.JSONDecodeError:
        # A first line longer than the head cannot be parsed; judge by its keys.
        keyed = b'"group_id"' in line and b'"time"' in line
        return 60 if line.lstrip().startswith(b"{") and keyed else 0
    return 90 if isinstance(first, dict) and "group_id" in first and "time" in first else 0


def _sniff_csv(head: bytes) -> int:
    lines = head.removeprefix(_BOM).decode("utf-8", "replace").splitlines()
    if not lines:
        return 0
    try:
        header = {c.strip().lower() for c in next(csv.reader([lines[0]]), [])}
    except csv.Error:
        return 0
    return 90 if {"group_id", "time", "text"} <= header else 0


def _sniff_member(source: Source, name: str | None) -> int:
    lower = (name or source.path.name).lower()
    if lower.endswith(_JSONL_EXTS):
        return _sniff_jsonl(source.head(4096, name))
    if lower.endswith(_CSV_EXT):
        return _sniff_csv(source.head(4096, name))
    return 0


def _is_csv(source: Source, name: str | None) -> bool:
    lower = (name or source.path.name).lower()
    if lower.endswith(_CSV_EXT):
        return True
    if lower.endswith(_JSONL_EXTS):
        return False
    # Any other name (given with --format generic): JSONL starts with '{', CSV with a header.
    return not source.head(4096, name).removeprefix(_BOM).lstrip().startswith(b"{")


@register
class GenericParser(Parser):
    """Reads the documented generic CSV / JSONL chat format (docs/generic-format.md)."""

    name: ClassVar[str] = "generic"
    title: ClassVar[str] = "Generic chat CSV / JSONL (docs/generic-format.md)"
    platform: ClassVar[str] = "generic"
    naive_times: ClassVar[bool] = False  # per value: only naive times take --tz (and warn)

    @classmethod
    def sniff(cls, source: Source) -> int:
        if source.is_file:
            return _sniff_member(source, None)
        names = [n for n in source.names() if n.lower().endswith((*_JSONL_EXTS, _CSV_EXT))]
        return max((_sniff_member(source, n) for n in names[:_SNIFF_MEMBERS]), default=0)

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        rows = RowReader(ctx)
        for name in self._files(source):
            rows.start_file(source.display(name))
            if _is_csv(source, name):
                yield from self._csv(source, name, ctx, rows)
            else:
                yield from self._jsonl(source, name, ctx, rows)

    @staticmethod
    def _files(source: Source) -> list[str | None]:
        if source.is_file:
            return [None]
        found: list[str | None] = [
            n for n in sorted(source.names()) if _sniff_member(source, n) > 0
        ]
        if not found:
            raise InputError(
                "no .jsonl, .ndjson or .csv file in the generic format (see "
                "docs/generic-format.md)",
                file=source.display(),
            )
        return found

    # -- JSON Lines --------------------------------------------------------------------------
    def _jsonl(
        self, source: Source, name: str | None, ctx: ParseContext, rows: RowReader
    ) -> Iterator[Record]:
        display = source.display(name)
        seen_json = False
        unknown: set[str] = set()
        with open_binary(source, ctx, name) as stream:
            for line_no, raw in _lines(stream):
                if raw is _TOO_LONG:
                    err = InputError("line longer than 16 MB", file=display, line=line_no)
                    ctx.skip_or_raise(err)
                    continue
                if line_no == 1:
                    raw = raw.removeprefix(_BOM)
                if not raw.strip():
                    continue
                try:
                    obj = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    err = InputError(f"not valid JSON: {exc}", file=display, line=line_no)
                    if not seen_json:
                        raise err from None  # the first line decides: this is not JSONL
                    ctx.skip_or_raise(err)
                    continue
                seen_json = True
                if not isinstance(obj, dict):
                    kind = type(obj).__name__
                    err = InputError(
                        f"expected a JSON object, got {kind}", file=display, line=line_no
                    )
                    ctx.skip_or_raise(err)
                    continue
                if len(unknown) < 20:
                    unknown.update(k[:40] for k in obj if k not in KNOWN)
                yield from rows.records(obj, line_no)
        _warn_unknown(ctx, display, unknown)

    # -- CSV ---------------------------------------------------------------------------------
    def _csv(
        self, source: Source, name: str | None, ctx: ParseContext, rows: RowReader
    ) -> Iterator[Record]:
        display = source.display(name)
        with open_text(source, ctx, name) as stream:
            reader = csv.reader(stream)
            columns = _header(reader, display)
            _warn_unknown(ctx, display, {c for c in columns if c not in KNOWN})
            while True:
                start = reader.line_num + 1
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    ctx.skip_or_raise(InputError(f"bad CSV: {exc}", file=display, line=start))
                    continue
                except UnicodeDecodeError:
                    # The decoder cannot resync; keep what was read (with --skip-bad), stop here.
                    err = InputError("not UTF-8 text", file=display, line=reader.line_num + 1)
                    ctx.skip_or_raise(err)
                    return
                if not cells:
                    continue  # a blank line
                if len(cells) != len(columns):
                    ctx.skip_or_raise(_width_error(cells, columns, display, start))
                    continue
                yield from rows.records(dict(zip(columns, cells, strict=True)), start)


_TOO_LONG: Final = b"\x00too long\x00"  # sentinel, compared by identity


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) for each line; a line over _MAX_LINE is skipped and gives _TOO_LONG."""
    line_no = 0
    while True:
        raw = stream.readline(_MAX_LINE)
        if not raw:
            return
        line_no += 1
        if len(raw) == _MAX_LINE and not raw.endswith(b"\n"):
            while (rest := stream.readline(_MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            yield line_no, _TOO_LONG
            continue
        yield line_no, raw


def _header(reader: _csv.Reader, display: str) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file: no header row", file=display, line=1) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InputError(f"not a UTF-8 CSV file: {exc}", file=display, line=1) from None
    columns = [c.strip().lower() for c in header]
    for i, column in enumerate(columns):
        if column in columns[:i]:
            raise InputError(
                "column appears twice in the header", file=display, line=1, field=column
            )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            f"header lacks required column(s) {', '.join(missing)} (see docs/generic-format.md)",
            file=display,
            line=1,
            field=missing[0],
        )
    return columns


def _width_error(cells: list[str], columns: list[str], display: str, line: int) -> InputError:
    short = len(cells) < len(columns)
    return InputError(
        f"row has {len(cells)} fields, the header has {len(columns)}",
        file=display,
        line=line,
        field=columns[len(cells)] if short else None,
    )


def _warn_unknown(ctx: ParseContext, display: str, unknown: set[str]) -> None:
    if unknown:
        names = ", ".join(sorted(unknown)[:20])
        ctx.warnings.append(
            f"{display}: ignored unknown column(s) {names} (see docs/generic-format.md) / "
            f"已忽略未知列 {names}"
        )
