"""The member page (one person, all groups and platforms) and its tag and note forms.

The snapshot is opened once per request and closed before the response leaves (no cache:
opening one costs a few milliseconds and always reads the current generation). Forms post with
htmx and get back the changed section; without JavaScript they redirect to the page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shequn import people_notes
from shequn.store.users import User
from shequn.web import i18n
from shequn.web import views_people as views
from shequn.web.auth import Actor, CurrentUser, Store
from shequn.web.insights import InsightsDep
from shequn.web.render import page

router = APIRouter(include_in_schema=False)

i18n.add(
    {
        "member.title": ("成员", "Member"),
        "member.accounts": ("账号", "Accounts"),
        "member.platform": ("平台", "Platform"),
        "member.platform_id": ("平台 ID", "Platform id"),
        "member.names": ("用过的名字", "Names over time"),
        "member.memberships": ("入群与退群", "Memberships"),
        "member.joined": ("入群", "Joined"),
        "member.left": ("退群", "Left"),
        "member.before_history": ("记录开始前", "before the history"),
        "member.left_reason": ("方式", "How"),
        "member.reason.leave": ("主动退出", "left"),
        "member.reason.remove": ("被移出", "removed"),
        "member.inviter": ("邀请人", "Invited by"),
        "member.source": ("来源", "Source"),
        "member.role": ("角色", "Role"),
        "member.events": ("成员变动记录", "Join and leave events"),
        "member.action": ("事件", "Event"),
        "member.action.join": ("入群", "joined"),
        "member.action.leave": ("退群", "left"),
        "member.action.remove": ("被移出", "removed"),
        "member.actor": ("操作人", "By"),
        "member.when": ("时间", "When"),
        "member.activity": ("活跃时间线（每周发言数）", "Activity (messages per week)"),
        "member.activity_note": (
            "最近一次发言前 365 天内，按周（UTC，周一起）统计。",
            "The 365 days up to the last message, by week (UTC, Monday first).",
        ),
        "member.search_messages": ("查看其消息", "Search their messages"),
        "member.level": ("当前等级", "Current level"),
        "member.since": ("起始", "Since"),
        "member.level_changes": ("等级变化", "Level history"),
        "member.week": ("周", "Week"),
        "member.level_col": ("等级", "Level"),
        "member.score": ("得分", "Score"),
        "member.stats": ("成员数据", "Member statistics"),
        "member.messages": ("发言", "Messages"),
        "member.active_days": ("活跃天数", "Active days"),
        "member.core": ("为什么是核心成员", "Why core"),
        "member.core_overall": ("全项目核心成员", "Core across the program"),
        "member.kol": ("KOL", "KOL"),
        "member.not_core": ("不是核心成员", "Not a core member"),
        "member.at_risk": ("流失风险", "At risk"),
        "member.no_risk": ("没有风险提示", "No risk flags"),
        "member.list.slipping_members": ("渐冷成员", "Slipping"),
        "member.list.silent_members": ("沉默成员", "Silent"),
        "member.list.prune_candidates": ("待清理", "Prune candidate"),
        "member.list.leavers": ("已退群", "Left"),
        "member.product": ("产品数据", "Product data"),
        "member.usage_frequency": ("每周使用次数", "Uses per week"),
        "member.usage_minutes": ("每周使用分钟", "Minutes per week"),
        "member.payments": ("付费金额", "Payments"),
        "member.orders": ("订单数", "Orders"),
        "member.updated": ("更新于", "Updated"),
        "member.tags": ("标签", "Tags"),
        "member.tag_add": ("添加标签", "Add tag"),
        "member.tag_remove": ("移除", "Remove"),
        "member.notes": ("私人备注", "Private notes"),
        "member.note_add": ("添加备注", "Add note"),
        "member.note_edit": ("编辑", "Edit"),
        "member.note_delete": ("删除", "Delete"),
        "member.note_delete_confirm": ("确定删除这条备注？", "Delete this note?"),
        "member.note_edited": ("已编辑", "edited"),
        "member.bot": ("机器人", "bot"),
    }
)


def _activity_chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A stacked bar chart: one series per group, one bar per week."""
    weeks = sorted({r["week"].isoformat() for r in rows})
    groups = sorted({(r["community_id"], r["group"] or str(r["community_id"])) for r in rows})
    counts = {(r["week"].isoformat(), r["community_id"]): r["messages"] for r in rows}
    series = [
        {
            "name": name,
            "type": "bar",
            "stack": "messages",
            "data": [counts.get((w, cid), 0) for w in weeks],
        }
        for cid, name in groups
    ]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"type": "scroll"},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 30},
        "xAxis": {"type": "category", "data": weeks},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": series,
    }


@router.get("/people/{person_id}")
def member_page(
    request: Request, store: Store, user: CurrentUser, ins: InsightsDep, person_id: int
) -> Response:
    profile = views.member_profile(store, ins, user, person_id, lang=user.lang)
    return page(
        request,
        user,
        "member.html.j2",
        active="overview",
        p=profile,
        insights=ins,
        chart=_activity_chart(profile["activity"]),
        level_label=lambda level: views.level_label(level, user.lang),
    )


def _changed(request: Request, store: Store, user: User, person_id: int, section: str) -> Response:
    """After a form: the changed section for htmx, else back to the page."""
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(f"/people/{person_id}#{section}", status_code=303)
    values = views.tags_and_notes(store, person_id)
    return page(request, user, f"member_{section}.html.j2", p={"person_id": person_id, **values})


def _acting(store: Store, user: User, person_id: int, act: Callable[[], object]) -> None:
    views.person_scope(store, user, person_id)  # a leader acts only on their groups' people
    act()


@router.post("/people/{person_id}/tags")
def add_tag(
    request: Request, store: Store, user: Actor, person_id: int, tag: Annotated[str, Form()]
) -> Response:
    _acting(
        store,
        user,
        person_id,
        lambda: people_notes.add_tag(store, person_id=person_id, tag=tag, user_id=user.id),
    )
    return _changed(request, store, user, person_id, "tags")


@router.post("/people/{person_id}/tags/remove")
def remove_tag(
    request: Request, store: Store, user: Actor, person_id: int, tag: Annotated[str, Form()]
) -> Response:
    _acting(
        store,
        user,
        person_id,
        lambda: people_notes.remove_tag(store, person_id=person_id, tag=tag, user_id=user.id),
    )
    return _changed(request, store, user, person_id, "tags")


@router.post("/people/{person_id}/notes")
def add_note(
    request: Request, store: Store, user: Actor, person_id: int, text: Annotated[str, Form()]
) -> Response:
    _acting(
        store,
        user,
        person_id,
        lambda: people_notes.add_note(store, person_id=person_id, text=text, user_id=user.id),
    )
    return _changed(request, store, user, person_id, "notes")


@router.post("/people/{person_id}/notes/{note_id}")
def edit_note(
    request: Request,
    store: Store,
    user: Actor,
    person_id: int,
    note_id: int,
    text: Annotated[str, Form()],
) -> Response:
    _acting(
        store,
        user,
        person_id,
        lambda: people_notes.edit_note(
            store,
            person_id=person_id,
            note_id=note_id,
            text=text,
            user_id=user.id,
            admin=user.is_admin,
        ),
    )
    return _changed(request, store, user, person_id, "notes")


@router.post("/people/{person_id}/notes/{note_id}/delete")
def delete_note(
    request: Request, store: Store, user: Actor, person_id: int, note_id: int
) -> Response:
    _acting(
        store,
        user,
        person_id,
        lambda: people_notes.delete_note(
            store, person_id=person_id, note_id=note_id, user_id=user.id, admin=user.is_admin
        ),
    )
    return _changed(request, store, user, person_id, "notes")
