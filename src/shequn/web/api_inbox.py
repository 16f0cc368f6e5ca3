"""`/api/v1/tasks`: the inbox as JSON (and CSV) — list, one task, actions, feedback read counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from shequn.web.auth import Actor, CurrentUser, Store
from shequn.web.views_inbox import (
    CSV_LIMIT,
    TASK_COLUMNS,
    csv_response,
    feedback_reads,
    open_task,
    parse_month,
    parse_query,
    perform,
    task_csv_rows,
    task_list,
    task_row,
    task_total,
)

router = APIRouter(prefix="/api/v1/tasks", tags=["inbox"])


class TaskPublic(BaseModel):
    """One inbox task; `title` is its one-line description in the user's language."""

    id: int
    kind: str
    key: str
    title: str
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


class TaskPage(BaseModel):
    tasks: list[TaskPublic]
    page: int
    has_more: bool
    total: int | None  # None when filtered to "mine"


class TaskEvent(BaseModel):
    at: datetime
    user_id: int | None
    user_name: str | None  # None: the sync (the data changed)
    action: str
    detail: dict[str, Any]


class Assignee(BaseModel):
    id: int
    name: str


class TaskDetail(BaseModel):
    task: TaskPublic
    history: list[TaskEvent]
    voices: list[dict[str, Any]]  # feedback: message id, sent_at, text, display_name, person_id
    conversation: list[dict[str, Any]]  # answer: the question in its conversation
    assignees: list[Assignee]


class TaskAction(BaseModel):
    """`until`: a date (YYYY-MM-DD, the start of that day in your zone) or an ISO date-time."""

    until: str | None = None
    assignee_id: int | None = None
    note: str | None = None


class ReadCount(BaseModel):
    user_id: int
    username: str
    display_name: str | None
    read: int
    goal: int
    share: float


class FeedbackReads(BaseModel):
    month: str
    users: list[ReadCount]


@router.get(
    "",
    response_model=TaskPage,
    summary="Inbox tasks, filtered and paged (50 a page) / 待办列表（筛选、分页）",
)
def tasks(
    store: Store,
    user: CurrentUser,
    kind: str | None = None,
    status: str = "open",
    group: int | None = None,
    mine: bool = False,
    page: int = 1,
    format: str = "json",
) -> Any:
    """Filters: kind, status (open, snoozed, done, dismissed, resolved, all), group, mine.
    `?format=csv` exports every matching task (up to 10,000)."""
    q = parse_query(kind=kind, status=status, group=group, mine=mine, page=page)
    if format == "csv":
        rows, _ = task_list(store, user, q, lang=user.lang, limit=CSV_LIMIT)
        return csv_response(task_csv_rows(rows), TASK_COLUMNS, "tasks.csv")
    rows, has_more = task_list(store, user, q, lang=user.lang)
    total = task_total(store, user, q)
    return {"tasks": rows, "page": q.page, "has_more": has_more, "total": total}


@router.get(
    "/feedback-read",
    response_model=FeedbackReads,
    summary="Feedback read per user in a month (the 1000/100/10 habit) / 每人每月已读反馈数",
)
def feedback_read(store: Store, user: CurrentUser, month: str | None = None) -> dict[str, Any]:
    first = parse_month(month)
    return {"month": f"{first:%Y-%m}", "users": feedback_reads(store, first)}


@router.get(
    "/{task_id}",
    response_model=TaskDetail,
    summary="One task with its details and history / 单个待办的详情与历史",
)
def task(store: Store, user: CurrentUser, task_id: int) -> dict[str, Any]:
    """Reading a feedback task here does not count it as read: POST …/read does."""
    return open_task(store, user, task_id, lang=user.lang, record_read=False)


@router.post(
    "/{task_id}/{action}",
    response_model=TaskPublic,
    summary="Act on a task: done, dismiss, snooze, reopen, assign, read, note / 处理待办",
)
def task_action(
    store: Store, user: Actor, task_id: int, action: str, body: TaskAction | None = None
) -> dict[str, Any]:
    given = body or TaskAction()
    done = perform(
        store,
        user,
        task_id,
        action=action,
        until=given.until,
        assignee_id=given.assignee_id,
        note=given.note,
    )
    return task_row(done, user.lang)
