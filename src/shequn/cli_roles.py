"""`shequn role`: set and list who runs each group (owner, admin, operator) — docs/roles.md.

Each command parses arguments, calls one function of shequn.store.roles and renders the result.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shequn.cli_analytics import one_group  # groups resolved as `shequn windows set` does

console = Console(soft_wrap=True)

role_app = typer.Typer(
    help="Member roles: owners, admins and operators of each group. 成员角色：群主、管理员、运营。",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts. 输出 JSON。")]


def _store() -> Any:
    from shequn.store.db import open_store

    return open_store()


@role_app.command("set")
def set_cmd(
    group: Annotated[str, typer.Argument(help="Group name, platform id or id. 群。")],
    member: Annotated[
        str, typer.Argument(help="Member's platform id or display name. 成员账号或昵称。")
    ],
    role: Annotated[
        str,
        typer.Argument(
            help="owner, admin, operator, or member (not an operator, whatever an export says). "
            "群主/管理员/运营/普通成员。"
        ),
    ],
) -> None:
    """Set a member's role in a group; imports never change it afterwards. 设置成员角色。"""
    from shequn.store.roles import find_member, set_role

    store = _store()
    cid = one_group(store, group)
    account = find_member(store, community_id=cid, ref=member)
    set_role(store, community_id=cid, account_id=account, role=role.strip().lower())
    console.print(
        f"{member} is now {role} in group {cid} / {member} 在群 {cid} 的角色已设为 {role}",
        markup=False,
        highlight=False,
    )


@role_app.command("list")
def list_cmd(
    group: Annotated[str | None, typer.Argument(help="Group (default: all). 群。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Stored roles: role, where it came from (import/operator) and when. 查看成员角色。"""
    from shequn.store.roles import list_roles

    store = _store()
    rows = list_roles(store, one_group(store, group) if group else None)
    if as_json:
        from shequn.cli import _print_json

        _print_json([{**r.__dict__, "updated_at": r.updated_at.isoformat()} for r in rows])
        return
    if not rows:
        console.print("no roles stored / 暂无角色记录")
        return
    table = Table(
        "group / 群", "member / 成员", "id", "role / 角色", "source / 来源", "when / 时间"
    )
    for r in rows:
        when = r.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        table.add_row(r.community, r.display_name or "", r.platform_id, r.role, r.source, when)
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add `shequn role` to `app`."""
    app.add_typer(role_app, name="role")
