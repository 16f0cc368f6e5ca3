"""The inbox (issue 5; R10–R13, R17): tasks in the store, kept in step with the insights.

One task per situation: (kind, key) is unique, so a sync never makes a task twice. A task is
open, snoozed, done, dismissed (the operator closed it) or resolved (the data closed it: the
question got answered, the newcomer left). A closed task is never made again for its key; a
resolved one is reopened if its situation comes back, and one an operator reopened by hand is
not resolved by the data again. Every change writes a task_event, with the user who made it
(None: the sync). Rules per kind: `shequn.ops.task_rules`; docs/inbox.md.
Access control is the web's job: these functions take the groups a caller may see.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Select, func, select, update

from shequn.errors import InputError, NotFound
from shequn.ops.task_rules import RULES
from shequn.ops.task_sync import sync_tasks, wake_snoozed, write_events
from shequn.store import schema as t

__all__ = [
    "ACTIONS",
    "STATUSES",
    "EventView",
    "TaskView",
    "act",
    "count_tasks",
    "describe",
    "feedback_read_counts",
    "get_task",
    "list_tasks",
    "open_counts",
    "sync_tasks",
    "task_history",
    "wake_snoozed",
]
log = logging.getLogger(__name__)

STATUSES = ("open", "snoozed", "done", "dismissed", "resolved")
# action -> (event written, status it leaves the task in; None: unchanged)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "done": ("done", "done"),
    "dismiss": ("dismissed", "dismissed"),
    "snooze": ("snoozed", "snoozed"),
    "reopen": ("reopened", "open"),
    "assign": ("assigned", None),
    "read": ("read", None),
    "note": ("note", None),
}


@dataclass(frozen=True)
class TaskView:
    """A task as pages and the API show it."""

    id: int
    kind: str
    key: str
    community_id: int | None
    community_name: str | None
    person_id: int | None
    account_id: int | None
    message_id: int | None
    detail: dict[str, Any]
    status: str
    snoozed_until: datetime | None
    assignee_id: int | None
    assignee_name: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class EventView:
    """One line of a task's history."""

    at: datetime
    user_id: int | None
    user_name: str | None  # None: done by the sync (the data)
    action: str
    detail: dict[str, Any]


# -- reading ------------------------------------------------------------------------------------


def _view_query() -> Select[Any]:
    task, c, u = t.task, t.community, t.app_user
    return (
        select(
            task,
            c.c.name.label("community_name"),
            func.coalesce(u.c.display_name, u.c.username).label("assignee_name"),
        )
        .outerjoin(c, c.c.id == task.c.community_id)
        .outerjoin(u, u.c.id == task.c.assignee_id)
    )


def _view(r: Any) -> TaskView:
    return TaskView(
        id=r.id,
        kind=r.kind,
        key=r.key,
        community_id=r.community_id,
        community_name=r.community_name,
        person_id=r.person_id,
        account_id=r.account_id,
        message_id=r.message_id,
        detail=json.loads(r.detail or "{}"),
        status=r.status,
        snoozed_until=r.snoozed_until,
        assignee_id=r.assignee_id,
        assignee_name=r.assignee_name,
        created_at=r.created_at,
        updated_at=r.updated_at,
        closed_at=r.closed_at,
    )


def _filters(
    q: Select[Any],
    groups: Collection[int] | None,
    status: Collection[str],
    kind: str | None,
    assignee_id: int | None = None,
) -> Select[Any]:
    bad = set(status) - set(STATUSES)
    if bad:
        raise InputError(
            f"unknown status {sorted(bad)} (one of {', '.join(STATUSES)})", field="status"
        )
    if kind is not None and kind not in RULES:
        raise InputError(f"unknown kind {kind!r} (one of {', '.join(RULES)})", field="kind")
    q = q.where(t.task.c.status.in_(list(status)))
    if groups is not None:
        q = q.where(t.task.c.community_id.in_(list(groups)))
    if kind is not None:
        q = q.where(t.task.c.kind == kind)
    if assignee_id is not None:
        q = q.where(t.task.c.assignee_id == assignee_id)
    return q


def list_tasks(
    store: Engine,
    *,
    groups: Collection[int] | None,
    status: Collection[str] = ("open",),
    kind: str | None = None,
    assignee_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[TaskView]:
    """Tasks of the given groups (None: all) and statuses, newest first."""
    q = _filters(_view_query(), groups, status, kind, assignee_id)
    q = q.order_by(t.task.c.created_at.desc(), t.task.c.id.desc()).limit(limit).offset(offset)
    with store.connect() as conn:
        return [_view(r) for r in conn.execute(q)]


def count_tasks(
    store: Engine,
    *,
    groups: Collection[int] | None,
    status: Collection[str] = ("open",),
    kind: str | None = None,
) -> int:
    """How many tasks `list_tasks` would list without a limit."""
    q = _filters(select(func.count()).select_from(t.task), groups, status, kind)
    with store.connect() as conn:
        return int(conn.execute(q).scalar_one())


def get_task(store: Engine, task_id: int) -> TaskView:
    """One task; NotFound when there is none with this id."""
    with store.connect() as conn:
        row = conn.execute(_view_query().where(t.task.c.id == task_id)).first()
    if row is None:
        raise NotFound(f"no task {task_id}")
    return _view(row)


def task_history(store: Engine, task_id: int) -> list[EventView]:
    """What happened to a task, oldest first; NotFound for an unknown task."""
    e, u = t.task_event, t.app_user
    q = (
        select(
            e.c.at,
            e.c.user_id,
            e.c.action,
            e.c.detail,
            func.coalesce(u.c.display_name, u.c.username).label("user_name"),
        )
        .outerjoin(u, u.c.id == e.c.user_id)
        .where(e.c.task_id == task_id)
        .order_by(e.c.at, e.c.id)
    )
    get_task(store, task_id)
    with store.connect() as conn:
        return [
            EventView(r.at, r.user_id, r.user_name, r.action, json.loads(r.detail or "{}"))
            for r in conn.execute(q)
        ]


def open_counts(store: Engine, *, groups: Collection[int] | None = None) -> dict[int, int]:
    """Open tasks per community (groups without open tasks are absent)."""
    q = select(t.task.c.community_id, func.count().label("n")).where(t.task.c.status == "open")
    if groups is not None:
        q = q.where(t.task.c.community_id.in_(list(groups)))
    q = q.where(t.task.c.community_id.is_not(None)).group_by(t.task.c.community_id)
    with store.connect() as conn:
        return {r.community_id: r.n for r in conn.execute(q)}


# -- acting on a task ---------------------------------------------------------------------------


def _action_values(
    action: str, *, until: datetime | None, assignee_id: int | None, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The task columns an action sets, and the detail of its event."""
    status = ACTIONS[action][1]
    if action == "snooze":
        if until is None:
            raise InputError("snoozing needs a time to wake the task", field="until")
        if until.tzinfo is None:
            raise InputError("give the time with its zone", field="until")
        if until <= now:
            raise InputError("must be in the future", field="until")
        return {"status": status, "snoozed_until": until, "closed_at": None}, {"until": until}
    if action == "assign":
        return {"assignee_id": assignee_id}, {"assignee_id": assignee_id}
    if status == "open":
        return {"status": status, "snoozed_until": None, "closed_at": None}, {}
    if status is not None:  # done, dismissed
        return {"status": status, "snoozed_until": None, "closed_at": now}, {}
    return {}, {}


def _check_user(conn: Any, user_id: int, field: str, *, active: bool = False) -> None:
    row = conn.execute(select(t.app_user.c.disabled).where(t.app_user.c.id == user_id)).first()
    if row is None or (active and row.disabled):
        raise InputError(f"no {'active ' if active else ''}user {user_id}", field=field)


def act(
    store: Engine,
    task_id: int,
    *,
    user_id: int,
    action: str,
    until: datetime | None = None,
    assignee_id: int | None = None,
    note: str | None = None,
) -> TaskView:
    """Do `action` on a task as `user_id` and record it: done, dismiss, snooze (needs `until` in
    the future), reopen, assign (`assignee_id`, None to unassign), read (a feedback item was
    opened; counts toward the monthly read count) or note (needs `note`). A note may come with
    any action. Returns the task as it is now."""
    if action not in ACTIONS:
        raise InputError(f"unknown action {action!r} (one of {', '.join(ACTIONS)})", field="action")
    if action == "note" and not (note or "").strip():
        raise InputError("a note needs its text", field="note")
    now = datetime.now(UTC)
    values, detail = _action_values(action, until=until, assignee_id=assignee_id, now=now)
    if note and note.strip():
        detail["note"] = note.strip()
    with store.begin() as conn:
        if conn.execute(select(t.task.c.id).where(t.task.c.id == task_id)).first() is None:
            raise NotFound(f"no task {task_id}")
        _check_user(conn, user_id, "user_id")
        if action == "assign" and assignee_id is not None:
            _check_user(conn, assignee_id, "assignee_id", active=True)
        if values:
            stmt = update(t.task).where(t.task.c.id == task_id)
            conn.execute(stmt.values(**values, updated_at=now))
        write_events(conn, [(task_id, ACTIONS[action][0], detail or None)], now, user_id)
    return get_task(store, task_id)


def feedback_read_counts(store: Engine, *, month: date) -> list[dict[str, Any]]:
    """Per user, the distinct feedback tasks they read or marked done in `month` (UTC): the
    1000/100/10 habit. Active users with none are listed with 0; most read first."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
    e, u = t.task_event, t.app_user
    reads = (
        select(e.c.user_id, func.count(func.distinct(e.c.task_id)).label("n"))
        .join(t.task, t.task.c.id == e.c.task_id)
        .where(t.task.c.kind == "feedback", e.c.action.in_(("read", "done")))
        .where(e.c.at >= start, e.c.at < end, e.c.user_id.is_not(None))
        .group_by(e.c.user_id)
    )
    with store.connect() as conn:
        counts = {r.user_id: int(r.n) for r in conn.execute(reads)}
        users = conn.execute(select(u.c.id, u.c.username, u.c.display_name, u.c.disabled)).all()
    out = [
        {
            "user_id": r.id,
            "username": r.username,
            "display_name": r.display_name,
            "read": counts.get(r.id, 0),
        }
        for r in users
        if not r.disabled or r.id in counts
    ]
    return sorted(out, key=lambda d: (-d["read"], d["username"]))


# -- titles -------------------------------------------------------------------------------------

OFFTOPIC_REASONS = {
    "red_packet": ("红包", "red packet"),
    "qr_code": ("二维码", "QR code"),
    "ad": ("广告", "advertising"),
    "outside_link": ("站外链接", "outside link"),
    "gossip": ("闲聊八卦", "gossip"),
}
FEEDBACK_LABELS = {
    "defect": ("缺陷", "defect"),
    "feature": ("需求", "feature request"),
    "complaint": ("抱怨", "complaint"),
    "praise": ("好评", "praise"),
}


def _pick(table: dict[str, tuple[str, str]], code: Any, zh: bool) -> str:
    pair = table.get(str(code), (str(code), str(code)))
    return pair[0] if zh else pair[1]


def _title(kind: str, d: dict[str, Any], zh: bool) -> str:
    name = d.get("name") or ("（未知）" if zh else "(unknown)")
    n = d.get("count", 0)
    if kind == "welcome":
        return f"欢迎新成员 {name}" if zh else f"Welcome new member {name}"
    if kind == "follow_up":
        removed = d.get("left_reason") == "remove"
        if zh:
            return f"回访{'被移出' if removed else '退群'}成员 {name}"
        return f"Follow up with {name}, who {'was removed' if removed else 'left'}"
    if kind == "answer":
        return f"回答 {name} 的提问" if zh else f"Answer {name}'s question"
    if kind == "nudge":
        return f"提醒 {n} 位渐冷/沉默成员" if zh else f"Nudge {n} quiet member{'s' * (n != 1)}"
    if kind == "prune":
        period = d.get("period", "")
        if zh:
            return f"确认 {period} 待清理名单：{n} 人"
        return f"Confirm the {period} prune list: {n} member{'s' * (n != 1)}"
    if kind == "offtopic":
        reason = _pick(OFFTOPIC_REASONS, d.get("reason"), zh)
        return (
            f"审核 {name} 的偏题消息：{reason}"
            if zh
            else f"Review {name}'s off-topic post: {reason}"
        )
    text = str(d.get("text", ""))
    text = text if len(text) <= 30 else text[:29] + "…"
    label, voices = _pick(FEEDBACK_LABELS, d.get("feedback"), zh), d.get("voices", 0)
    if zh:
        return f"反馈·{label}：「{text}」{voices} 条"
    return f"Feedback ({label}): “{text}”, {voices} voice{'s' * (voices != 1)}"


def describe(task: TaskView, lang: str) -> str:
    """A task's one-line title in Chinese ("zh") or English, e.g. 欢迎新成员 张三（AI 交流群）."""
    zh = lang.startswith("zh")
    title = _title(task.kind, task.detail, zh)
    group = task.community_name or task.detail.get("group")
    if not group:
        return title
    return f"{title}（{group}）" if zh else f"{title} ({group})"
