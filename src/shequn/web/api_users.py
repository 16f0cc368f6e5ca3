"""`/api/v1/me` and `/api/v1/users`: the caller's account and (administrators) everyone's."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from shequn.errors import InputError
from shequn.store import users
from shequn.store.users import User
from shequn.web.auth import Admin, CurrentUser, Store

router = APIRouter(prefix="/api/v1", tags=["users"])


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: str
    lang: str
    timezone: str | None
    disabled: bool
    groups: list[int] | None = Field(description="a leader's groups; null: all groups")


class UserCreate(BaseModel):
    username: str
    password: str = Field(min_length=users.MIN_PASSWORD)
    role: str = "operator"
    display_name: str | None = None
    lang: str = "zh"
    groups: list[int] = []


class Preferences(BaseModel):
    lang: str | None = None
    timezone: str | None = Field(default=None, description="Area/City; empty: the default zone")


class GroupList(BaseModel):
    groups: list[int]


def public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        lang=user.lang,
        timezone=user.timezone,
        disabled=user.disabled,
        groups=sorted(user.groups) if user.groups is not None else None,
    )


@router.get("/me", summary="The signed-in user / 当前用户")
def me(user: CurrentUser) -> UserPublic:
    return public(user)


@router.patch("/me", summary="Change language or zone / 修改语言或时区")
def update_me(store: Store, user: CurrentUser, prefs: Preferences) -> UserPublic:
    return public(users.set_preferences(store, user.id, lang=prefs.lang, timezone=prefs.timezone))


@router.get("/users", summary="All users (admin) / 全部用户（管理员）")
def list_users(store: Store, admin: Admin) -> list[UserPublic]:
    return [public(u) for u in users.list_users(store)]


@router.post("/users", status_code=201, summary="Add a user (admin) / 添加用户")
def create_user(store: Store, admin: Admin, body: UserCreate) -> UserPublic:
    return public(
        users.create_user(
            store,
            username=body.username,
            password=body.password,
            role=body.role,
            display_name=body.display_name,
            lang=body.lang,
            groups=body.groups,
        )
    )


@router.post("/users/{user_id}/disable", summary="Disable a user (admin) / 停用用户")
def disable_user(store: Store, admin: Admin, user_id: int) -> UserPublic:
    target = users.get_user(store, user_id)
    if target.id == admin.id:
        raise InputError("you cannot disable yourself", field="user_id")
    return public(users.set_disabled(store, target.username, True))


@router.post("/users/{user_id}/enable", summary="Enable a user (admin) / 启用用户")
def enable_user(store: Store, admin: Admin, user_id: int) -> UserPublic:
    return public(users.set_disabled(store, users.get_user(store, user_id).username, False))


@router.put("/users/{user_id}/groups", summary="Set a leader's groups (admin) / 设置群主的群")
def set_groups(store: Store, admin: Admin, user_id: int, body: GroupList) -> UserPublic:
    return public(users.set_groups(store, users.get_user(store, user_id).id, body.groups))
