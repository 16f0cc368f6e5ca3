"""Operators' tags and private notes on a person (the member page's editable part).

Every write names the acting workspace user: a tag remembers who added it, a note who wrote it.
A note is changed or deleted only by its author or an administrator, so one operator's record is
never silently rewritten by another. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from shequn.errors import InputError, NotFound, PermissionDenied
from shequn.store import schema as t

MAX_TAG = 64
MAX_NOTE = 10_000


@dataclass(frozen=True)
class Tag:
    tag: str
    created_by: int | None
    created_by_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class Note:
    id: int
    person_id: int
    user_id: int | None
    author: str | None
    text: str
    created_at: datetime
    updated_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _check_person(conn: Connection, person_id: int) -> None:
    if not conn.execute(select(exists().where(t.person.c.id == person_id))).scalar():
        raise NotFound(f"no person {person_id} / 没有这个成员")


def clean_tag(tag: str) -> str:
    """A tag as stored: trimmed, inner whitespace collapsed, 1–64 characters."""
    value = " ".join(tag.split())
    if not value or len(value) > MAX_TAG:
        raise InputError(f"a tag has 1 to {MAX_TAG} characters / 标签 1–{MAX_TAG} 字", field="tag")
    return value


def _clean_note(text: str) -> str:
    value = text.strip()
    if not value or len(value) > MAX_NOTE:
        raise InputError(
            f"a note has 1 to {MAX_NOTE} characters / 备注 1–{MAX_NOTE} 字", field="text"
        )
    return value


def list_tags(engine: Engine, person_id: int) -> list[Tag]:
    """The person's tags, alphabetically, with who added each."""
    tg, u = t.person_tag.c, t.app_user.c
    q = (
        select(tg.tag, tg.created_by, u.display_name, u.username, tg.created_at)
        .outerjoin(t.app_user, u.id == tg.created_by)
        .where(tg.person_id == person_id)
        .order_by(tg.tag)
    )
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    return [Tag(r.tag, r.created_by, r.display_name or r.username, r.created_at) for r in rows]


def add_tag(engine: Engine, *, person_id: int, tag: str, user_id: int) -> bool:
    """Tag a person; False when the tag was already there (adding twice is harmless)."""
    value = clean_tag(tag)
    tg = t.person_tag.c
    try:
        with engine.begin() as conn:
            _check_person(conn, person_id)
            present = select(exists().where(tg.person_id == person_id, tg.tag == value))
            if conn.execute(present).scalar():
                return False
            conn.execute(
                t.person_tag.insert().values(
                    person_id=person_id, tag=value, created_by=user_id, created_at=_now()
                )
            )
    except IntegrityError:  # another request added the same tag in between
        return False
    return True


def remove_tag(engine: Engine, *, person_id: int, tag: str, user_id: int) -> None:
    """Take a tag off a person (NotFound when it is not there). `user_id`: who acts."""
    del user_id  # any user who may act may remove a tag; kept for the log of who acts
    tg = t.person_tag.c
    with engine.begin() as conn:
        _check_person(conn, person_id)
        done = conn.execute(
            delete(t.person_tag).where(tg.person_id == person_id, tg.tag == clean_tag(tag))
        )
    if done.rowcount == 0:
        raise NotFound(f"no tag {tag!r} on this person / 没有这个标签")


def _note_query() -> Select[Any]:
    n, u = t.person_note.c, t.app_user.c
    return select(
        n.id,
        n.person_id,
        n.user_id,
        u.display_name,
        u.username,
        n.text,
        n.created_at,
        n.updated_at,
    ).outerjoin(t.app_user, u.id == n.user_id)


def _note(r: Row[Any]) -> Note:
    return Note(
        r.id,
        r.person_id,
        r.user_id,
        r.display_name or r.username,
        r.text,
        r.created_at,
        r.updated_at,
    )


def list_notes(engine: Engine, person_id: int) -> list[Note]:
    """The person's notes, newest first, with their authors."""
    q = _note_query().where(t.person_note.c.person_id == person_id)
    q = q.order_by(t.person_note.c.created_at.desc(), t.person_note.c.id.desc())
    with engine.connect() as conn:
        return [_note(r) for r in conn.execute(q).all()]


def get_note(engine: Engine, *, person_id: int, note_id: int) -> Note:
    """One note of this person (NotFound for a note of someone else)."""
    n = t.person_note.c
    q = _note_query().where(n.id == note_id, n.person_id == person_id)
    with engine.connect() as conn:
        row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"no note {note_id} on this person / 没有这条备注")
    return _note(row)


def add_note(engine: Engine, *, person_id: int, text: str, user_id: int) -> Note:
    """Write a private note on a person as `user_id`."""
    value = _clean_note(text)
    with engine.begin() as conn:
        _check_person(conn, person_id)
        note_id = conn.execute(
            t.person_note.insert()
            .values(person_id=person_id, user_id=user_id, text=value, created_at=_now())
            .returning(t.person_note.c.id)
        ).scalar_one()
    return get_note(engine, person_id=person_id, note_id=int(note_id))


def _check_author(note: Note, user_id: int, admin: bool) -> None:
    if not admin and note.user_id != user_id:
        raise PermissionDenied(
            "only the author or an administrator may change a note / 只有作者或管理员可以修改备注"
        )


def edit_note(
    engine: Engine, *, person_id: int, note_id: int, text: str, user_id: int, admin: bool = False
) -> Note:
    """Replace a note's text (its author, or an administrator with `admin`)."""
    value = _clean_note(text)
    _check_author(get_note(engine, person_id=person_id, note_id=note_id), user_id, admin)
    with engine.begin() as conn:
        conn.execute(
            update(t.person_note)
            .where(t.person_note.c.id == note_id)
            .values(text=value, updated_at=_now())
        )
    return get_note(engine, person_id=person_id, note_id=note_id)


def delete_note(
    engine: Engine, *, person_id: int, note_id: int, user_id: int, admin: bool = False
) -> None:
    """Delete a note (its author, or an administrator with `admin`)."""
    _check_author(get_note(engine, person_id=person_id, note_id=note_id), user_id, admin)
    with engine.begin() as conn:
        conn.execute(delete(t.person_note).where(t.person_note.c.id == note_id))
