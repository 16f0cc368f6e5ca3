"""The bulk INSERTs of an import: message, reaction, membership-event and display-name rows.

They run on the driver's own cursor, inside the transaction the writer's SQLAlchemy
Connection began: a statement through SQLAlchemy costs some 70 µs of its own, and an import
with messages of mixed row forms runs one statement per run of one form (a run averages a few
rows), so that overhead was a third of storing a million messages.
"""

from __future__ import annotations

from itertools import chain, groupby
from typing import Any

from sqlalchemy import Connection

from shequn.store.message_rows import (
    PLAIN_ROW_LEN,
    full_message_sql,
    insert_ignore_sql,
    plain_message_sql,
)

_REACTION_COLS = (
    "community_id",
    "platform_msg_id",
    "account_id",
    "reactor_key",
    "emoji",
    "count",
    "reacted_at",
)
_EVENT_COLS = (
    "community_id",
    "account_id",
    "action",
    "at",
    "actor_account_id",
    "source",
    "platform_msg_id",
    "import_run_id",
)
# On SQLite a run of plain rows goes in as INSERTs of up to this many rows each (VALUES keeps
# their order): a statement step per row costs the driver more than binding a few more values.
_ROWS_PER_INSERT = 32


class RowSink:
    """Runs the INSERT ... ON CONFLICT DO NOTHING statements of one import, batch by batch."""

    def __init__(self, conn: Connection, *, run_id: int | None):
        self.dialect = conn.dialect.name
        self.ph = ph = "?" if self.dialect == "sqlite" else "%s"
        # the writer's transaction is open on this driver connection: the cursor runs in it
        self._cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self._full_sql = full_message_sql(ph)
        self._plain_sql = plain_message_sql(ph, run_id)
        self._run_id = run_id
        self._plain_multi: dict[int, str] = {}  # rows per statement -> its SQL (SQLite)
        self._reaction_sql = insert_ignore_sql(
            "reaction", _REACTION_COLS, ph, "community_id, platform_msg_id, reactor_key, emoji"
        )
        self._event_sql = insert_ignore_sql(
            "membership_event", _EVENT_COLS, ph, "community_id, account_id, action, at"
        )
        least, greatest = ("min", "max") if self.dialect == "sqlite" else ("LEAST", "GREATEST")
        self._names_sql = (
            f"INSERT INTO account_name (account_id, name, first_seen, last_seen) "
            f"VALUES ({ph}, {ph}, {ph}, {ph}) ON CONFLICT (account_id, name) DO UPDATE SET "
            f"first_seen = {least}(account_name.first_seen, excluded.first_seen), "
            f"last_seen = {greatest}(account_name.last_seen, excluded.last_seen)"
        )

    def _run(self, sql: str, rows: list[tuple[Any, ...]]) -> int:
        # Synchronous on purpose: a writer thread was tried and made imports 2-3x slower, as
        # sqlite3 takes the GIL back for every row and convoys behind the parsing thread.
        cur = self._cursor
        cur.executemany(sql, rows)
        return int(cur.rowcount)

    def messages(self, rows: list[tuple[Any, ...]]) -> int:
        """Insert message rows (plain or full form, see message_rows); returns rows added.

        Each run of rows of one form goes in through its statement, so that messages keep
        their file order in ids (neighbours in one minute are told apart by id).
        """
        added = 0
        multi = self.dialect == "sqlite"
        for n, same in groupby(rows, len):
            if n != PLAIN_ROW_LEN:
                added += self._run(self._full_sql, list(same))
            elif multi:
                added += self._plain_run(list(same))
            else:
                added += self._run(self._plain_sql, list(same))
        return added

    def _plain_run(self, run: list[tuple[Any, ...]]) -> int:
        cur, added = self._cursor, 0
        for i in range(0, len(run), _ROWS_PER_INSERT):
            part = run[i : i + _ROWS_PER_INSERT]
            sql = self._plain_multi.get(len(part))
            if sql is None:
                sql = self._plain_multi[len(part)] = plain_message_sql(
                    self.ph, self._run_id, rows=len(part)
                )
            cur.execute(sql, list(chain.from_iterable(part)))
            added += cur.rowcount
        return added

    def reactions(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert reaction rows in _REACTION_COLS order."""
        if rows:
            self._run(self._reaction_sql, rows)

    def events(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert membership-event rows in _EVENT_COLS order."""
        if rows:
            self._run(self._event_sql, rows)

    def names(self, rows: list[tuple[Any, ...]]) -> None:
        """Record (account, name, first seen, last seen); the newest name becomes current."""
        if not rows:
            return
        self._run(self._names_sql, rows)
        ph = self.ph
        self._run(
            f"UPDATE account SET display_name = (SELECT name FROM account_name WHERE "
            f"account_id = {ph} ORDER BY last_seen DESC LIMIT 1) WHERE id = {ph}",
            [(acc, acc) for acc in {row[0] for row in rows}],
        )

    def close(self) -> None:
        """Release the driver cursor (the transaction stays the writer's)."""
        self._cursor.close()
