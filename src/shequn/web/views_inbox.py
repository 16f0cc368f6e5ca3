"""The inbox's data, for its page and its API alike: task lists, one task's details, actions.

Access: every function takes the signed-in user. Leaders see and act on the tasks of their
groups only (a task of another group is 403, also by id); viewers read but never act, and a
feedback task they open is not counted as read. Assigning: a task may be given to any enabled
user who can act (not a viewer) and can see the task's group — for a leader that is themselves,
the other leaders of that group, operators and admins; nobody can hand a task to someone who
could not open it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import Response
from sqlalchemy import Engine, select

from shequn.errors import InputError, PermissionDenied
from shequn.ops.tasks import (
    ACTIONS,
    STATUSES,
    EventView,
    TaskView,
    act,
    count_tasks,
    describe,
    feedback_read_counts,
    get_task,
    list_tasks,
    task_history,
)
from shequn.store import schema as t
from shequn.store.users import User, list_users
from shequn.web.auth import check_group, scope
from shequn.web.render import user_zone

PAGE = 50
CSV_LIMIT = 10_000
VOICES_SHOWN = 50
KINDS = ("welcome", "follow_up", "answer", "nudge", "prune", "offtopic", "feedback")
STATUS_CHOICES = (*STATUSES, "all")
READ_GOAL = 1000  # feedback items a month: the 1000 of the 10/100/1000 habit
TASK_COLUMNS = (
    "id",
    "kind",
    "title",
    "group",
    "community_id",
    "person_id",
    "status",
    "assignee",
    "created_at",
    "snoozed_until",
    "closed_at",
)


@dataclass(frozen=True)
class InboxQuery:
    """The inbox filters: kind, status ("all" for any), group, only mine, page (from 1)."""

    kind: str | None = None
    status: str = "open"
    group: int | None = None
    mine: bool = False
    page: int = 1


def _int_or_none(value: str | int | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InputError(f"not a number: {value!r}", field=field) from exc


def parse_query(
    *,
    kind: str | None = None,
    status: str | None = "open",
    group: str | int | None = None,
    mine: str | bool | None = None,
    page: int = 1,
) -> InboxQuery:
    """Filters from query parameters ("" means no filter); InputError naming a bad one."""
    kind = kind or None
    if kind is not None and kind not in KINDS:
        raise InputError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})", field="kind")
    status = status or "open"
    if status not in STATUS_CHOICES:
        raise InputError(
            f"unknown status {status!r} (one of {', '.join(STATUS_CHOICES)})", field="status"
        )
    mine_on = mine if isinstance(mine, bool) else (mine or "") in ("1", "true", "on", "yes")
    return InboxQuery(kind, status, _int_or_none(group, "group"), mine_on, max(1, page))


def _groups(user: User, q: InboxQuery) -> Collection[int] | None:
    if q.group is not None:
        check_group(user, q.group)
        return [q.group]
    return scope(user)


def task_row(task: TaskView, lang: str) -> dict[str, Any]:
    """A task as the page and the API show it: its fields plus its one-line title."""
    return {**asdict(task), "title": describe(task, lang)}


def task_list(
    store: Engine, user: User, q: InboxQuery, *, lang: str, limit: int = PAGE
) -> tuple[list[dict[str, Any]], bool]:
    """One page of tasks the user may see, and whether there is a next page."""
    statuses = STATUSES if q.status == "all" else (q.status,)
    tasks = list_tasks(
        store,
        groups=_groups(user, q),
        status=statuses,
        kind=q.kind,
        assignee_id=user.id if q.mine else None,
        limit=limit + 1,
        offset=(q.page - 1) * limit,
    )
    return [task_row(x, lang) for x in tasks[:limit]], len(tasks) > limit


def task_total(store: Engine, user: User, q: InboxQuery) -> int | None:
    """How many tasks match (None for "mine", which the count does not filter by)."""
    if q.mine:
        return None
    statuses = STATUSES if q.status == "all" else (q.status,)
    return count_tasks(store, groups=_groups(user, q), status=statuses, kind=q.kind)


def group_options(store: Engine, user: User) -> list[tuple[int, str]]:
    """The groups the user may filter by (id, name), by name."""
    c = t.community.c
    q = select(c.id, c.name).order_by(c.name, c.id).limit(1000)
    groups = scope(user)
    if groups is not None:
        q = q.where(c.id.in_(list(groups)))
    with store.connect() as conn:
        return [(int(r.id), str(r.name)) for r in conn.execute(q)]


def visible_task(store: Engine, user: User, task_id: int) -> TaskView:
    """The task, if the user may see its group (PermissionDenied otherwise, NotFound if none)."""
    task = get_task(store, task_id)
    check_group(user, task.community_id)
    return task


def assignable_users(store: Engine, task: TaskView) -> list[User]:
    """Who may be given this task: enabled, not viewers, able to see its group."""
    return [
        u
        for u in list_users(store)
        if not u.disabled and u.can_act and u.can_see(task.community_id)
    ]


def _check_assignee(store: Engine, task: TaskView, assignee_id: int | None) -> None:
    if assignee_id is None:
        return
    if all(u.id != assignee_id for u in assignable_users(store, task)):
        raise PermissionDenied(
            "that user cannot work on this group's tasks / 该用户不能处理这个群的待办"
        )


def parse_until(value: str | None, zone: str) -> datetime | None:
    """A snooze time: a date (wakes at its start in the user's zone) or an ISO date-time
    (without a zone: the user's zone); returned as aware UTC."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(), tzinfo=ZoneInfo(zone)).astimezone(UTC)
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InputError(f"not a date: {value!r} (YYYY-MM-DD)", field="until") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(zone))
    return when.astimezone(UTC)


def perform(
    store: Engine,
    user: User,
    task_id: int,
    *,
    action: str,
    until: str | None = None,
    assignee_id: int | None = None,
    note: str | None = None,
) -> TaskView:
    """Do an inbox action as `user` after the access checks; returns the task as it is now."""
    if not user.can_act:
        raise PermissionDenied("viewers can only read / 只读用户不能操作")
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})", field="action")
    task = visible_task(store, user, task_id)
    if action == "assign":
        _check_assignee(store, task, assignee_id)
    when = parse_until(until, user_zone(user))
    return act(
        store,
        task_id,
        user_id=user.id,
        action=action,
        until=when,
        assignee_id=assignee_id,
        note=note,
    )


def _read_this_month(history: Sequence[EventView], user_id: int, now: datetime) -> bool:
    month = (now.year, now.month)
    return any(
        e.action == "read" and e.user_id == user_id and (e.at.year, e.at.month) == month
        for e in history
    )


def open_task(
    store: Engine, user: User, task_id: int, *, lang: str, record_read: bool = True
) -> dict[str, Any]:
    """Everything one task shows when opened; opening a feedback task counts it as read
    (once a month per user; viewers' reads are not recorded)."""
    task = visible_task(store, user, task_id)
    history = task_history(store, task_id)
    now = datetime.now(UTC)
    reads = record_read and user.can_act and task.kind == "feedback"
    if reads and not _read_this_month(history, user.id, now):
        task = act(store, task_id, user_id=user.id, action="read")
        history = task_history(store, task_id)
    return {
        "task": task_row(task, lang),
        "history": [asdict(e) for e in history],
        "voices": feedback_voices(store, task) if task.kind == "feedback" else [],
        "conversation": answer_context(store, task) if task.kind == "answer" else [],
        "assignees": [{"id": u.id, "name": u.name} for u in assignable_users(store, task)],
    }


def feedback_voices(store: Engine, task: TaskView) -> list[dict[str, Any]]:
    """The newest messages of a feedback task (text, time, who), at most VOICES_SHOWN."""
    ids = [int(i) for i in task.detail.get("message_ids", [])][-VOICES_SHOWN:]
    if not ids:
        return []
    m, a = t.message, t.account
    q = (
        select(m.c.id, m.c.sent_at, m.c.text, a.c.display_name, a.c.person_id)
        .outerjoin(a, a.c.id == m.c.account_id)
        .where(m.c.id.in_(ids), m.c.community_id == task.community_id, m.c.deleted.is_(False))
        .order_by(m.c.sent_at.desc(), m.c.id.desc())
    )
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def answer_context(store: Engine, task: TaskView) -> list[dict[str, Any]]:
    """The conversation around an unanswered question: from the task, else from the snapshot's
    `unanswered_questions`; each line marks whether it is the question itself."""
    lines = task.detail.get("context")
    if not lines and task.message_id is not None:
        lines = _snapshot_context(store, task.message_id)
    out = []
    for line in lines or []:
        out.append({**line, "is_question": line.get("message_id") == task.message_id})
    return out


def _snapshot_context(store: Engine, message_id: int) -> list[dict[str, Any]]:
    from shequn.analytics.snapshot import Insights

    insights = Insights.open(store)
    if insights is None or not insights.has("unanswered_questions"):
        return []
    try:
        rows = insights.rows("unanswered_questions", where={"message_id": message_id}, limit=1)
    finally:
        insights.close()
    context = rows[0].get("context") if rows else None
    return json.loads(context) if isinstance(context, str) else list(context or [])


def parse_month(value: str | None) -> date:
    """`YYYY-MM` as the first day of that month; empty: this month (UTC)."""
    if not value:
        today = datetime.now(UTC).date()
        return today.replace(day=1)
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as exc:
        raise InputError(f"not a month: {value!r} (YYYY-MM)", field="month") from exc


def feedback_reads(store: Engine, month: date) -> list[dict[str, Any]]:
    """Per user, feedback tasks read in `month`, with the share of the monthly goal."""
    rows = feedback_read_counts(store, month=month)
    return [{**r, "goal": READ_GOAL, "share": r["read"] / READ_GOAL} for r in rows]


def task_csv_rows(tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **{k: x.get(k) for k in TASK_COLUMNS},
            "group": x["community_name"],
            "assignee": x["assignee_name"],
        }
        for x in tasks
    ]


def csv_response(rows: Iterable[dict[str, Any]], columns: Sequence[str], filename: str) -> Response:
    """Rows as a CSV download (UTF-8 with a BOM, so that spreadsheets read Chinese right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
