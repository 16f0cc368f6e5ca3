"""`shequn import`: detect the format, stream the records into the store, index them for search.

One import is one transaction: bad input (without --skip-bad) or a kill leaves the store as it
was, and running the import again completes it. The import run is recorded either way.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Connection, Engine, func, select, update

from shequn.config import get_settings
from shequn.errors import InputError, ShequnError
from shequn.import_pipeline import import_in_worker
from shequn.platforms.base import ParseContext, Source, detect, get_parser
from shequn.store import schema as t
from shequn.store.search import index_pending
from shequn.store.writer import ImportWriter

log = logging.getLogger(__name__)


@dataclass
class ImportReport:
    run_id: int
    source: str
    format: str
    format_title: str
    confidence: int | None
    timezone: str | None
    counts: dict[str, int]
    skipped: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duration_s: float = 0.0
    already_imported: bool = False
    indexed: int = 0
    index_s: float = 0.0  # of duration_s, the search-index phase after the import committed


def resolve_timezone(name: str | None) -> tuple[tzinfo, str, bool]:
    """The zone for naive timestamps: --tz if given, else this machine's (explicit=False)."""
    if name:
        try:
            return ZoneInfo(name), name, True
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(
                f"unknown time zone {name!r} (use an Area/City name such as Asia/Shanghai)",
                field="--tz",
            ) from exc
    try:
        from tzlocal import get_localzone_name

        local = get_localzone_name() or "UTC"
    except Exception:  # tzlocal cannot tell on some minimal systems
        local = "UTC"
    return ZoneInfo(local), local, False


def file_hash(source: Source) -> str:
    """sha256 of the file, or of every member (name and bytes) of a folder or zip."""
    digest = hashlib.sha256()
    for name in [None] if source.is_file else source.names():
        if name is not None:
            digest.update(name.encode() + b"\0")
        with source.open(name) as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def import_path(
    engine: Engine,
    path: Path | str,
    *,
    fmt: str = "auto",
    tz: str | None = None,
    skip_bad: bool = False,
    force: bool = False,
    index: bool = True,
    on_start: Callable[[str, int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one export (file, folder or zip) into the store and return what happened.

    `on_start(format_title, total_bytes)` and `on_progress(bytes)` drive a progress bar.
    Raises InputError for bad input (nothing is kept unless `skip_bad`).
    """
    source = Source(path)
    try:
        return _import(
            engine,
            source,
            fmt=fmt,
            tz=tz,
            skip_bad=skip_bad,
            force=force,
            index=index,
            on_start=on_start,
            on_progress=on_progress,
        )
    finally:
        source.close()


def _import(
    engine: Engine,
    source: Source,
    *,
    fmt: str,
    tz: str | None,
    skip_bad: bool,
    force: bool,
    index: bool,
    on_start: Callable[[str, int], None] | None,
    on_progress: Callable[[int], None] | None,
) -> ImportReport:
    if fmt == "auto":
        found = detect(source)
        parser_cls, confidence = found.parser, found.confidence
    else:
        parser_cls, confidence = get_parser(fmt), None
    zone, zone_name, explicit = resolve_timezone(tz)
    warnings: list[str] = []
    if parser_cls.naive_times and not explicit:
        warnings.append(
            f"{parser_cls.title} has no time zone in its timestamps; assumed this "
            f"machine's zone {zone_name}. Pass --tz Area/City if that is wrong. / "
            f"该格式的时间不带时区，已按本机时区 {zone_name} 处理；如不对请加 --tz。"
        )
    digest = file_hash(source)
    started = time.perf_counter()
    previous = _previous_ok_run(engine, digest, parser_cls.name)
    if previous is not None and not force:
        return ImportReport(
            run_id=previous,
            source=str(source.path),
            format=parser_cls.name,
            format_title=parser_cls.title,
            confidence=confidence,
            timezone=zone_name,
            counts={},
            warnings=warnings,
            already_imported=True,
        )
    run_id = _start_run(engine, source, parser_cls.name, digest, zone_name)
    ctx = ParseContext(tz=zone, tz_explicit=explicit, skip_bad=skip_bad, on_progress=on_progress)
    if on_start is not None:
        on_start(parser_cls.title, source.size())
    try:
        with engine.connect() as conn:
            if get_settings().import_worker:

                def feed(writer: ImportWriter) -> None:
                    import_in_worker(writer, parser_cls.name, str(source.path), ctx, zone_name)
            else:

                def feed(writer: ImportWriter) -> None:
                    for record in parser_cls().parse(source, ctx):
                        writer.write(record)

            counts = _write_all(conn, source, feed, run_id)
    except InputError as exc:
        exc.located(file=str(source.path))
        _end_run(engine, run_id, "failed", started, {}, error=exc.describe())
        raise
    except BaseException as exc:
        _end_run(engine, run_id, "failed", started, {}, error=f"{type(exc).__name__}: {exc}")
        raise
    counts["skipped"] = len(ctx.skipped)
    warnings.extend(ctx.warnings)
    index_started = time.perf_counter()
    indexed = index_pending(engine) if index else 0
    index_s = time.perf_counter() - index_started
    duration = _end_run(engine, run_id, "ok", started, counts)
    return ImportReport(
        run_id=run_id,
        source=str(source.path),
        format=parser_cls.name,
        format_title=parser_cls.title,
        confidence=confidence,
        timezone=zone_name,
        counts=counts,
        skipped=ctx.skipped,
        warnings=warnings,
        duration_s=duration,
        indexed=indexed,
        index_s=index_s,
    )


def _write_all(
    conn: Connection, source: Source, feed: Callable[[ImportWriter], None], run_id: int
) -> dict[str, int]:
    """All records in one transaction. A large import into SQLite builds the time indexes at
    the end and checks foreign keys once over the written tables instead of row by row."""
    bulk = _is_large(conn, source)
    conn.rollback()
    relax = bulk and conn.dialect.name == "sqlite"
    if relax:  # only outside a transaction does SQLite take this pragma
        _driver_pragma(conn, "foreign_keys=OFF")
    try:
        with conn.begin():
            writer = ImportWriter(
                conn,
                import_run_id=run_id,
                batch_size=get_settings().import_batch_size,
                defer_indexes=bulk,
            )
            feed(writer)
            counts = writer.finish().as_dict()
            if relax:
                _check_foreign_keys(conn)
    finally:
        if relax:
            _driver_pragma(conn, "foreign_keys=ON")
    return counts


def _driver_pragma(conn: Connection, pragma: str) -> None:
    # on the driver connection, so that SQLAlchemy does not wrap it in a transaction
    conn.connection.dbapi_connection.execute(f"PRAGMA {pragma}")  # type: ignore[union-attr]


def _check_foreign_keys(conn: Connection) -> None:
    for table in ("message", "reaction", "membership_event", "membership", "account_name"):
        bad = conn.exec_driver_sql(f"PRAGMA foreign_key_check({table})").first()
        if bad is not None:  # a bug, not bad input: refuse to commit
            raise ShequnError(f"import would break a reference from {table} to {bad[2]}")


def _is_large(conn: Connection, source: Source) -> bool:
    """Whether the import is big next to what the store holds (then indexes are built after)."""
    held = conn.execute(select(func.max(t.message.c.id))).scalar() or 0
    return source.size() // 150 > held // 4  # ~150 bytes of export per message


def _previous_ok_run(engine: Engine, digest: str, fmt: str) -> int | None:
    r = t.import_run.c
    with engine.connect() as conn:
        return conn.execute(
            select(r.id).where(r.file_hash == digest, r.format == fmt, r.status == "ok").limit(1)
        ).scalar()


def _start_run(engine: Engine, source: Source, fmt: str, digest: str, zone: str) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                t.import_run.insert().values(
                    source=str(source.path),
                    format=fmt,
                    file_hash=digest,
                    timezone=zone,
                    status="running",
                    started_at=datetime.now(UTC),
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )


def _end_run(
    engine: Engine,
    run_id: int,
    status: str,
    started: float,
    counts: dict[str, int],
    *,
    error: str | None = None,
) -> float:
    duration = time.perf_counter() - started
    with engine.begin() as conn:
        conn.execute(
            update(t.import_run)
            .where(t.import_run.c.id == run_id)
            .values(
                status=status,
                finished_at=datetime.now(UTC),
                duration_s=duration,
                counts=orjson.dumps(counts).decode(),
                error=error,
            )
        )
    return duration
