"""Administrators manage the workspace's users: add, disable, enable, assign a leader's groups."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from shequn.errors import Conflict, InputError
from shequn.store import schema as t
from shequn.store import users
from shequn.web import i18n
from shequn.web.auth import Admin, Store
from shequn.web.render import page

router = APIRouter(include_in_schema=False)

i18n.add(
    {
        "admin.title": ("用户与角色", "Users and roles"),
        "admin.add": ("添加用户", "Add a user"),
        "admin.role": ("角色", "Role"),
        "admin.groups": ("负责的群（群主）", "Groups (leaders)"),
        "admin.disabled": ("已停用", "Disabled"),
        "admin.disable": ("停用", "Disable"),
        "admin.enable": ("启用", "Enable"),
        "admin.save_groups": ("保存群", "Save groups"),
        "admin.all_groups": ("全部群", "All groups"),
        "admin.roles_help": (
            "管理员：全部权限；运营：全部群；群主：仅负责的群；只读：查看全部群，不能操作。",
            "Admin: everything; operator: all groups; leader: assigned groups only; "
            "viewer: reads all groups, changes nothing.",
        ),
    }
)


def group_names(store: Store) -> list[tuple[int, str]]:
    with store.connect() as conn:
        rows = conn.execute(
            select(t.community.c.id, t.community.c.name).order_by(t.community.c.name)
        )
        return [(int(r.id), r.name) for r in rows]


def _admin_page(
    request: Request, store: Store, user: Admin, *, error: str | None = None, status: int = 200
) -> Response:
    return page(
        request,
        user,
        "admin_users.html.j2",
        status_code=status,
        users=users.list_users(store),
        groups=group_names(store),
        roles=users.ROLES,
        error=error,
        active="admin",
    )


@router.get("/admin/users")
def users_page(request: Request, store: Store, user: Admin) -> Response:
    return _admin_page(request, store, user)


@router.post("/admin/users")
def add_user(
    request: Request,
    store: Store,
    user: Admin,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    role: Annotated[str, Form()],
    display_name: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "zh",
    group: Annotated[list[int] | None, Form()] = None,
) -> Response:
    try:
        users.create_user(
            store,
            username=username,
            password=password,
            role=role,
            display_name=display_name or None,
            lang=lang,
            groups=group or [],
        )
    except (InputError, Conflict) as exc:
        return _admin_page(request, store, user, error=str(exc), status=400)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/disable")
def disable_user(store: Store, user: Admin, user_id: int) -> Response:
    target = users.get_user(store, user_id)
    if target.id == user.id:
        raise InputError("you cannot disable yourself / 不能停用自己", field="user_id")
    users.set_disabled(store, target.username, True)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/enable")
def enable_user(store: Store, user: Admin, user_id: int) -> Response:
    users.set_disabled(store, users.get_user(store, user_id).username, False)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/groups")
def set_user_groups(
    store: Store, user: Admin, user_id: int, group: Annotated[list[int] | None, Form()] = None
) -> Response:
    users.set_groups(store, users.get_user(store, user_id).id, group or [])
    return RedirectResponse("/admin/users", status_code=303)
