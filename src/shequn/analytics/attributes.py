"""The operator's own product data per member (R4), imported from a CSV file.

`shequn import-attributes FILE.csv` calls `import_attributes`. The columns are documented in
docs/attributes.md: a member key (`account` as `platform:platform_id`, or `person_id`) and any of
`usage_frequency`, `usage_minutes`, `payments`, `orders` (also under their Chinese names).

The whole file is checked before anything is written, and written in one transaction: a bad
line leaves the store as it was. Re-importing the same file changes nothing (not even
`updated_at`); a later file overwrites the values of the columns it has.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shequn.errors import InputError
from shequn.store import schema as t

KEYS = ("account", "person_id")
# attribute column -> type of its values
ATTRIBUTES: dict[str, type] = {
    "usage_frequency": float,  # uses per week
    "usage_minutes": float,  # minutes of use per week
    "payments": float,  # amount paid, in the operator's currency
    "orders": int,  # number of orders
}
# Header names as operators write them (lower-cased, units in brackets dropped; see _canonical).
ALIASES = {
    "account": "account",
    "账号": "account",
    "帐号": "account",
    "person_id": "person_id",
    "person": "person_id",
    "成员id": "person_id",
    "usage_frequency": "usage_frequency",
    "使用频率": "usage_frequency",
    "usage_minutes": "usage_minutes",
    "使用时长": "usage_minutes",
    "payments": "payments",
    "付费金额": "payments",
    "orders": "orders",
    "订单数": "orders",
}
_CHUNK = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


@dataclass
class AttributesResult:
    """What an import did: rows read, people inserted, updated, and left unchanged."""

    rows: int
    inserted: int
    updated: int
    unchanged: int
    columns: tuple[str, ...]  # the attribute columns the file had
    ignored_columns: tuple[str, ...] = field(default=())  # header names not understood


@dataclass
class _Row:
    line: int
    account: str | None
    person_id: int | None
    values: dict[str, float | int | None]
    names: dict[str, str]  # column -> header name as written, for errors


def import_attributes(engine: Engine, path: Path) -> AttributesResult:
    """Read the operator's CSV at `path` and upsert it into `product_attribute`.

    Raises InputError naming the file, line and field for a missing key column, an unknown
    account or person, a value that is not a number, or one person given twice; in that case
    nothing is written.
    """
    file = str(path)
    header, rows = _read_csv(path)
    columns = tuple(c for c in ATTRIBUTES if c in header.values())
    ignored = tuple(h for h, c in header.items() if c is None)
    with engine.begin() as conn:
        people = _resolve(conn, rows, file)
        existing = _existing(conn, list(people))
        inserts, updates = _changes(people, existing, columns)
        _upsert(conn, [*inserts, *updates], columns, source=path.name)
    return AttributesResult(
        rows=len(rows),
        inserted=len(inserts),
        updated=len(updates),
        unchanged=len(people) - len(inserts) - len(updates),
        columns=columns,
        ignored_columns=ignored,
    )


# -- reading the file ------------------------------------------------------------------------
def _canonical(name: str) -> str | None:
    """The column a header names: case, spaces and a unit in brackets ("使用时长(分钟)") ignored."""
    key = re.split(r"[(（\[]", name.strip().lstrip("\ufeff"), maxsplit=1)[0].strip().lower()
    key = re.sub(r"[\s-]+", "_", key)
    return ALIASES.get(key)


def _read_csv(path: Path) -> tuple[dict[str, str | None], list[_Row]]:
    """The header (name -> column or None) and every data row, checked."""
    file = str(path)
    text = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        names = next(reader, None)
        if not names or not any(n.strip() for n in names):
            raise InputError("empty file: expected a header line", file=file, line=1)
        header = _check_header(names, file)
        rows = list(_rows(reader, names, header, file))
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file: {exc}", file=file, line=reader.line_num) from exc
    return header, rows


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # also plain UTF-8; Excel adds the BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "not UTF-8 text (save the file as CSV UTF-8)", file=str(path), line=line
        ) from exc


def _check_header(names: list[str], file: str) -> dict[str, str | None]:
    header: dict[str, str | None] = {}
    seen: dict[str, str] = {}
    for name in names:
        col = _canonical(name)
        if col is not None and col in seen:
            raise InputError(
                f"column given twice (also as {seen[col]!r})", file=file, line=1, field=name
            )
        if col is not None:
            seen[col] = name
        header[name] = col
    if not any(k in seen for k in KEYS):
        raise InputError(
            "no member key column: expected 'account' (platform:platform_id) or 'person_id'",
            file=file,
            line=1,
            field="account",
        )
    if not any(a in seen for a in ATTRIBUTES):
        raise InputError(
            f"no attribute column: expected any of {', '.join(ATTRIBUTES)}", file=file, line=1
        )
    return header


def _rows(
    reader: Any, names: list[str], header: dict[str, str | None], file: str
) -> Iterator[_Row]:
    # errors name a column as the operator wrote it in the header
    written = {col: name for name, col in header.items() if col is not None}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines are allowed
        if len(cells) > len(names):
            raise InputError(
                f"{len(cells)} fields but the header has {len(names)}", file=file, line=line
            )
        got = {header[n]: c.strip() for n, c in zip(names, cells, strict=False) if header[n]}
        yield _row(got, written, line, file)


def _row(got: dict[str | None, str], written: dict[str, str], line: int, file: str) -> _Row:
    account = got.get("account") or None
    person_text = got.get("person_id") or None
    if account is None and person_text is None:
        key = written.get("account") or written["person_id"]
        raise InputError("no member key (account or person_id)", file=file, line=line, field=key)
    person_id = None
    if person_text is not None:
        if not person_text.isdigit():
            raise InputError(
                f"expected a person id (a whole number), got {person_text!r}",
                file=file,
                line=line,
                field=written["person_id"],
            )
        person_id = int(person_text)
    values = {c: _number(got[c], c, written[c], line, file) for c in ATTRIBUTES if c in got}
    return _Row(line=line, account=account, person_id=person_id, values=values, names=written)


def _number(text: str, column: str, name: str, line: int, file: str) -> float | int | None:
    """A non-negative number; an empty cell is None (the value is cleared)."""
    if text == "":
        return None
    kind = ATTRIBUTES[column]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0 or (kind is int and not value.is_integer()):
        what = "a whole number" if kind is int else "a number"
        raise InputError(f"expected {what} ≥ 0, got {text!r}", file=file, line=line, field=name)
    return int(value) if kind is int else value


# -- people, and what changes -----------------------------------------------------------------
def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _resolve(conn: Connection, rows: list[_Row], file: str) -> dict[int, _Row]:
    """person_id -> its row; unknown accounts or people and one person twice are errors."""
    by_account = _account_people(conn, [r.account for r in rows if r.account])
    known = _known_people(conn, [r.person_id for r in rows if r.person_id is not None])
    people: dict[int, _Row] = {}
    for r in rows:
        pid = _person_of(r, by_account, known, file)
        if pid in people:
            raise InputError(
                f"person {pid} already given on line {people[pid].line} (linked accounts "
                "are one person)",
                file=file,
                line=r.line,
                field=r.names["account" if r.account else "person_id"],
            )
        people[pid] = r
    return people


def _person_of(r: _Row, by_account: dict[str, int], known: set[int], file: str) -> int:
    if r.person_id is not None and r.person_id not in known:
        raise InputError(
            f"unknown person {r.person_id}", file=file, line=r.line, field=r.names["person_id"]
        )
    if not r.account:
        assert r.person_id is not None  # _row made sure one key is there
        return r.person_id
    pid = by_account.get(r.account)
    if pid is None:
        raise InputError(
            f"unknown account {r.account!r} (expected platform:platform_id of an "
            "imported member, e.g. telegram:user123)",
            file=file,
            line=r.line,
            field=r.names["account"],
        )
    if r.person_id is not None and pid != r.person_id:
        raise InputError(
            f"account {r.account!r} belongs to person {pid}, not {r.person_id}",
            file=file,
            line=r.line,
            field=r.names["person_id"],
        )
    return pid


def _split_account(key: str) -> tuple[str, str] | None:
    platform, sep, platform_id = key.partition(":")
    if not sep or not platform.strip() or not platform_id.strip():
        return None
    return platform.strip().lower(), platform_id.strip()


def _account_people(conn: Connection, keys: list[str]) -> dict[str, int]:
    """'platform:platform_id' -> person_id, for the keys that name an account in the store."""
    wanted: dict[str, dict[str, str]] = {}  # platform -> platform_id -> key as written
    for key in keys:
        split = _split_account(key)
        if split:
            wanted.setdefault(split[0], {})[split[1]] = key
    found: dict[str, int] = {}
    a = t.account
    for platform, ids in wanted.items():
        for chunk in _chunks(list(ids)):
            q = select(a.c.platform_id, a.c.person_id).where(
                a.c.platform == platform, a.c.platform_id.in_(chunk)
            )
            for platform_id, person_id in conn.execute(q):
                found[ids[platform_id]] = person_id
    return found


def _known_people(conn: Connection, ids: list[int]) -> set[int]:
    known: set[int] = set()
    for chunk in _chunks(sorted(set(ids))):
        known.update(conn.execute(select(t.person.c.id).where(t.person.c.id.in_(chunk))).scalars())
    return known


def _existing(conn: Connection, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    pa = t.product_attribute
    cols = [pa.c.person_id, *(pa.c[c] for c in ATTRIBUTES)]
    out: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(sorted(person_ids)):
        for row in conn.execute(select(*cols).where(pa.c.person_id.in_(chunk))).mappings():
            out[row["person_id"]] = dict(row)
    return out


def _changes(
    people: dict[int, _Row], existing: dict[int, dict[str, Any]], columns: Iterable[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to insert and rows to update; a person whose values are all the same is neither."""
    inserts, updates = [], []
    for pid, r in people.items():
        values = {"person_id": pid, **{c: r.values.get(c) for c in columns}}
        old = existing.get(pid)
        if old is None:
            inserts.append(values)
        elif any(old[c] != values[c] for c in columns):
            updates.append(values)
    return inserts, updates


def _upsert(
    conn: Connection, rows: list[dict[str, Any]], columns: tuple[str, ...], *, source: str
) -> None:
    """Insert or overwrite the file's columns (others keep their values) in one statement."""
    if not rows:
        return
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise NotImplementedError(
            f"import-attributes supports SQLite and PostgreSQL, not {dialect}"
        )
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    stmt = insert(t.product_attribute)
    # the upsert also covers a row another import added since _existing read the table
    stmt = stmt.on_conflict_do_update(
        index_elements=["person_id"],
        set_={c: stmt.excluded[c] for c in (*columns, "updated_at", "source")},
    )
    now = datetime.now(UTC)
    conn.execute(stmt, [{**r, "updated_at": now, "source": source} for r in rows])
