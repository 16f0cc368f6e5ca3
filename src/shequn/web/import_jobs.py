"""Imports started from the workspace: the upload is saved, then imported in the background.

The upload is copied in 1 MB chunks to `data_dir/uploads/<job id>/<its own name>` (the name is
kept: some readers take the group's name from it), then one thread per job imports it with
`shequn.importing.import_path` and, when something was added, brings the insights and the inbox
up to date with `shequn.workspace.refresh_workspace`. Jobs run one at a time per server process:
a second upload waits ("queued") until the first is done, since SQLite takes one writer at a time
and two big imports side by side would only slow each other down.

Job state (queued → running → refreshing → ok | failed, bytes read, counts, skipped records, the
error naming file/line/field) lives in memory, keyed by job id; the history of every import is
the `import_run` table. The uploaded file is deleted once its job is over.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from fastapi import Depends, FastAPI
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import OperationalError

from shequn.errors import InputError, NotFound, PermissionDenied, ShequnError
from shequn.store import schema as t
from shequn.store.users import User
from shequn.web.auth import CurrentUser

log = logging.getLogger(__name__)
CHUNK = 1 << 20
KEEP_JOBS = 50  # finished jobs remembered in memory (the import_run table keeps them all)
IMPORTER_ROLES = ("admin", "operator")
FINISHED = ("ok", "failed")
INDEX_TRIES = 4
INDEX_LATER = (
    "search index not updated yet (store busy); the next import completes it / "
    "搜索索引暂未更新（数据库繁忙），下次导入时补上"
)
Refresh = Callable[[Engine], object]


def require_importer(user: CurrentUser) -> User:
    """Only admins and operators import (an import touches every group)."""
    if user.role not in IMPORTER_ROLES:
        raise PermissionDenied("only administrators and operators import / 仅管理员和运营可导入")
    return user


Importer = Annotated[User, Depends(require_importer)]


@dataclass
class ImportJob:
    """One upload being imported; `state` is queued, running, refreshing, ok or failed."""

    id: str
    filename: str
    user_id: int
    fmt: str
    tz: str | None
    skip_bad: bool
    created_at: datetime
    state: str = "queued"
    format_title: str | None = None
    total_bytes: int = 0
    done_bytes: int = 0
    run_id: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    refresh_error: str | None = None
    already_imported: bool = False
    finished_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @property
    def progress(self) -> float:
        """Share of the file read, 0..1 (1 once the job is over)."""
        if self.finished:
            return 1.0
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else 0.0

    def public(self) -> dict[str, Any]:
        """The job as JSON-able values (API and templates)."""
        return {
            "id": self.id,
            "filename": self.filename,
            "format": self.fmt,
            "format_title": self.format_title,
            "timezone": self.tz,
            "skip_bad": self.skip_bad,
            "state": self.state,
            "progress": round(self.progress, 4),
            "total_bytes": self.total_bytes,
            "done_bytes": self.done_bytes,
            "run_id": self.run_id,
            "counts": dict(self.counts),
            "skipped": list(self.skipped),
            "warnings": list(self.warnings),
            "error": self.error,
            "refresh_error": self.refresh_error,
            "already_imported": self.already_imported,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }


def safe_name(filename: str | None) -> str:
    """The upload's own file name without any folder part or control characters."""
    name = Path((filename or "").replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    if name in ("", ".", ".."):
        return "upload"
    if len(name) > 200:
        suffix = "".join(Path(name).suffixes[-2:])[-20:]
        name = name[: 200 - len(suffix)] + suffix
    return name


def check_options(fmt: str, tz: str | None) -> tuple[str, str | None]:
    """The format (auto or a known reader) and zone (Area/City or empty), else InputError."""
    from shequn.platforms.base import parsers

    fmt = (fmt or "auto").strip()
    if fmt != "auto" and fmt not in parsers():
        raise InputError(f"unknown format {fmt!r} / 未知格式", field="format")
    zone = (tz or "").strip() or None
    if zone is not None:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InputError(
                f"unknown time zone {zone!r}: use an Area/City name such as Asia/Shanghai "
                "/ 未知时区，请用 Asia/Shanghai 这样的名称",
                field="timezone",
            ) from exc
    return fmt, zone


class ImportJobs:
    """The import jobs of one workspace (one per app; `board(app)` finds or makes it)."""

    def __init__(
        self, store: Engine, *, uploads: Path | None = None, refresh: Refresh | None = None
    ) -> None:
        self.store = store
        self.uploads = uploads
        self.refresh = refresh
        self._jobs: dict[str, ImportJob] = {}
        self._lock = threading.Lock()  # guards _jobs and the fields of every job
        self._one_at_a_time = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}

    def _upload_root(self) -> Path:
        if self.uploads is None:
            from shequn.config import get_settings

            return get_settings().data_dir / "uploads"
        return self.uploads

    def start(
        self,
        upload: BinaryIO,
        *,
        filename: str | None,
        user_id: int,
        fmt: str = "auto",
        tz: str | None = None,
        skip_bad: bool = False,
    ) -> ImportJob:
        """Save the upload (bounded memory) and queue its import; returns the job at once."""
        fmt, zone = check_options(fmt, tz)
        job_id = secrets.token_hex(8)
        folder = self._upload_root() / job_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / safe_name(filename)
        try:
            with path.open("wb") as out:
                shutil.copyfileobj(upload, out, CHUNK)
            if path.stat().st_size == 0:
                raise InputError("the file is empty / 文件为空", field="file")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        job = ImportJob(
            job_id, path.name, user_id, fmt, zone, skip_bad, created_at=datetime.now(UTC)
        )
        with self._lock:
            self._jobs[job_id] = job
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(job, path), name=f"shequn-import-{job_id}", daemon=True
        )
        self._threads[job_id] = thread
        thread.start()
        return self.get(job_id)

    def get(self, job_id: str) -> ImportJob:
        """A copy of the job as it is now; NotFound for an unknown (or forgotten) id."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(f"no import job {job_id} / 没有这个导入任务")
            return replace(
                job, counts=dict(job.counts), skipped=list(job.skipped), warnings=list(job.warnings)
            )

    def jobs(self) -> list[ImportJob]:
        """Every remembered job, newest first."""
        with self._lock:
            ids = sorted(self._jobs, key=lambda j: self._jobs[j].created_at, reverse=True)
        return [self.get(i) for i in ids]

    def wait(self, job_id: str, timeout: float = 120.0) -> ImportJob:
        """Block until the job is over (tests and scripts); returns it."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)
        return self.get(job_id)

    def _forget_old(self) -> None:
        done = [j for j in self._jobs.values() if j.finished]
        done.sort(key=lambda j: j.created_at)
        for job in done[: max(0, len(done) - KEEP_JOBS)]:
            del self._jobs[job.id]
            self._threads.pop(job.id, None)

    def _set(self, job: ImportJob, **values: Any) -> None:
        with self._lock:
            for key, value in values.items():
                setattr(job, key, value)

    def _run(self, job: ImportJob, path: Path) -> None:
        try:
            with self._one_at_a_time:
                self._set(job, state="running")
                self._import(job, path)
                if job.state == "refreshing":
                    self._refresh(job)
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)
            end: dict[str, Any] = {"finished_at": datetime.now(UTC)}
            if job.state == "refreshing":
                end["state"] = "ok"
            elif job.state not in FINISHED:  # interrupted by something not caught below
                end.update(state="failed", error=job.error or "interrupted / 已中断")
            self._set(job, **end)

    def _import(self, job: ImportJob, path: Path) -> None:
        from shequn.importing import import_path

        def on_start(title: str, total: int) -> None:
            self._set(job, format_title=title, total_bytes=total)

        def on_progress(n: int) -> None:
            self._set(job, done_bytes=job.done_bytes + n)

        try:
            report = import_path(
                self.store,
                path,
                fmt=job.fmt,
                tz=job.tz,
                skip_bad=job.skip_bad,
                index=False,  # indexed below, where a busy store is retried
                on_start=on_start,
                on_progress=on_progress,
            )
        except InputError as exc:
            self._fail(job, path, exc.describe())
            return
        except ShequnError as exc:
            self._fail(job, path, str(exc))
            return
        except Exception as exc:  # a bug in a reader: the job says so, the log has the trace
            log.exception("import job %s failed", job.id)
            self._fail(job, path, f"internal error / 内部错误: {type(exc).__name__}")
            return
        skipped = [_clean(e.describe(), path) for e in report.skipped]
        warnings = [_clean(w, path) for w in report.warnings]
        if not report.already_imported:
            _relabel_run(self.store, path, job.filename)
            warnings += self._index(job.id)
        self._set(
            job,
            run_id=report.run_id,
            format_title=report.format_title,
            counts=dict(report.counts),
            skipped=skipped,
            warnings=warnings,
            already_imported=report.already_imported,
            state="ok" if report.already_imported or self.refresh is None else "refreshing",
        )

    def _index(self, job_id: str) -> list[str]:
        """Index the new messages for search. The import has committed by now; a store busy
        with other writers is retried, and if it stays busy the next import indexes them."""
        from shequn.store.search import index_pending

        for attempt in range(INDEX_TRIES):
            try:
                index_pending(self.store)
                return []
            except OperationalError:
                log.warning("search index for import job %s: store busy", job_id)
                time.sleep(0.5 * 2**attempt)
        return [INDEX_LATER]

    def _fail(self, job: ImportJob, path: Path, message: str) -> None:
        run_id = _relabel_run(self.store, path, job.filename)
        self._set(job, state="failed", error=_clean(message, path), run_id=run_id)

    def _refresh(self, job: ImportJob) -> None:
        assert self.refresh is not None
        try:
            self.refresh(self.store)
        except Exception as exc:  # the import stands; the insights stay as they were
            log.exception("refresh after import job %s failed", job.id)
            self._set(job, refresh_error=f"{type(exc).__name__}: {exc}")


def _clean(message: str, path: Path) -> str:
    """A message about the upload names the file as the user called it, not where it was saved."""
    return message.replace(str(path), path.name).replace(str(path.parent) + "/", "")


def _relabel_run(store: Engine, path: Path, filename: str) -> int | None:
    """Name the import_run of this upload after the uploaded file (not the server's temp path)."""
    r = t.import_run.c
    with store.begin() as conn:
        row = conn.execute(select(r.id, r.error).where(r.source == str(path))).first()
        if row is None:
            return None
        error = _clean(row.error, path) if row.error else None
        conn.execute(
            update(t.import_run)
            .where(r.id == row.id)
            .values(source=f"upload: {filename}", error=error)
        )
        return int(row.id)


def list_runs(store: Engine, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Past import runs (the import_run table), newest first, counts as a dict."""
    r = t.import_run
    q = select(r).order_by(r.c.id.desc()).limit(limit).offset(offset)
    with store.connect() as conn:
        rows = conn.execute(q).mappings().all()
    return [{**dict(x), "counts": orjson.loads(x["counts"]) if x["counts"] else {}} for x in rows]


def count_runs(store: Engine) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.import_run)).scalar_one())


_board_lock = threading.Lock()


def board(app: FastAPI) -> ImportJobs:
    """The app's import jobs, made on first use (refreshing the workspace after each import)."""
    with _board_lock:
        jobs = getattr(app.state, "import_jobs", None)
        if jobs is None:
            from shequn.workspace import refresh_workspace

            jobs = ImportJobs(app.state.store, refresh=refresh_workspace)
            app.state.import_jobs = jobs
        return jobs
