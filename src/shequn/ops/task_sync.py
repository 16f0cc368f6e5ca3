"""Keeping the inbox in step with the insights: the write side of `sync_tasks`.

Each rule of `shequn.ops.task_rules` says which situations exist and which live tasks are over;
this module turns that into inserts, detail updates, reopenings and resolutions, in bulk (one
read of the stored keys per kind, executemany writes), inside one transaction per sync: two syncs
at once cannot make a task twice (the second fails on the unique key and changes nothing).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from shequn.ops.task_rules import (
    RULES,
    Context,
    InboxRules,
    InsightSource,
    LiveTask,
    Outcome,
    Situation,
    chunks,
)
from shequn.store import schema as t

log = logging.getLogger(__name__)

LIVE = ("open", "snoozed")


def dumps(detail: dict[str, Any]) -> str:
    """A task's or event's detail as stored: JSON, keys sorted, Chinese kept readable."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)


def sync_tasks(
    store: Engine,
    source: InsightSource,
    *,
    now: datetime | None = None,
    rules: InboxRules | None = None,
) -> dict[str, int]:
    """Bring the inbox in step with the insights: create missing tasks, refresh open ones, resolve
    those whose situation is over, reopen snoozed ones whose time came. Returns the counts
    {created, updated, resolved, reopened}. A kind whose table the source lacks is left alone."""
    now = now or datetime.now(UTC)
    counts = dict.fromkeys(("created", "updated", "resolved", "reopened"), 0)
    with store.begin() as conn:
        counts["reopened"] += _wake(conn, now)
        ctx = Context(conn, source, rules or InboxRules())
        for kind, derive in RULES.items():
            live = _live(conn, kind)
            outcome = derive(ctx, live)
            if outcome is None:
                log.info("inbox: no data for %s tasks; left as they are", kind)
                continue
            _apply(conn, kind, outcome, live, now, counts)
    log.info("inbox synced: %s", counts)
    return counts


def wake_snoozed(store: Engine, *, now: datetime | None = None) -> int:
    """Reopen snoozed tasks whose snoozed_until has passed (cheap; pages may call it)."""
    with store.begin() as conn:
        return _wake(conn, now or datetime.now(UTC))


def _wake(conn: Connection, now: datetime) -> int:
    due = select(t.task.c.id).where(t.task.c.status == "snoozed", t.task.c.snoozed_until <= now)
    ids = [r.id for r in conn.execute(due)]
    for part in chunks(ids):
        conn.execute(
            update(t.task)
            .where(t.task.c.id.in_(part))
            .values(status="open", snoozed_until=None, updated_at=now)
        )
    write_events(conn, [(i, "reopened", {"why": "snooze_ended"}) for i in ids], now)
    return len(ids)


def _live(conn: Connection, kind: str) -> list[LiveTask]:
    q = select(t.task.c.id, t.task.c.key, t.task.c.status, t.task.c.community_id, t.task.c.detail)
    q = q.where(t.task.c.kind == kind, t.task.c.status.in_(LIVE))
    return [
        LiveTask(r.id, r.key, r.status, r.community_id, json.loads(r.detail or "{}"))
        for r in conn.execute(q)
    ]


def _stored(conn: Connection, kind: str, keys: Sequence[str]) -> dict[str, tuple[int, str, str]]:
    """(id, status, detail JSON) of the tasks of `kind` with these keys."""
    task, out = t.task, {}
    for part in chunks(keys):
        q = select(task.c.id, task.c.key, task.c.status, task.c.detail)
        for r in conn.execute(q.where(task.c.kind == kind, task.c.key.in_(part))):
            out[r.key] = (r.id, r.status, r.detail or "{}")
    return out


def _apply(
    conn: Connection,
    kind: str,
    outcome: Outcome,
    live: list[LiveTask],
    now: datetime,
    counts: dict[str, int],
) -> None:
    """Write one rule's outcome: inserts, detail updates, reopenings and resolutions."""
    wanted = {s.key: s for s in outcome.present}
    stored = _stored(conn, kind, sorted(wanted))
    new = [s for key, s in wanted.items() if key not in stored]
    changed: list[tuple[int, str]] = []
    back: list[tuple[int, str]] = []
    for key, (tid, status, detail) in stored.items():
        text = dumps(wanted[key].detail)
        if status in LIVE and text != dumps(json.loads(detail)):
            changed.append((tid, text))
        elif status == "resolved":
            back.append((tid, text))
    _insert(conn, kind, new, now)
    _set_detail(conn, changed, now, status=None)
    _set_detail(conn, back, now, status="open")
    write_events(conn, [(tid, "reopened", {"why": "situation_back"}) for tid, _ in back], now)
    over = [task.id for task in live if task.key in outcome.gone and task.key not in wanted]
    kept = _reopened_by_hand(conn, over)
    gone = [tid for tid in over if tid not in kept]
    for part in chunks(gone):
        conn.execute(
            update(t.task)
            .where(t.task.c.id.in_(part))
            .values(status="resolved", closed_at=now, snoozed_until=None, updated_at=now)
        )
    write_events(conn, [(tid, "resolved", None) for tid in gone], now)
    counts["created"] += len(new)
    counts["updated"] += len(changed)
    counts["reopened"] += len(back)
    counts["resolved"] += len(gone)


def _reopened_by_hand(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Tasks an operator reopened: they disagreed with the data, so it does not close them again."""
    e, out = t.task_event, set()
    for part in chunks(ids):
        q = select(e.c.task_id).where(
            e.c.task_id.in_(part), e.c.action == "reopened", e.c.user_id.is_not(None)
        )
        out |= {r.task_id for r in conn.execute(q)}
    return out


def _insert(conn: Connection, kind: str, new: list[Situation], now: datetime) -> None:
    if not new:
        return
    rows = [
        {
            "kind": kind,
            "key": s.key,
            "community_id": s.community_id,
            "person_id": s.person_id,
            "account_id": s.account_id,
            "message_id": s.message_id,
            "detail": dumps(s.detail),
            "status": "open",
            "created_at": now,
            "updated_at": now,
        }
        for s in new
    ]
    for part in chunks(rows):
        conn.execute(insert(t.task), list(part))
    ids = _stored(conn, kind, [s.key for s in new])
    write_events(conn, [(ids[s.key][0], "created", None) for s in new], now)


def _set_detail(
    conn: Connection, rows: list[tuple[int, str]], now: datetime, *, status: str | None
) -> None:
    if not rows:
        return
    values: dict[str, Any] = {"detail": bindparam("d"), "updated_at": now}
    if status:
        values |= {"status": status, "closed_at": None}
    stmt = update(t.task).where(t.task.c.id == bindparam("tid")).values(**values)
    conn.execute(stmt, [{"tid": tid, "d": text} for tid, text in rows])


def write_events(
    conn: Connection,
    events: list[tuple[int, str, dict[str, Any] | None]],
    now: datetime,
    user_id: int | None = None,
) -> None:
    rows = [
        {
            "task_id": tid,
            "user_id": user_id,
            "action": action,
            "at": now,
            "detail": dumps(detail) if detail else None,
        }
        for tid, action, detail in events
    ]
    for part in chunks(rows):
        conn.execute(insert(t.task_event), list(part))
