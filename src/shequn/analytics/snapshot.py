"""The insights snapshot: every metric computed once per refresh, kept as Parquet files.

On a 10M-message program the whole registry takes about 90 s, far too long for a page. A refresh
writes each metric's table (plus tables other parts hand in) to a new generation folder and then
switches a CURRENT pointer file atomically; pages read the current generation through an in-memory
DuckDB in milliseconds. A reader keeps its generation (a shared file lock tells the cleaner it is
in use), so a refresh never pulls files from under an open page. See docs/snapshot.md.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine

from shequn.analytics.engines import AnalyticsEngine
from shequn.analytics.registry import Metric, all_metrics
from shequn.config import get_settings
from shequn.errors import InputError, NotFound

try:  # POSIX: advisory locks; elsewhere only the previous generation is kept for open readers
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
META = "meta.json"
IN_USE = ".in-use"  # readers hold a shared lock on it; the cleaner needs an exclusive one
WRITER = ".writer.lock"  # one refresh at a time per snapshot folder
ROW_GROUP = 122_880  # DuckDB's own row group size; measured fastest for one group's page
ROW_NUMBER = "file_row_number"  # added by read_parquet: the stored order, a paging tie-break
GROUP = "community_id"
WHY = ("why_zh", "why_en")
LANGS = ("zh", "en")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_GEN = re.compile(r"^gen-(\d+)$")


def snapshot_dir(store: Engine) -> Path:
    """`/x/shequn.db` → `/x/shequn.insights/`; PostgreSQL, in-memory → data_dir/insights/<hash>."""
    url = store.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        db = Path(str(url.database))
        return db.with_name(db.stem + ".insights")
    # URL.set(password=None) keeps the password; the namedtuple's own _replace drops it
    plain = url._replace(password=None).render_as_string(hide_password=False)
    digest = hashlib.sha256(plain.encode()).hexdigest()[:12]
    return get_settings().data_dir / "insights" / digest


# -- writing ------------------------------------------------------------------------------


def _flock(handle: IO[str], mode: int) -> bool:
    """Take an flock; False when a non-blocking one is refused (and True where none exist)."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(handle.fileno(), mode)
    except BlockingIOError:
        return False
    return True


class _Generation:
    """A new generation folder being filled; `commit` makes it the current one."""

    def __init__(self, root: Path) -> None:
        self.root = root  # the caller holds the writer lock: the next number is free
        self.path = root / f"gen-{max(_generations(root), default=0) + 1}"
        self.path.mkdir()
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        """<name>.parquet, clustered by community_id so a group's page skips the others."""
        if not _NAME.match(name):
            raise InputError("a table name is lower-case letters, digits and _", field=name)
        if name in self.rows:
            raise InputError("table given twice", field=name)
        if ROW_NUMBER in table.column_names:
            raise InputError(f"column name {ROW_NUMBER!r} is reserved", field=name)
        table = _clustered(table)
        pq.write_table(table, self.path / f"{name}.parquet", row_group_size=ROW_GROUP)
        self.rows[name] = table.num_rows

    def commit(self, meta: Mapping[str, Any]) -> Path:
        """meta.json, then the atomic switch of CURRENT, then cleaning of unused generations."""
        text = json.dumps(_checked_meta(meta), ensure_ascii=False, indent=1, default=str)
        (self.path / META).write_text(text, encoding="utf-8")
        (self.path / IN_USE).touch()
        pointer = self.root / f".{CURRENT}.{os.getpid()}.tmp"
        pointer.write_text(self.path.name, encoding="utf-8")
        os.replace(pointer, self.root / CURRENT)
        log.info("insights snapshot %s: %d tables", self.path, len(self.rows))
        _clean(self.root, current=self.path.name)
        return self.path


def _clustered(table: pa.Table) -> pa.Table:
    """Stable sort by community_id (order within a group kept); unchanged when already so."""
    if GROUP not in table.column_names or table.num_rows < 2:
        return table
    ids = table.column(GROUP)
    if ids.null_count == 0 and pc.all(pc.greater_equal(ids[1:], ids[:-1])).as_py():
        return table
    return table.take(pc.sort_indices(table, sort_keys=[(GROUP, "ascending")]))


def _checked_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The meta as stored: generated_at defaults to now; since and until are required days."""
    out = dict(meta)
    out.setdefault("generated_at", datetime.now(UTC).isoformat())
    for key in ("since", "until"):
        if key not in out:
            raise InputError("the snapshot meta needs since and until", field=f"meta.{key}")
        out[key] = str(out[key])
        date.fromisoformat(out[key])
    return out


def _generations(root: Path) -> dict[int, Path]:
    found = (_GEN.match(p.name) for p in root.iterdir()) if root.is_dir() else iter(())
    return {int(m.group(1)): root / m.group(0) for m in found if m}


def _clean(root: Path, *, current: str) -> None:
    """Delete every generation but the current and the one before it, unless a reader holds it."""
    gens = _generations(root)
    now = int(current.split("-")[1])
    # the one before is the newest committed one (a refresh killed midway leaves no meta.json)
    keep = {now, max((n for n, p in gens.items() if n < now and (p / META).exists()), default=0)}
    for number, path in sorted(gens.items()):
        if number not in keep:
            _remove_unused(path)


def _remove_unused(path: Path) -> None:
    try:
        handle = (path / IN_USE).open("a")
    except FileNotFoundError:  # never committed (a crashed refresh): nobody can be reading it
        shutil.rmtree(path, ignore_errors=True)
        return
    with handle:
        if not _flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB if fcntl else 0):
            log.debug("insights %s still read; kept", path.name)
            return
        # renamed while locked, so a reader that opened the lock file just now sees it gone
        trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
        path.rename(trash)
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def _writing(store: Engine) -> Iterator[_Generation]:
    """A new generation under the writer lock; removed again when the refresh fails."""
    root = snapshot_dir(store)
    root.mkdir(parents=True, exist_ok=True)
    with (root / WRITER).open("a") as lock:
        _flock(lock, fcntl.LOCK_EX if fcntl else 0)
        gen = _Generation(root)
        try:
            yield gen
        except BaseException:
            shutil.rmtree(gen.path, ignore_errors=True)
            raise


def write_snapshot(
    store: Engine, tables: Mapping[str, pa.Table], *, meta: Mapping[str, Any]
) -> Path:
    """Write `tables` and `meta` as a new generation and make it current; returns its folder."""
    with _writing(store) as gen:
        for name, table in tables.items():
            gen.write(name, table)
        return gen.commit(meta)


def metric_table(metric: Metric, result_table: pa.Table, whys_en: Sequence[str]) -> pa.Table:
    """A metric's table with why_zh and why_en ('' where the metric explains nothing)."""
    if metric.why is None:
        zh = en = [""] * result_table.num_rows
    else:
        why = metric.why
        zh = [why(row, "zh") for row in result_table.to_pylist()]
        en = list(whys_en)
    for column, values in zip(WHY, (zh, en), strict=True):
        result_table = result_table.append_column(column, pa.array(values, pa.string()))
    return result_table


def refresh_snapshot(
    store: Engine,
    *,
    engine_kind: str = "auto",
    extra: Mapping[str, pa.Table] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Run every registered metric over the whole history and write them (and `extra`) as the
    new current snapshot; returns the generation folder."""
    from shequn.analytics.run import open_engine

    started = datetime.now(UTC)
    engine = open_engine(store, engine_kind)
    try:
        with _writing(store) as gen:
            meta = _write_metrics(gen, engine, progress)
            for name, table in (extra or {}).items():
                gen.write(name, table)
            meta = {"generated_at": started.isoformat(), **meta, "engine": engine.name}
            return gen.commit(meta)
    finally:
        # the period's cached intermediates drop their tables when collected: before the close
        gc.collect()
        _close_engine(engine)


def _write_metrics(
    gen: _Generation, engine: AnalyticsEngine, progress: Callable[[str], None] | None
) -> dict[str, Any]:
    """Each metric run once, written at once (memory holds one table); the period and timings."""
    from shequn.analytics.run import make_base, run_metric
    from shequn.analytics.zones import day_date

    base = make_base(engine)
    stats: dict[str, dict[str, Any]] = {}
    for metric in all_metrics():
        t0 = time.perf_counter()
        result = run_metric(metric, base, engine, lang="en")
        gen.write(metric.name, metric_table(metric, result.table, result.whys))
        seconds = round(time.perf_counter() - t0, 3)
        stats[metric.name] = {"rows": result.table.num_rows, "seconds": seconds}
        if progress is not None:
            progress(f"{metric.name}: {result.table.num_rows} rows, {seconds:.1f} s")
    since, until = (day_date(d).isoformat() for d in (base.since_day, base.until_day))
    return {"since": since, "until": until, "metrics": stats}


def _close_engine(engine: Any) -> None:
    # a DuckDB file cache stays locked while open: a web server must not keep it after a refresh
    if hasattr(engine, "close"):
        engine.close()
    elif hasattr(engine, "con") and hasattr(engine.con, "disconnect"):
        engine.con.disconnect()


# -- reading ------------------------------------------------------------------------------


def _current(root: Path) -> Path | None:
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return root / name


def snapshot_age(store: Engine) -> datetime | None:
    """When the current snapshot was made; None when there is none yet."""
    gen = _current(snapshot_dir(store))
    if gen is None:
        return None
    try:
        meta = json.loads((gen / META).read_text(encoding="utf-8"))
    except FileNotFoundError:  # cleaned between the two reads: a newer one is current
        return snapshot_age(store)
    return datetime.fromisoformat(meta["generated_at"])


def _pinned(root: Path) -> tuple[Path, IO[str]] | None:
    """The current generation with a shared lock held on it (retried if it is being removed)."""
    for _ in range(10):
        gen = _current(root)
        if gen is None:
            return None
        try:
            handle = (gen / IN_USE).open("r")
        except FileNotFoundError:
            continue  # cleaned since CURRENT was read; CURRENT now names a newer one
        if _flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB if fcntl else 0) and (gen / META).exists():
            return gen, handle
        handle.close()
    raise NotFound(f"no readable insights snapshot in {root}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Insights:
    """The current snapshot, read with DuckDB; safe to share between a server's threads."""

    def __init__(self, generation: Path, lock: IO[str]) -> None:
        self.generation = generation
        self._lock = lock
        self.meta: dict[str, Any] = json.loads((generation / META).read_text(encoding="utf-8"))
        self.generated_at = datetime.fromisoformat(self.meta["generated_at"])
        self.since = date.fromisoformat(self.meta["since"])
        self.until = date.fromisoformat(self.meta["until"])
        self._con = duckdb.connect(
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        # timestamps come back aware in UTC, as everywhere inside, not in this machine's zone
        self._con.execute("SET TimeZone = 'UTC'")
        self._con.execute("SET parquet_metadata_cache = true")
        self._columns: dict[str, list[str]] = {}
        for path in sorted(generation.glob("*.parquet")):
            name = path.stem
            source = "'" + str(path).replace("'", "''") + "'"  # DDL takes no bound parameters
            self._con.execute(
                f"CREATE VIEW {_quote(name)} AS "
                f"SELECT * FROM read_parquet({source}, {ROW_NUMBER} = true)"
            )
            self._columns[name] = pq.read_schema(path).names

    @classmethod
    def open(cls, store: Engine) -> Insights | None:
        """The store's current snapshot, or None when none was made yet."""
        pinned = _pinned(snapshot_dir(store))
        if pinned is None:
            return None
        try:
            return cls(*pinned)
        except BaseException:
            pinned[1].close()
            raise

    def __enter__(self) -> Insights:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the DuckDB connection and the generation (a later refresh may delete it)."""
        self._con.close()
        self._lock.close()

    def stale(self) -> bool:
        """True when a newer snapshot is current (reopen to read it)."""
        return _current(self.generation.parent) != self.generation

    def names(self) -> list[str]:
        """The tables of this snapshot."""
        return sorted(self._columns)

    def has(self, name: str) -> bool:
        """Whether the snapshot has a table called `name`."""
        return name in self._columns

    def columns(self, name: str) -> list[str]:
        """The stored columns of table `name` (why_zh and why_en included)."""
        if name not in self._columns:
            known = ", ".join(sorted(self._columns))
            raise NotFound(f"no table {name!r} in the insights snapshot; known: {known}")
        return list(self._columns[name])

    def _column(self, name: str, column: Any, what: str) -> str:
        if not isinstance(column, str) or column not in self._columns[name]:
            raise InputError(f"unknown column {column!r} of {name}", field=what)
        return _quote(column)

    def _filter(
        self, name: str, groups: Collection[int] | None, where: Mapping[str, Any] | None
    ) -> tuple[str, list[Any]] | None:
        """The WHERE clause and its parameters; None when nothing can match."""
        self.columns(name)
        pairs = list((where or {}).items())
        if groups is not None:
            if GROUP not in self._columns[name]:
                return None  # program-wide rows would mix in other groups
            pairs.append((GROUP, [int(g) for g in groups]))
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in pairs:
            quoted = self._column(name, column, str(column))
            if value is None:
                clauses.append(f"{quoted} IS NULL")
            elif isinstance(value, list | tuple | set | frozenset):
                if not value:
                    return None
                clauses.append(f"{quoted} IN ({', '.join('?' * len(value))})")
                params.extend(value)
            else:
                clauses.append(f"{quoted} = ?")
                params.append(value)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params

    def _select_list(self, name: str, lang: str) -> list[str]:
        """Stored columns, why_zh and why_en replaced by one `why` in `lang`."""
        if lang not in LANGS:
            raise InputError(f"unknown language {lang!r} (zh or en)", field="lang")
        out = [c for c in self.columns(name) if c not in WHY]
        return [*out, "why"] if set(WHY) <= set(self._columns[name]) else out

    def _query(self, sql: str, params: list[Any], where: Mapping[str, Any] | None) -> pa.Table:
        cur = self._con.cursor()  # one cursor per call: the server calls from many threads
        try:
            return cur.execute(sql, params).to_arrow_table()
        except (duckdb.ConversionException, duckdb.BinderException) as exc:
            fields = ", ".join(where or {}) or "where"
            raise InputError(f"a value does not fit its column: {exc}", field=fields) from exc
        finally:
            cur.close()

    def rows(
        self,
        name: str,
        *,
        groups: Collection[int] | None = None,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[str] | None = None,
        desc: bool = False,
        limit: int | None = None,
        offset: int = 0,
        lang: str = "en",
    ) -> list[dict[str, Any]]:
        """Rows of table `name` as dicts, filtered, ordered (stored order by default) and paged;
        one `why` in `lang` replaces why_zh and why_en."""
        select = [_quote(c) for c in self._select_list(name, lang) if c != "why"]
        if set(WHY) <= set(self._columns[name]):
            select.append(f"{_quote('why_' + lang)} AS why")
        filtered = self._filter(name, groups, where)
        if filtered is None:
            return []
        sql = f"SELECT {', '.join(select)} FROM {_quote(name)}{filtered[0]}"
        if order_by:
            direction = " DESC" if desc else ""
            keys = [self._column(name, c, "order_by") + direction for c in order_by]
            # the stored order breaks ties, so pages never repeat or skip a row
            sql += f" ORDER BY {', '.join(keys)}, {ROW_NUMBER}"
        if limit is not None:
            sql += f" LIMIT {_count(limit, 'limit')}"
        if offset:
            sql += f" OFFSET {_count(offset, 'offset')}"
        return self._query(sql, filtered[1], where).to_pylist()

    def count(
        self,
        name: str,
        *,
        groups: Collection[int] | None = None,
        where: Mapping[str, Any] | None = None,
    ) -> int:
        """How many rows `rows` would return without paging."""
        filtered = self._filter(name, groups, where)
        if filtered is None:
            return 0
        sql = f"SELECT count(*) AS n FROM {_quote(name)}{filtered[0]}"
        return int(self._query(sql, filtered[1], where).column("n")[0].as_py())

    def csv(
        self,
        name: str,
        *,
        groups: Collection[int] | None = None,
        where: Mapping[str, Any] | None = None,
        lang: str = "en",
    ) -> str:
        """Table `name` as CSV text: a header line, then every matching row in stored order."""
        header = self._select_list(name, lang)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        rows = self.rows(name, groups=groups, where=where, lang=lang)
        writer.writerows([row[c] for c in header] for row in rows)
        return out.getvalue()


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InputError(f"expected a whole number ≥ 0, got {value!r}", field=what)
    return value
