"""`shequn serve` and `shequn user …`: the workspace server and its accounts."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts. 输出 JSON。")]

user_app = typer.Typer(help="Workspace users and roles. 工作台用户与角色。", no_args_is_help=True)


def _store() -> Any:
    from shequn.store.db import open_store

    return open_store()


def _print_json(data: Any) -> None:
    from shequn.cli import _print_json as print_json

    print_json(data)


def sign_in_hint(store: Any, base_url: str) -> str:
    """How to sign in: a one-time setup link until the first admin exists."""
    from shequn.store import users

    if users.needs_setup(store):
        token = users.create_setup_token(store)
        return (
            f"first run: create the administrator at / 首次使用，请打开此链接创建管理员:\n"
            f"  {base_url}/setup?token={token}\n"
            f"  (one-time, {users.SETUP_HOURS} h / 一次性链接，{users.SETUP_HOURS} 小时内有效)"
        )
    return "sign in with your account / 使用已有账号登录 (`shequn user add` makes more)"


def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on. 监听地址。")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port. 端口。")] = 8000,
    refresh: Annotated[
        bool,
        typer.Option(
            "--refresh/--no-refresh",
            help="Bring insights and the inbox up to date first. 启动前先更新分析与待办。",
        ),
    ] = True,
) -> None:
    """Serve the operator's workspace (dashboard, inbox, API). 启动运营工作台。"""
    serve(host=host, port=port, refresh=refresh)


def serve(*, host: str, port: int, refresh: bool) -> None:
    """Refresh the insights if asked, print how to sign in, then serve until interrupted."""
    import uvicorn

    from shequn.web.app import create_app

    store = _store()
    if refresh:
        from shequn.workspace import refresh_workspace

        refresh_workspace(store, progress=lambda msg: err.print(msg, highlight=False))
    app = create_app(store)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    console.print(f"shequn workspace / 运营工作台: {base}", highlight=False)
    console.print(sign_in_hint(app.state.store, base), highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("password / 密码 (10+)", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name. 登录名。")],
    role: Annotated[
        str, typer.Option("--role", help="admin, operator, leader or viewer. 角色。")
    ] = "operator",
    name: Annotated[str | None, typer.Option("--name", help="Display name. 显示名。")] = None,
    lang: Annotated[str, typer.Option("--lang", help="zh or en. 界面语言。")] = "zh",
    group: Annotated[
        list[str] | None,
        typer.Option("--group", help="A leader's group (repeat). 群主负责的群（可多次）。"),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from stdin. 从标准输入读密码。"),
    ] = False,
) -> None:
    """Add a workspace user; asks for the password. 添加用户。"""
    from shequn.analytics.run import resolve_groups
    from shequn.store import users

    store = _store()
    groups = resolve_groups(store, group or []) or []
    user = users.create_user(
        store,
        username=username,
        password=_read_password(password_stdin),
        role=role,
        display_name=name,
        lang=lang,
        groups=groups,
    )
    console.print(f"user {user.username} ({user.role}) added / 已添加", highlight=False)


@user_app.command("list")
def user_list_cmd(as_json: JsonOpt = False) -> None:
    """List workspace users. 列出用户。"""
    from shequn.store import users

    rows = [
        {
            "username": u.username,
            "name": u.display_name,
            "role": u.role,
            "lang": u.lang,
            "disabled": u.disabled,
            "groups": sorted(u.groups) if u.groups is not None else None,
        }
        for u in users.list_users(_store())
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table("user 用户", "role 角色", "lang", "disabled 停用", "groups 群")
    for r in rows:
        groups = r["groups"]
        shown = "all 全部" if groups is None else ", ".join(map(str, groups))  # type: ignore[arg-type]
        table.add_row(str(r["username"]), str(r["role"]), str(r["lang"]), str(r["disabled"]), shown)
    console.print(table)


@user_app.command("disable")
def user_disable_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name. 登录名。")],
) -> None:
    """Disable a user: their sessions and tokens stop at once. 停用用户。"""
    from shequn.store import users

    users.set_disabled(_store(), username, True)
    console.print(f"user {username} disabled / 已停用", highlight=False)


@user_app.command("enable")
def user_enable_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name. 登录名。")],
) -> None:
    """Enable a disabled user again. 重新启用用户。"""
    from shequn.store import users

    users.set_disabled(_store(), username, False)
    console.print(f"user {username} enabled / 已启用", highlight=False)


@user_app.command("groups")
def user_groups_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name. 登录名。")],
    group: Annotated[list[str], typer.Argument(help="Groups (name or id). 群。")],
) -> None:
    """Set the groups a leader may see. 设置群主负责的群。"""
    from shequn.analytics.run import resolve_groups
    from shequn.store import users

    store = _store()
    user = users.find_user(store, username)
    users.set_groups(store, user.id, resolve_groups(store, group) or [])
    console.print(f"user {username}: {len(group)} group(s) / 个群", highlight=False)


@user_app.command("token")
def user_token_cmd(
    username: Annotated[str, typer.Argument(help="Sign-in name. 登录名。")],
    name: Annotated[str, typer.Option("--name", help="What the token is for. 用途。")] = "script",
) -> None:
    """Make an API token for scripts; it is shown once. 生成 API 令牌（仅显示一次）。"""
    from shequn.store import users

    store = _store()
    user = users.find_user(store, username)
    token = users.create_api_token(store, user.id, name)
    console.print(token, highlight=False)
    err.print("use: Authorization: Bearer <token> — shown once / 仅显示一次", highlight=False)


@user_app.command("setup-link")
def user_setup_link_cmd(
    base_url: Annotated[
        str, typer.Option("--base-url", help="Where the workspace is served. 工作台地址。")
    ] = "http://127.0.0.1:8000",
) -> None:
    """A one-time link to create the first administrator. 首位管理员的一次性设置链接。"""
    console.print(sign_in_hint(_store(), base_url.rstrip("/")), highlight=False)


def refresh_cmd(
    engine: Annotated[
        str, typer.Option("--engine", help="auto, duckdb, postgres or spark. 计算引擎。")
    ] = "auto",
) -> None:
    """Label new messages, recompute the insights, sync the inbox. 更新标注、分析与待办。"""
    from shequn.workspace import refresh_workspace

    path = refresh_workspace(
        _store(), engine_kind=engine, progress=lambda msg: err.print(msg, highlight=False)
    )
    console.print(f"insights / 分析结果: {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the workspace commands to the main app."""
    app.command("serve")(serve_cmd)
    app.command("refresh")(refresh_cmd)
    app.add_typer(user_app, name="user")
