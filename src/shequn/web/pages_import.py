"""The import page: upload an export, watch it being imported, see what it added.

The form posts the file (multipart) and lands on the job's page, whose progress fragment htmx
polls every second until the job is over. Only admins and operators import; the history of
every import (the import_run table, CLI imports too) is listed below the form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from shequn.errors import InputError
from shequn.web import i18n
from shequn.web.api_imports import RUN_COLUMNS, run_rows
from shequn.web.auth import Store
from shequn.web.import_jobs import Importer, board, list_runs
from shequn.web.render import page as render
from shequn.web.views_inbox import CSV_LIMIT, PAGE, csv_response

router = APIRouter(include_in_schema=False)

COUNT_KEYS = (
    "messages_added",
    "messages_seen",
    "membership_events_added",
    "membership_events_seen",
    "accounts_added",
    "communities",
    "reactions_seen",
    "names_unmatched",
    "skipped",
)

i18n.add(
    {
        "import.title": ("导入聊天记录", "Import chat history"),
        "import.file": ("导出文件", "Export file"),
        "import.file_hint": (
            "任何 shequn import 支持的格式；导出的是文件夹时请先压缩成 zip。",
            "Any format `shequn import` reads; zip an export that is a folder.",
        ),
        "import.format": ("格式", "Format"),
        "import.auto": ("自动识别", "Detect it"),
        "import.tz": ("时区（时间不带时区的格式需要）", "Time zone (for formats without one)"),
        "import.skip_bad": (
            "跳过错误记录并列出（否则遇到错误整个文件不导入）",
            "Skip bad records and list them (else a bad record stops the whole file)",
        ),
        "import.submit": ("上传并导入", "Upload and import"),
        "import.jobs": ("本服务器上的导入任务", "Imports on this server"),
        "import.runs": ("导入记录", "Import history"),
        "import.job": ("导入任务", "Import"),
        "import.state.queued": ("排队中（一次只导入一个文件）", "Waiting (one import at a time)"),
        "import.state.running": ("导入中", "Importing"),
        "import.state.refreshing": (
            "导入完成，正在更新分析和待办",
            "Imported; updating the insights and the inbox",
        ),
        "import.state.ok": ("完成", "Done"),
        "import.state.failed": ("失败，未导入任何内容", "Failed; nothing was imported"),
        "import.detected": ("识别为", "Read as"),
        "import.read": ("已读取", "Read"),
        "import.added": ("新增内容", "What was added"),
        "import.already": (
            "这个文件以前导入过，没有新内容。",
            "This file was imported before; nothing new.",
        ),
        "import.skipped": ("跳过的错误记录", "Skipped bad records"),
        "import.warnings": ("提醒", "Warnings"),
        "import.refresh_failed": (
            "导入成功，但更新分析失败（可稍后运行 shequn refresh）：",
            "Imported, but updating the insights failed (run `shequn refresh` later):",
        ),
        "import.back": ("返回导入页", "Back to imports"),
        "import.source": ("来源", "Source"),
        "import.status": ("状态", "Status"),
        "import.started": ("开始", "Started"),
        "import.seconds": ("秒", "Seconds"),
        "import.error": ("错误", "Error"),
        "import.count.messages_added": ("新增消息", "New messages"),
        "import.count.messages_seen": ("读取消息", "Messages read"),
        "import.count.membership_events_added": ("新增入群/退群事件", "New join/leave events"),
        "import.count.membership_events_seen": ("读取入群/退群事件", "Join/leave events read"),
        "import.count.accounts_added": ("新增账号", "New accounts"),
        "import.count.communities": ("群", "Groups"),
        "import.count.reactions_seen": ("读取表情回应", "Reactions read"),
        "import.count.names_unmatched": ("未匹配的名字", "Names not matched"),
        "import.count.skipped": ("跳过的记录", "Records skipped"),
    }
)


def _formats() -> list[tuple[str, str]]:
    from shequn.platforms.base import parsers

    return [(name, p.title) for name, p in sorted(parsers().items())]


def _imports_page(
    request: Request, store: Store, user: Importer, *, page_no: int, error: str | None = None
) -> Response:
    runs = list_runs(store, limit=PAGE + 1, offset=(page_no - 1) * PAGE)
    return render(
        request,
        user,
        "import.html.j2",
        status_code=400 if error else 200,
        active="import",
        formats=_formats(),
        jobs=[j.public() for j in board(request.app).jobs()],
        runs=runs[:PAGE],
        page_no=page_no,
        has_more=len(runs) > PAGE,
        error=error,
        count_keys=COUNT_KEYS,
    )


@router.get("/imports")
def imports(
    request: Request, store: Store, user: Importer, page: int = 1, format: str = "html"
) -> Response:
    """The upload form, this server's import jobs and the import history (CSV: ?format=csv)."""
    if format == "csv":
        return csv_response(run_rows(list_runs(store, limit=CSV_LIMIT)), RUN_COLUMNS, "imports.csv")
    return _imports_page(request, store, user, page_no=max(1, page))


@router.post("/imports")
def upload(
    request: Request,
    store: Store,
    user: Importer,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "auto",
    timezone: Annotated[str, Form()] = "",
    skip_bad: Annotated[bool, Form()] = False,
) -> Response:
    """Save the upload, start its import, and go to the job's page."""
    try:
        job = board(request.app).start(
            file.file,
            filename=file.filename,
            user_id=user.id,
            fmt=format,
            tz=timezone,
            skip_bad=skip_bad,
        )
    except InputError as exc:
        return _imports_page(request, store, user, page_no=1, error=exc.describe())
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


def _job(request: Request, job_id: str) -> dict[str, Any]:
    return board(request.app).get(job_id).public()


@router.get("/imports/{job_id}")
def job_page(request: Request, user: Importer, job_id: str) -> Response:
    """One import: its progress (polled) and, when over, what it added or why it failed."""
    job = _job(request, job_id)
    return render(
        request, user, "import_job.html.j2", active="import", job=job, count_keys=COUNT_KEYS
    )


@router.get("/imports/{job_id}/progress")
def job_progress(request: Request, user: Importer, job_id: str) -> Response:
    """The progress fragment; it stops asking once the job is over."""
    job = _job(request, job_id)
    return render(request, user, "import_progress.html.j2", job=job, count_keys=COUNT_KEYS)
