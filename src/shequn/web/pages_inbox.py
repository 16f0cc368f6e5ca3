"""The inbox page: tasks to work through, each opened in place, acted on with htmx.

An action posts a form; an htmx request gets the task's row back to swap in (a bad snooze date
comes back in the row as a message), a plain form post is sent back to the inbox. Opening a
feedback task counts it as read for the monthly 10/100/1000 habit (see views_inbox).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.web import i18n
from shequn.web.auth import CurrentUser, Store
from shequn.web.render import page as render
from shequn.web.render import request_lang
from shequn.web.views_inbox import (
    CSV_LIMIT,
    KINDS,
    STATUS_CHOICES,
    TASK_COLUMNS,
    csv_response,
    feedback_reads,
    group_options,
    open_task,
    parse_month,
    parse_query,
    perform,
    task_csv_rows,
    task_list,
    task_row,
    task_total,
    visible_task,
)

router = APIRouter(include_in_schema=False)

i18n.add(
    {
        "inbox.title": ("待办", "Inbox"),
        "inbox.kind": ("类型", "Kind"),
        "inbox.status": ("状态", "Status"),
        "inbox.mine": ("只看分配给我的", "Only mine"),
        "inbox.empty": ("没有符合条件的待办。", "No tasks match."),
        "inbox.total": ("共 {n} 项", "{n} tasks"),
        "inbox.kind.welcome": ("欢迎新人", "Welcome"),
        "inbox.kind.follow_up": ("回访退群", "Follow up"),
        "inbox.kind.answer": ("回答提问", "Answer"),
        "inbox.kind.nudge": ("提醒沉默", "Nudge"),
        "inbox.kind.prune": ("确认清理", "Prune"),
        "inbox.kind.offtopic": ("偏题审核", "Off-topic"),
        "inbox.kind.feedback": ("用户反馈", "Feedback"),
        "inbox.status.open": ("待处理", "open"),
        "inbox.status.snoozed": ("已延后", "snoozed"),
        "inbox.status.done": ("已完成", "done"),
        "inbox.status.dismissed": ("已忽略", "dismissed"),
        "inbox.status.resolved": ("已自动解决", "resolved"),
        "inbox.status.all": ("全部", "all"),
        "inbox.do.done": ("完成", "Done"),
        "inbox.do.dismiss": ("忽略", "Dismiss"),
        "inbox.do.snooze": ("延后到", "Snooze until"),
        "inbox.do.reopen": ("重新打开", "Reopen"),
        "inbox.do.assign": ("分配", "Assign"),
        "inbox.do.assign_me": ("分配给我", "Take it"),
        "inbox.do.unassign": ("取消分配", "Unassign"),
        "inbox.do.note": ("添加备注", "Add a note"),
        "inbox.assignee": ("负责人", "Assignee"),
        "inbox.nobody": ("未分配", "unassigned"),
        "inbox.created": ("创建于", "Created"),
        "inbox.until": ("延后至", "until"),
        "inbox.details": ("详情与历史", "Details and history"),
        "inbox.history": ("历史", "History"),
        "inbox.by_data": ("系统（数据变化）", "the data (sync)"),
        "inbox.member": ("成员主页", "Member page"),
        "inbox.members": ("成员", "Members"),
        "inbox.joined": ("入群时间", "Joined"),
        "inbox.how": ("入群方式", "How"),
        "inbox.inviter": ("邀请人", "Invited by"),
        "inbox.left": ("退群日期", "Left"),
        "inbox.days_in": ("在群天数", "Days in the group"),
        "inbox.messages": ("发言数", "Messages"),
        "inbox.last_active": ("最后活跃", "Last active"),
        "inbox.last_said": ("最后说的话", "Last said"),
        "inbox.question": ("提问", "Question"),
        "inbox.conversation": ("上下文对话", "The conversation"),
        "inbox.reason": ("原因", "Reason"),
        "inbox.days_quiet": ("沉默天数", "Days quiet"),
        "inbox.voices": ("{n} 条反馈，来自 {p} 人", "{n} voices from {p} people"),
        "inbox.voices_shown": ("最新的反馈", "The newest voices"),
        "inbox.people": ("反馈的人", "The people behind them"),
        "inbox.reads": ("本月已读反馈", "Feedback read this month"),
        "inbox.reads_habit": (
            "10/100/1000 法则：每月看 1000 条用户反馈。打开一条反馈即计为已读。",
            "The 10/100/1000 habit: read 1000 pieces of feedback a month. Opening one counts.",
        ),
        "inbox.user": ("用户", "User"),
        "inbox.read": ("已读", "Read"),
        "inbox.readonly": (
            "只读账号：可以查看，不能处理。",
            "Read-only account: you can look, not act.",
        ),
        "inbox.note": ("备注", "Note"),
        "inbox.at": ("时间", "When"),
        "inbox.who": ("谁", "Who"),
        "inbox.action": ("操作", "Action"),
        "inbox.ev.created": ("创建", "created"),
        "inbox.ev.assigned": ("分配", "assigned"),
        "inbox.ev.done": ("完成", "done"),
        "inbox.ev.snoozed": ("延后", "snoozed"),
        "inbox.ev.dismissed": ("忽略", "dismissed"),
        "inbox.ev.reopened": ("重新打开", "reopened"),
        "inbox.ev.resolved": ("自动解决", "resolved"),
        "inbox.ev.read": ("已读", "read"),
        "inbox.ev.note": ("备注", "note"),
        "inbox.ev.updated": ("更新", "updated"),
    }
)


def _filters_context(store: Store, user: CurrentUser) -> dict[str, Any]:
    return {"kinds": KINDS, "statuses": STATUS_CHOICES, "groups": group_options(store, user)}


@router.get("/inbox")
def inbox(
    request: Request,
    store: Store,
    user: CurrentUser,
    kind: str = "",
    status: str = "open",
    group: str = "",
    mine: str = "",
    page: int = 1,
    format: str = "html",
) -> Response:
    """The task list with filters, pages of 50, CSV export, and the monthly feedback reads."""
    q = parse_query(kind=kind, status=status, group=group, mine=mine, page=page)
    lang = request_lang(request, user)
    if format == "csv":
        rows, _ = task_list(store, user, q, lang=lang, limit=CSV_LIMIT)
        return csv_response(task_csv_rows(rows), TASK_COLUMNS, "tasks.csv")
    rows, has_more = task_list(store, user, q, lang=lang)
    month = parse_month(None)
    return render(
        request,
        user,
        "inbox.html.j2",
        active="inbox",
        q=q,
        tasks=rows,
        has_more=has_more,
        total=task_total(store, user, q),
        reads=feedback_reads(store, month),
        month=f"{month:%Y-%m}",
        **_filters_context(store, user),
    )


@router.get("/inbox/{task_id}")
def task_page(request: Request, store: Store, user: CurrentUser, task_id: int) -> Response:
    """One task on its own page, opened (details, history, actions)."""
    opened = open_task(store, user, task_id, lang=request_lang(request, user))
    return render(request, user, "inbox_task.html.j2", active="inbox", **opened)


@router.get("/inbox/{task_id}/detail")
def task_detail(request: Request, store: Store, user: CurrentUser, task_id: int) -> Response:
    """The details and history of a task, loaded into its row when it is expanded."""
    opened = open_task(store, user, task_id, lang=request_lang(request, user))
    return render(request, user, "inbox_detail.html.j2", **opened)


@router.post("/inbox/{task_id}/{action}")
def task_action(
    request: Request,
    store: Store,
    user: CurrentUser,
    task_id: int,
    action: str,
    until: Annotated[str | None, Form()] = None,
    assignee_id: Annotated[str | None, Form()] = None,
    note: Annotated[str | None, Form()] = None,
    next: Annotated[str, Form()] = "/inbox",
) -> Response:
    """Done, dismiss, snooze, reopen, assign, note: the row comes back (htmx) or the inbox."""
    htmx = request.headers.get("hx-request") == "true"
    lang = request_lang(request, user)
    try:
        task = perform(
            store,
            user,
            task_id,
            action=action,
            until=until,
            assignee_id=_assignee(assignee_id),
            note=note,
        )
    except InputError as exc:
        if not htmx:
            raise
        row = task_row(visible_task(store, user, task_id), lang)
        return render(request, user, "inbox_row.html.j2", task=row, error=str(exc))
    if not htmx:
        target = next if next.startswith("/") and not next.startswith("//") else "/inbox"
        return RedirectResponse(target, status_code=303)
    return render(request, user, "inbox_row.html.j2", task=task_row(task, lang), error=None)


def _assignee(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InputError(f"not a user id: {value!r}", field="assignee_id") from exc
