"""`/api/v1/imports`: upload an export, follow its import, list past imports (admins, operators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from shequn.web.auth import Store
from shequn.web.import_jobs import Importer, board, count_runs, list_runs
from shequn.web.views_inbox import PAGE, csv_response

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
RUN_COLUMNS = (
    "id",
    "source",
    "format",
    "timezone",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "counts",
    "error",
)


class ImportJobPublic(BaseModel):
    """An import started from the workspace and where it is."""

    id: str
    filename: str
    format: str
    format_title: str | None
    timezone: str | None
    skip_bad: bool
    state: str  # queued / running / refreshing / ok / failed
    progress: float
    total_bytes: int
    done_bytes: int
    run_id: int | None
    counts: dict[str, int]
    skipped: list[str]
    warnings: list[str]
    error: str | None
    refresh_error: str | None
    already_imported: bool
    created_at: datetime
    finished_at: datetime | None


class ImportRunPublic(BaseModel):
    """One past import (CLI or workspace) from the import_run table."""

    id: int
    source: str
    format: str | None
    timezone: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    duration_s: float | None
    counts: dict[str, int]
    error: str | None


class ImportList(BaseModel):
    jobs: list[ImportJobPublic]
    runs: list[ImportRunPublic]
    page: int
    has_more: bool
    total_runs: int


def run_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r.get(k) for k in RUN_COLUMNS} for r in runs]


@router.post(
    "",
    status_code=202,
    response_model=ImportJobPublic,
    summary="Upload an export and import it in the background / 上传导出文件并在后台导入",
)
def upload(
    request: Request,
    user: Importer,
    file: Annotated[UploadFile, File()],
    format: Annotated[str, Form()] = "auto",
    timezone: Annotated[str, Form()] = "",
    skip_bad: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Multipart: `file`, `format` (auto or a reader name), `timezone`, `skip_bad`."""
    job = board(request.app).start(
        file.file,
        filename=file.filename,
        user_id=user.id,
        fmt=format,
        tz=timezone,
        skip_bad=skip_bad,
    )
    return job.public()


@router.get(
    "",
    response_model=ImportList,
    summary="Import jobs of this server and past import runs / 导入任务与导入记录",
)
def imports(
    request: Request, store: Store, user: Importer, page: int = 1, format: str = "json"
) -> Any:
    """`?format=csv` exports the import runs (all of them, newest first)."""
    if format == "csv":
        rows = run_rows(list_runs(store, limit=10_000))
        return csv_response(rows, RUN_COLUMNS, "imports.csv")
    page = max(1, page)
    runs = list_runs(store, limit=PAGE + 1, offset=(page - 1) * PAGE)
    return {
        "jobs": [j.public() for j in board(request.app).jobs()],
        "runs": run_rows(runs[:PAGE]),
        "page": page,
        "has_more": len(runs) > PAGE,
        "total_runs": count_runs(store),
    }


@router.get(
    "/{job_id}",
    response_model=ImportJobPublic,
    summary="Progress and result of one import job / 单个导入任务的进度与结果",
)
def import_job(request: Request, user: Importer, job_id: str) -> Response | dict[str, Any]:
    return board(request.app).get(job_id).public()
