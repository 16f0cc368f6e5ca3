"""Reading the store in bulk as Arrow tables with fixed schemas, for the in-process engines.

SQLite goes through ADBC (Arrow straight from the C driver, no Python row objects), in a child
process (see `_read_sqlite_in_child`). ADBC infers
a column's type from its first rows, so nullable columns are read with a sentinel and turned
back into nulls here. PostgreSQL is read through SQLAlchemy (the PostgreSQL engine normally
runs the metrics in the database itself and reads nothing in bulk).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, text

from shequn.errors import ShequnError

SCHEMAS: dict[str, pa.Schema] = {
    "message": pa.schema(
        [
            ("id", pa.int64()),
            ("community_id", pa.int64()),
            ("account_id", pa.int64()),
            ("sent_at", pa.string()),
            ("kind", pa.string()),
            ("text", pa.string()),
            ("platform_msg_id", pa.string()),
            ("reply_to", pa.string()),
            ("mentions", pa.string()),
            ("links", pa.string()),
            ("deleted", pa.bool_()),
        ]
    ),
    "account": pa.schema(
        [
            ("id", pa.int64()),
            ("person_id", pa.int64()),
            ("is_bot", pa.bool_()),
            ("display_name", pa.string()),
        ]
    ),
    "membership": pa.schema(
        [
            ("id", pa.int64()),
            ("community_id", pa.int64()),
            ("account_id", pa.int64()),
            ("joined_epoch", pa.int64()),
            ("left_epoch", pa.int64()),
            ("left_reason", pa.string()),
            ("inviter_account_id", pa.int64()),
            ("join_source", pa.string()),
            ("role", pa.string()),
        ]
    ),
    "community": pa.schema(
        [
            ("id", pa.int64()),
            ("name", pa.string()),
            ("platform", pa.string()),
            ("timezone", pa.string()),
            ("kind", pa.string()),
        ]
    ),
    "reaction": pa.schema(
        [
            ("community_id", pa.int64()),
            ("platform_msg_id", pa.string()),
            ("account_id", pa.int64()),
            ("count", pa.int64()),
        ]
    ),
    "product_attribute": pa.schema(
        [
            ("person_id", pa.int64()),
            ("usage_frequency", pa.float64()),
            ("usage_minutes", pa.float64()),
            ("payments", pa.float64()),
            ("orders", pa.int64()),
        ]
    ),
    "discussion_window": pa.schema(
        [
            ("community_id", pa.int64()),
            ("weekdays", pa.string()),
            ("start_minute", pa.int64()),
            ("end_minute", pa.int64()),
        ]
    ),
    # The sparse text labels (`message_label`, see SOURCES): only rows that say something.
    "message_signal": pa.schema(
        [
            ("message_id", pa.int64()),
            ("community_id", pa.int64()),
            ("is_question", pa.bool_()),
            ("feedback", pa.string()),
            ("offtopic", pa.string()),
            ("theme_score", pa.float64()),
            ("is_intro", pa.bool_()),
        ]
    ),
    # Who each message @mentions, resolved to accounts after import (text.mentions).
    "message_mention": pa.schema(
        [
            ("message_id", pa.int64()),
            ("community_id", pa.int64()),
            ("account_id", pa.int64()),
        ]
    ),
}

# `text.theme.ON_THEME_AT`, repeated so reading the store does not import the text library (a
# test checks they agree): on-theme rows are kept so KOL expertise can count them.
SIGNAL_THEME_FLOOR = 0.5
# Raw tables read from a store table of another name, with the rows they keep. message_signal:
# labelled messages that carry a signal; the all-false rows of everyday chat stay behind.
SOURCES: dict[str, tuple[str, str]] = {
    "message_signal": (
        "message_label",
        "WHERE is_question OR feedback IS NOT NULL OR offtopic IS NOT NULL OR is_intro "
        f"OR theme_score >= {SIGNAL_THEME_FLOOR}",
    ),
}

IN_PROCESS_ROWS = 100_000  # fewer new messages than this are read without a child process
_INT_NULL = -(2**62)
_STR_NULL = "\u2400NULL\u2400"  # stands for NULL while ADBC reads (see the module docstring)
_REAL = {"sqlite": "REAL", "postgresql": "DOUBLE PRECISION"}
_SENT_AT = {
    "sqlite": "sent_at",
    "postgresql": "to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
}
_EPOCH = {
    "sqlite": "CAST(strftime('%s', {c}) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(EPOCH FROM {c}) AS BIGINT)",
}


def _select(table: str, dialect: str, where: str = "") -> str:
    """SELECT of `table`'s schema columns; nullable ones wrapped in a typed sentinel."""
    source, kept = SOURCES.get(table, (table, ""))
    where = where or kept
    ep = _EPOCH[dialect]
    exprs = {
        "membership": {
            "joined_epoch": ep.format(c="joined_at"),
            "left_epoch": ep.format(c="left_at"),
        },
        "reaction": {"count": '"count"'},
        "message": {"sent_at": _SENT_AT[dialect]},
    }.get(table, {})
    cols = []
    for f in SCHEMAS[table]:
        expr = exprs.get(f.name, f.name)
        if pa.types.is_integer(f.type) and f.name not in ("id",):
            expr = f"COALESCE({expr}, {_INT_NULL})"
        elif pa.types.is_string(f.type):
            expr = f"COALESCE(CAST({expr} AS TEXT), '{_STR_NULL}')"
        elif pa.types.is_floating(f.type):
            expr = f"COALESCE(CAST({expr} AS {_REAL[dialect]}), -1e308)"
        elif pa.types.is_boolean(f.type):
            expr = f"CAST({expr} AS INTEGER)"
        cols.append(f'{expr} AS "{f.name}"')
    return f"SELECT {', '.join(cols)} FROM {source} {where}"


def _restore(table: str, data: pa.Table) -> pa.Table:
    """Cast to the fixed schema and turn sentinels back into nulls."""
    out = []
    for f in SCHEMAS[table]:
        col = data.column(f.name) if data.num_rows else pa.array([], f.type)
        if pa.types.is_integer(f.type):
            col = pc.cast(col, pa.int64())
            col = pc.if_else(pc.equal(col, _INT_NULL), pa.scalar(None, pa.int64()), col)
        elif pa.types.is_string(f.type):
            col = pc.cast(col, pa.string())
            col = pc.if_else(pc.equal(col, _STR_NULL), pa.scalar(None, pa.string()), col)
        elif pa.types.is_floating(f.type):
            col = pc.cast(col, pa.float64())
            col = pc.if_else(pc.less_equal(col, -1e307), pa.scalar(None, pa.float64()), col)
        elif pa.types.is_boolean(f.type):
            col = pc.not_equal(pc.cast(col, pa.int64()), 0)
        out.append(col)
    return pa.Table.from_arrays(out, schema=SCHEMAS[table])


class Snapshot:
    """Store tables read at one moment: `tables` whole, and the messages above `after_id` in
    id order through `messages()`.

    On SQLite one child process reads them all in one read transaction (a consistent snapshot)
    into temporary Arrow files that are read back chunk by chunk, so no process holds every
    message at once. Use as a context manager; the files go when it closes.
    """

    def __init__(self, engine: Engine, tables: list[str], *, after_id: int | None = None) -> None:
        self.engine = engine
        dialect = engine.dialect.name
        self._queries = {name: _select(name, dialect) for name in tables}
        if after_id is not None:
            where = f"WHERE id > {int(after_id)} ORDER BY id"
            self._queries["message"] = _select("message", dialect, where)
        self._after_id = after_id
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._files: dict[str, Path] = {}
        self.tables: dict[str, pa.Table] = {}

    def __enter__(self) -> Snapshot:
        if _sqlite_file(self.engine) and self._large():
            self._tmp = tempfile.TemporaryDirectory(prefix="shequn-read-")
            path = str(self.engine.url.database)
            self._files = _read_sqlite_in_child(path, self._queries, Path(self._tmp.name))
            for name in self._queries:
                if name != "message":
                    table = pa.ipc.open_file(self._files[name]).read_all()
                    self.tables[name] = _restore(name, table)
        else:
            with self.engine.connect() as conn:  # one read transaction for every table
                for name, sql in self._queries.items():
                    self.tables[name] = _restore(name, _read_sqlalchemy(conn, sql))
        return self

    def _large(self) -> bool:
        # Starting a child process costs about a second; a few new messages are read here, in
        # one transaction of the store's own SQLite, just as consistent.
        if "message" not in self._queries:
            return False
        after = self._after_id or 0
        with self.engine.connect() as conn:
            count = conn.execute(
                text("SELECT count(*) FROM message WHERE id > :a"), {"a": after}
            ).scalar_one()
        return int(count) > IN_PROCESS_ROWS

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    def messages(self, chunk: int = 500_000) -> Iterator[pa.Table]:
        """The messages, `chunk` rows at a time."""
        if "message" not in self._queries:
            return
        if not self._files:
            yield self.tables["message"]
            return
        # read, not memory-mapped: each chunk's pages are freed once the caller drops it, so
        # the process holds one chunk of messages, not every page of the file it touched
        with pa.OSFile(str(self._files["message"])) as source:
            reader = pa.ipc.open_file(source)
            pending: list[pa.RecordBatch] = []
            rows = 0
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                pending.append(batch)
                rows += batch.num_rows
                if rows >= chunk:
                    yield _restore("message", pa.Table.from_batches(pending))
                    pending, rows = [], 0
            if rows:
                yield _restore("message", pa.Table.from_batches(pending))


def read_tables(engine: Engine, tables: list[str]) -> dict[str, pa.Table]:
    """Whole store tables as Arrow, by name (`message` included if named)."""
    names = [n for n in tables if n != "message"]
    with Snapshot(engine, names, after_id=0 if "message" in tables else None) as snap:
        out = dict(snap.tables)
        if "message" in tables:
            chunks = list(snap.messages())
            out["message"] = (
                pa.concat_tables(chunks)
                if chunks
                else _restore(
                    "message", pa.table({f.name: pa.array([], f.type) for f in SCHEMAS["message"]})
                )
            )
    return out


def _sqlite_file(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def _read_sqlalchemy(conn: Connection, sql: str) -> pa.Table:
    # psycopg takes % as a placeholder mark; SQLite's strftime('%s') must stay as it is
    escaped = sql if conn.dialect.name == "sqlite" else sql.replace("%", "%%")
    result = conn.execute(text(escaped))
    rows = result.fetchall()
    names = list(result.keys())
    columns: dict[str, Any] = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    return pa.table(columns) if rows else pa.table({n: pa.array([]) for n in names})


def _read_sqlite_in_child(path: str, queries: dict[str, str], out: Path) -> dict[str, Path]:
    # ADBC links its own copy of SQLite. Two copies of SQLite in one process break each other's
    # POSIX locks and WAL files (sqlite.org/howtocorrupt.html §2.2: seen here as stale reads and
    # "disk I/O error"), so the ADBC reader runs in a child process of its own.
    job = json.dumps({"path": path, "queries": queries, "out": str(out)})
    done = subprocess.run(
        [sys.executable, "-m", "shequn.analytics.sqlite_reader"],
        input=job,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ShequnError(f"reading the store for analytics failed: {done.stderr.strip()[-500:]}")
    return {name: out / f"{name}.arrow" for name in queries}
