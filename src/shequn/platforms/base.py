"""The reader contract: a small `Parser` base class, one subclass per export format.

A parser is registered with `@register`; `shequn import --format auto` asks every registered
parser to `sniff` the input and takes the most confident one. Parsers never touch the store:
they yield the shared records of `shequn.model.records` and the store writes them.
"""

from __future__ import annotations

import io
import logging
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path, PurePosixPath
from typing import IO, ClassVar
from zoneinfo import ZoneInfo

from shequn.errors import InputError
from shequn.model.records import Record

log = logging.getLogger(__name__)


class Source:
    """An input: a file, a folder or a zip archive. Members are addressed by relative path."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise InputError("no such file or folder", file=str(self.path))
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_file() and zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)

    @property
    def is_dir(self) -> bool:
        return self.path.is_dir()

    @property
    def is_zip(self) -> bool:
        return self._zip is not None

    @property
    def is_file(self) -> bool:
        return self.path.is_file() and self._zip is None

    def names(self) -> list[str]:
        """Relative paths (posix) of the files inside a folder or zip; [] for a plain file."""
        if self._zip is not None:
            return [n for n in self._zip.namelist() if not n.endswith("/")]
        if self.is_dir:
            return sorted(
                p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
            )
        return []

    def size(self, name: str | None = None) -> int:
        if name is None:
            if self.is_file:
                return self.path.stat().st_size
            return sum(self.size(n) for n in self.names())
        if self._zip is not None:
            return self._zip.getinfo(name).file_size
        return (self.path / name).stat().st_size

    def open(self, name: str | None = None) -> IO[bytes]:
        """Open the file itself (name None) or a member, as bytes."""
        if name is None:
            if not self.is_file:
                raise InputError("expected a single file", file=str(self.path))
            return self.path.open("rb")
        if self._zip is not None:
            return self._zip.open(name)
        return (self.path / name).open("rb")

    def head(self, nbytes: int = 4096, name: str | None = None) -> bytes:
        with self.open(name) as f:
            return f.read(nbytes)

    def display(self, name: str | None = None) -> str:
        """How errors name this file: the path, with the member after '!' inside a zip."""
        if name is None:
            return str(self.path)
        if self._zip is not None:
            return f"{self.path}!{name}"
        return str(self.path / name)

    def find(self, basename: str) -> str | None:
        """The shallowest member whose last path part is `basename`."""
        hits = [n for n in self.names() if PurePosixPath(n).name == basename]
        return min(hits, key=lambda n: n.count("/")) if hits else None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


@dataclass
class ParseContext:
    """What a parser needs beyond the input: the zone for naive times, error policy, progress."""

    tz: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    tz_explicit: bool = False
    skip_bad: bool = False
    skipped: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    on_progress: Callable[[int], None] | None = None  # called with bytes consumed since last call

    def skip_or_raise(self, err: InputError) -> None:
        """With --skip-bad, remember the bad record and go on; otherwise stop the import."""
        if not self.skip_bad:
            raise err
        log.info("skipped bad record: %s", err.describe())
        self.skipped.append(err)

    def advance(self, nbytes: int) -> None:
        if self.on_progress is not None and nbytes:
            self.on_progress(nbytes)

    def localize(self, naive: datetime) -> datetime:
        """A naive local time from the export, in the import's zone, as aware UTC."""
        from datetime import UTC

        return naive.replace(tzinfo=self.tz).astimezone(UTC)


class CountingReader(io.RawIOBase):
    """Wraps a binary stream and reports bytes read to the context, for progress bars."""

    def __init__(self, raw: IO[bytes], ctx: ParseContext) -> None:
        self._raw = raw
        self._ctx = ctx

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        b[:n] = data
        self._ctx.advance(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_text(
    source: Source, ctx: ParseContext, name: str | None = None, *, encoding: str = "utf-8-sig"
) -> IO[str]:
    """A text stream over a file or member, counting progress, BOM removed, newlines kept."""
    raw = io.BufferedReader(CountingReader(source.open(name), ctx), buffer_size=1 << 20)
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


def open_binary(source: Source, ctx: ParseContext, name: str | None = None) -> IO[bytes]:
    """A buffered binary stream over a file or member, counting progress."""
    return io.BufferedReader(CountingReader(source.open(name), ctx), buffer_size=1 << 20)


class Parser(ABC):
    """One export format. Subclasses set the class attributes and implement sniff and parse."""

    name: ClassVar[str]  # the --format value, e.g. "telegram"
    title: ClassVar[str]  # for humans: "Telegram Desktop JSON (result.json)"
    platform: ClassVar[str]  # telegram, discord, slack, whatsapp, wechat, qq, generic
    naive_times: ClassVar[bool] = False  # True when timestamps carry no zone and need --tz

    @classmethod
    @abstractmethod
    def sniff(cls, source: Source) -> int:
        """How sure (0–100) that `source` is in this format, from a cheap look at it."""

    @abstractmethod
    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        """Yield the records of `source`, a Community before anything that names it.

        Bad records raise InputError (naming file, line or record, and field) through
        `ctx.skip_or_raise`, so that --skip-bad can go on past them.
        """


_REGISTRY: dict[str, type[Parser]] = {}


def register(cls: type[Parser]) -> type[Parser]:
    """Class decorator that makes a parser available to `shequn import`."""
    if cls.name in _REGISTRY:
        raise ValueError(f"parser {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def parsers() -> dict[str, type[Parser]]:
    """All registered parsers by name (importing the built-in ones on first use)."""
    import shequn.platforms  # noqa: F401  (registers the built-ins)

    return dict(_REGISTRY)


def get_parser(name: str) -> type[Parser]:
    found = parsers().get(name)
    if found is None:
        known = ", ".join(sorted(parsers()))
        raise InputError(f"unknown format {name!r}; known formats: {known}", field="--format")
    return found


@dataclass
class Detection:
    parser: type[Parser]
    confidence: int
    candidates: list[tuple[str, int]]


def detect(source: Source) -> Detection:
    """Ask every parser how sure it is; the most confident one wins."""
    from shequn.errors import FormatNotDetected

    scores: list[tuple[str, int]] = []
    for name, cls in sorted(parsers().items()):
        try:
            score = cls.sniff(source)
        except (OSError, ValueError, UnicodeError, KeyError, zipfile.BadZipFile) as exc:
            log.debug("sniff %s failed: %s", name, exc)
            score = 0
        scores.append((name, score))
    scores.sort(key=lambda s: -s[1])
    best_name, best = scores[0]
    if best <= 0:
        raise FormatNotDetected(
            "could not tell which chat export this is; pass --format "
            f"({', '.join(sorted(parsers()))})",
            file=str(source.path),
        )
    return Detection(
        parser=parsers()[best_name], confidence=best, candidates=[s for s in scores if s[1] > 0]
    )
