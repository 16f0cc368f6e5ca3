"""`/api/v1/people`: one person's data as the member page shows it, and their tags and notes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from shequn import people_notes
from shequn.web import views_people as views
from shequn.web.auth import Actor, CurrentUser, Store
from shequn.web.insights import InsightsDep

router = APIRouter(prefix="/api/v1/people", tags=["people"])


class TagOut(BaseModel):
    tag: str
    created_by: int | None
    created_by_name: str | None
    created_at: datetime


class TagIn(BaseModel):
    tag: str = Field(min_length=1, max_length=people_notes.MAX_TAG)


class NoteOut(BaseModel):
    id: int
    person_id: int
    user_id: int | None
    author: str | None
    text: str
    created_at: datetime
    updated_at: datetime | None


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=people_notes.MAX_NOTE)


class ActivityWeek(BaseModel):
    week: date
    community_id: int
    group: str | None
    messages: int


class PersonOut(BaseModel):
    """Everything the member page shows, limited to the caller's groups."""

    person_id: int
    display_name: str
    accounts: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    events: list[dict[str, Any]]
    activity: list[ActivityWeek]
    product: dict[str, Any] | None
    levels: list[dict[str, Any]]
    level_changes: list[dict[str, Any]]
    stats: list[dict[str, Any]]
    core: list[dict[str, Any]]
    core_overall: list[dict[str, Any]]
    kol: list[dict[str, Any]]
    at_risk: list[dict[str, Any]]
    tags: list[TagOut]
    notes: list[NoteOut]
    snapshot_at: datetime | None


@router.get(
    "/{person_id}",
    response_model=PersonOut,
    summary="One person across groups and platforms / 成员详情（跨群、跨平台）",
    responses={200: {"content": {"text/csv": {}}}},
)
def get_person(
    store: Store,
    user: CurrentUser,
    ins: InsightsDep,
    person_id: int,
    lang: str | None = Query(None, pattern="^(zh|en)$"),
    format: str = Query("json", pattern="^(json|csv)$"),
    table: str = Query(
        "memberships", description="with format=csv: " + ", ".join(views.CSV_TABLES)
    ),
) -> Any:
    """With `format=csv`, one of the page's tables (`table`) as CSV."""
    profile = views.member_profile(store, ins, user, person_id, lang=lang or user.lang)
    if format == "csv":
        return PlainTextResponse(
            views.profile_csv(profile, table),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="person-{person_id}-{table}.csv"'
            },
        )
    return profile


@router.get("/{person_id}/tags", response_model=list[TagOut], summary="A person's tags / 成员标签")
def get_tags(store: Store, user: CurrentUser, person_id: int) -> Any:
    views.person_scope(store, user, person_id)
    return views.tags_and_notes(store, person_id)["tags"]


@router.post(
    "/{person_id}/tags",
    response_model=list[TagOut],
    status_code=201,
    summary="Tag a person / 添加标签",
)
def post_tag(store: Store, user: Actor, person_id: int, body: TagIn) -> Any:
    views.person_scope(store, user, person_id)
    people_notes.add_tag(store, person_id=person_id, tag=body.tag, user_id=user.id)
    return views.tags_and_notes(store, person_id)["tags"]


@router.delete("/{person_id}/tags/{tag}", status_code=204, summary="Remove a tag / 移除标签")
def delete_tag(store: Store, user: Actor, person_id: int, tag: str) -> Response:
    views.person_scope(store, user, person_id)
    people_notes.remove_tag(store, person_id=person_id, tag=tag, user_id=user.id)
    return Response(status_code=204)


@router.get(
    "/{person_id}/notes",
    response_model=list[NoteOut],
    summary="A person's private notes / 成员私人备注",
)
def get_notes(store: Store, user: CurrentUser, person_id: int) -> Any:
    views.person_scope(store, user, person_id)
    return views.tags_and_notes(store, person_id)["notes"]


@router.post(
    "/{person_id}/notes", response_model=NoteOut, status_code=201, summary="Add a note / 添加备注"
)
def post_note(store: Store, user: Actor, person_id: int, body: NoteIn) -> Any:
    views.person_scope(store, user, person_id)
    return people_notes.add_note(store, person_id=person_id, text=body.text, user_id=user.id)


@router.patch(
    "/{person_id}/notes/{note_id}",
    response_model=NoteOut,
    summary="Edit a note (author or admin) / 编辑备注（作者或管理员）",
)
def patch_note(store: Store, user: Actor, person_id: int, note_id: int, body: NoteIn) -> Any:
    views.person_scope(store, user, person_id)
    return people_notes.edit_note(
        store,
        person_id=person_id,
        note_id=note_id,
        text=body.text,
        user_id=user.id,
        admin=user.is_admin,
    )


@router.delete(
    "/{person_id}/notes/{note_id}",
    status_code=204,
    summary="Delete a note (author or admin) / 删除备注（作者或管理员）",
)
def delete_note(store: Store, user: Actor, person_id: int, note_id: int) -> Response:
    views.person_scope(store, user, person_id)
    people_notes.delete_note(
        store, person_id=person_id, note_id=note_id, user_id=user.id, admin=user.is_admin
    )
    return Response(status_code=204)
