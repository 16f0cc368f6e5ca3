"""`/api/v1/search`: the archive's full-text search as JSON (or CSV), limited to the caller's
groups."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from shequn.web import views_search as views
from shequn.web.auth import CurrentUser, Store
from shequn.web.render import user_zone

router = APIRouter(prefix="/api/v1", tags=["search"])


class ContextLine(BaseModel):
    sent_at: datetime
    sender: str | None
    text: str
    hit: bool


class HitOut(BaseModel):
    message_id: int
    community_id: int
    group: str
    platform: str
    account_id: int | None
    person_id: int | None
    sender: str | None
    sent_at: datetime
    text: str
    highlights: list[str]  # the pieces of `text` that matched the searched words
    context: list[ContextLine]


class SearchOut(BaseModel):
    q: str
    page: int
    page_size: int
    has_more: bool
    hits: list[HitOut]


def _hit_out(hit: views.SearchHit) -> dict[str, Any]:
    out = asdict(hit)
    out["highlights"] = [piece for piece, marked in hit.parts if marked]
    return out


@router.get(
    "/search",
    response_model=SearchOut,
    summary="Full-text search of messages, with context / 消息全文搜索（含上下文）",
    responses={200: {"content": {"text/csv": {}}}},
)
def search(
    store: Store,
    user: CurrentUser,
    q: str = "",
    group: str | None = Query(None, description="a group id"),
    member: str | None = Query(None, description="a person id, or an account name or id"),
    since: str | None = Query(None, description="YYYY-MM-DD, in your time zone"),
    until: str | None = Query(None, description="YYYY-MM-DD (included)"),
    page: int = Query(1, ge=1),
    format: str = Query("json", pattern="^(json|csv)$"),
) -> Any:
    """Messages holding every word of `q`, newest first, paged; `format=csv` exports up to
    1000 hits from the first."""
    query = views.query_for(
        user,
        q=q,
        group=group,
        member=member,
        since=since,
        until=until,
        page=1 if format == "csv" else page,
        zone=user_zone(user),
    )
    if format == "csv":
        hits, _more = views.search_messages(store, replace(query, page_size=views.EXPORT_SIZE))
        return PlainTextResponse(
            views.hits_csv(hits),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="search.csv"'},
        )
    hits, more = views.search_messages(store, query)
    return {
        "q": query.q,
        "page": query.page,
        "page_size": query.page_size,
        "has_more": more,
        "hits": [_hit_out(h) for h in hits],
    }
