"""Watermarks of the steps that go over each message once after import (`search_state` rows).

A step (text enrichment, @mention resolution) reads messages in id order and, in the same
transaction as each batch's rows, moves its watermark to the batch's last id: a killed run
resumes after its last batch, and each message is gone over once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.store import schema as t


def upsert(conn: Connection, table: Table) -> Any:
    """An INSERT that takes ON CONFLICT clauses, in the connection's dialect."""
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


@dataclass(frozen=True)
class Watermark:
    """The highest message id a step `name` has done."""

    name: str

    def get(self, conn: Connection, *, lock: bool = False) -> int:
        """The id; 0 before the first run. `lock` takes the row for the transaction."""
        s = t.search_state.c
        query = select(s.last_message_id).where(s.name == self.name)
        # On PostgreSQL two runs take turns on the row; SQLite writers are one at a time anyway.
        value = conn.execute(query.with_for_update() if lock else query).scalar()
        return int(value or 0)

    def ensure(self, conn: Connection) -> None:
        """Create the row at 0 if it is not there, so that `get(lock=True)` has a row to lock."""
        row = upsert(conn, t.search_state).values(name=self.name, last_message_id=0)
        conn.execute(row.on_conflict_do_nothing())

    def set(self, conn: Connection, last: int) -> None:
        s = t.search_state
        conn.execute(s.update().where(s.c.name == self.name).values(last_message_id=last))
