"""The archive page: full-text search of messages (Chinese included), each hit in context."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from shequn.web import i18n
from shequn.web import views_search as views
from shequn.web.auth import CurrentUser, Store
from shequn.web.render import page as render
from shequn.web.render import user_zone

router = APIRouter(include_in_schema=False)

i18n.add(
    {
        "search.title": ("消息归档", "Archive"),
        "search.q": ("关键词", "Words"),
        "search.q_hint": ("例如：社群运营", "e.g. onboarding"),
        "search.member": ("成员（名字或编号）", "Member (name or id)"),
        "search.since": ("起始日期", "From"),
        "search.until": ("截止日期", "To"),
        "search.all_groups": ("全部群", "All groups"),
        "search.none": ("没有找到消息", "No messages found"),
        "search.ask": (
            "输入关键词，或选择群或成员以浏览其最新消息。",
            "Type some words, or pick a group or member to browse their newest messages.",
        ),
        "search.context": ("上下文", "Context"),
        "search.open_member": ("成员页", "Member page"),
        "search.page_note": ("每页 {n} 条，按时间倒序", "{n} per page, newest first"),
    }
)


@router.get("/search")
def search_page(
    request: Request,
    store: Store,
    user: CurrentUser,
    q: str = "",
    group: str | None = None,
    member: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page: int = 1,
) -> Response:
    query = views.query_for(
        user,
        q=q,
        group=group,
        member=member,
        since=since,
        until=until,
        page=page,
        zone=user_zone(user),
    )
    hits, more = views.search_messages(store, query)
    return render(
        request,
        user,
        "search.html.j2",
        active="archive",
        query=query,
        hits=hits,
        has_more=more,
        groups=views.visible_groups(store, user),
        form={
            "q": q,
            "group": group or "",
            "member": member or "",
            "since": since or "",
            "until": until or "",
        },
    )
