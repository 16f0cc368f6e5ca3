"""The `shequn` command: parses arguments, calls one core function, renders the result."""

from __future__ import annotations

import logging
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from shequn.config import get_settings
from shequn.errors import InputError, ShequnError

app = typer.Typer(
    help="社群 shequn — community operations: import chat history, know your "
    "members, act on it. 导入聊天记录，了解成员，开展运营。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
people_app = typer.Typer(
    help="People across platforms: link and unlink accounts. 跨平台的成员：关联与解除关联账号。",
    no_args_is_help=True,
)
app.add_typer(people_app, name="people")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts. 输出 JSON。")]


def _engine() -> Any:
    from shequn.store.db import open_store

    return open_store()


def _print_json(data: Any) -> None:
    sys.stdout.write(
        orjson.dumps(
            data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str
        ).decode()
        + "\n"
    )


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            envvar="SHEQUN_DATABASE_URL",
            help="Store URL (default: a SQLite file). 数据库地址。",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details. 输出详细日志。")
    ] = False,
) -> None:
    """Options for every command."""
    settings = get_settings()
    if db:
        settings.database_url = db
    logging.basicConfig(
        level=logging.INFO if verbose else settings.log_level,
        format="%(levelname)s %(name)s: %(message)s",
    )


def run() -> None:
    """Entry point that turns shequn's errors into one clear line and a non-zero exit."""
    try:
        app()
    except InputError as exc:
        err.print(f"[red]error[/red] ({exc.code}): {exc.describe()}", markup=True, highlight=False)
        raise SystemExit(2) from None
    except ShequnError as exc:
        err.print(f"[red]error[/red] ({exc.code}): {exc}", highlight=False)
        raise SystemExit(1) from None


@app.command("import")
def import_cmd(
    path: Annotated[
        Path, typer.Argument(help="Export file, folder or zip. 导出的文件、文件夹或 zip。")
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="Format name or auto (see `shequn formats`). 格式名或 auto。"
        ),
    ] = "auto",
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Zone of timestamps that have none, e.g. Asia/Shanghai. 无时区时间所用的时区。",
        ),
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad",
            help="Import the rest past bad records and list them. 跳过错误记录并列出。",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Read the file again even if it was imported before. 即使已导入也重新读取。",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a chat export into the store. 导入聊天记录导出文件。"""
    from shequn.importing import import_path

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=as_json or not err.is_terminal,
    )
    task: dict[str, Any] = {}

    def on_start(title: str, total: int) -> None:
        if not as_json:
            err.print(f"detected / 识别为: [bold]{title}[/bold]", highlight=False)
        task["id"] = progress.add_task(f"importing {path.name}", total=total)

    def on_progress(n: int) -> None:
        progress.advance(task["id"], n)

    with progress:
        report = import_path(
            _engine(),
            path,
            fmt=fmt,
            tz=tz,
            skip_bad=skip_bad,
            force=force,
            on_start=on_start,
            on_progress=on_progress,
        )
    for w in report.warnings:
        err.print(f"[yellow]warning[/yellow]: {w}", highlight=False)
    skipped = [e.describe() for e in report.skipped]
    if as_json:
        _print_json(
            {
                "run_id": report.run_id,
                "format": report.format,
                "already_imported": report.already_imported,
                "counts": report.counts,
                "skipped": skipped,
                "warnings": report.warnings,
                "timezone": report.timezone,
                "duration_s": round(report.duration_s, 3),
            }
        )
        return
    if report.already_imported:
        console.print(
            f"already imported (run {report.run_id}); nothing to add. "
            f"已导入过，无新增。Use --force to read it again."
        )
        return
    c = report.counts
    console.print(
        f"imported / 已导入 {c['messages_added']:,} new messages of {c['messages_seen']:,} read, "
        f"{c['membership_events_added']:,} new join/leave events, "
        f"{c['communities']} group(s), {c['accounts_added']:,} new accounts "
        f"in {report.duration_s:.1f}s (run {report.run_id})"
    )
    for s in skipped:
        err.print(f"[yellow]skipped[/yellow]: {s}", highlight=False)
    if skipped:
        err.print(f"{len(skipped)} bad record(s) skipped / 跳过 {len(skipped)} 条错误记录")


@app.command("formats")
def formats_cmd(as_json: JsonOpt = False) -> None:
    """List the export formats shequn reads. 列出支持的导出格式。"""
    from shequn.platforms.base import parsers

    rows: list[dict[str, Any]] = [
        {"name": n, "platform": p.platform, "title": p.title, "needs_tz": p.naive_times}
        for n, p in sorted(parsers().items())
    ]
    if as_json:
        _print_json(rows)
        return
    table = Table("format", "platform", "what", "needs --tz")
    for r in rows:
        table.add_row(r["name"], r["platform"], r["title"], "yes" if r["needs_tz"] else "")
    console.print(table)


@app.command("groups")
def groups_cmd(as_json: JsonOpt = False) -> None:
    """Groups in the store with their counts. 列出群组及统计。"""
    from shequn.store.summary import group_summaries

    rows = group_summaries(_engine())
    if as_json:
        _print_json([r.__dict__ for r in rows])
        return
    _groups_table(rows)


def _groups_table(rows: list[Any]) -> None:
    table = Table(
        "group / 群",
        "platform",
        "messages\n消息",
        "speakers\n发言人",
        "members\n成员",
        "joins\n加入",
        "left\n退出",
        "removed\n移出",
        "period (UTC)\n时间范围",
        box=box.SIMPLE_HEAD,
    )
    for r in rows:
        table.add_row(
            r.name,
            r.platform,
            f"{r.messages:,}",
            f"{r.speakers:,}",
            f"{r.members_now:,}",
            str(r.joins),
            str(r.leaves),
            str(r.removals),
            f"{_day(r.first_message)} → {_day(r.last_message)}",
        )
    # piped output keeps whole rows instead of wrapping to 80 columns
    (console if console.is_terminal else Console(width=160)).print(table)


def _day(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d") if dt else ""


@app.command("imports")
def imports_cmd(as_json: JsonOpt = False) -> None:
    """Past import runs and their outcome. 导入记录。"""
    from sqlalchemy import select

    from shequn.store import schema as t

    with _engine().connect() as conn:
        rows = conn.execute(select(t.import_run).order_by(t.import_run.c.id)).mappings().all()
    data = [{**dict(r), "counts": orjson.loads(r["counts"]) if r["counts"] else None} for r in rows]
    if as_json:
        _print_json(data)
        return
    table = Table("run", "status", "format", "source", "started (UTC)", "seconds", "added")
    for r in data:
        added = (r["counts"] or {}).get("messages_added", "")
        table.add_row(
            str(r["id"]),
            r["status"],
            r["format"] or "",
            r["source"],
            r["started_at"].strftime("%Y-%m-%d %H:%M"),
            f"{r['duration_s']:.1f}" if r["duration_s"] else "",
            str(added),
        )
    console.print(table)


@app.command("search")
def search_cmd(
    text: Annotated[str, typer.Argument(help="Words to find (Chinese too). 搜索词（支持中文）。")],
    group: Annotated[
        str | None, typer.Option("--group", help="Group name or id. 群名或群 id。")
    ] = None,
    sender: Annotated[
        str | None, typer.Option("--from", help="Sender name, username or id. 发送者。")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="YYYY-MM-DD (UTC). 起始日期。")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most hits. 最多条数。")] = 20,
    context: Annotated[
        int, typer.Option("--context", help="Neighbours shown on each side. 上下文条数。")
    ] = 2,
    as_json: JsonOpt = False,
) -> None:
    """Search the session archive (会话存档) by words. 按词搜索聊天存档。"""
    from shequn.store.search import index_pending, search

    engine = _engine()
    index_pending(engine)
    since_dt = _parse_day(since, "--since") if since else None
    hits = search(
        engine, text, group=group, sender=sender, since=since_dt, limit=limit, context=context
    )
    if as_json:
        _print_json([h.__dict__ for h in hits])
        return
    if not hits:
        console.print("no messages found / 没有找到消息")
    for h in hits:
        console.rule(f"{h.community} ({h.platform}) · {h.sent_at:%Y-%m-%d %H:%M} UTC", style="dim")
        for at, who, body, is_hit in h.context or [(h.sent_at, h.sender, h.text, True)]:
            style = "bold" if is_hit else "dim"
            console.print(f"[{style}]{at:%m-%d %H:%M} {who or '?'}: [/{style}]", end="")
            console.print(body, style=style, markup=False, highlight=False)


def _parse_day(value: str, field: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InputError(f"expected YYYY-MM-DD, got {value!r}", field=field) from exc


@people_app.command("suggest")
def people_suggest(as_json: JsonOpt = False) -> None:
    """Accounts with matching names that may be one person. 可能是同一人的账号。"""
    from shequn.store.people import suggestions

    found = suggestions(_engine())
    if as_json:
        _print_json(
            [
                {"name": s.name, "reason": s.reason, "accounts": [a.__dict__ for a in s.accounts]}
                for s in found
            ]
        )
        return
    if not found:
        console.print("no suggestions / 暂无建议")
    for s in found:
        refs = " ".join(shlex.quote(f"{a.platform}:{a.platform_id}") for a in s.accounts)
        console.print(f"{s.name} — {s.reason}\n  shequn people link {refs}", markup=False)


@people_app.command("link")
def people_link(
    accounts: Annotated[
        list[str], typer.Argument(help="Accounts as id or platform:platform_id. 账号。")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Make accounts one person. 将多个账号关联为同一人。"""
    from shequn.store.people import link

    person = link(_engine(), accounts)
    if as_json:
        _print_json({"person_id": person})
    else:
        console.print(f"linked into person {person} / 已关联为成员 {person}")


@people_app.command("unlink")
def people_unlink(
    account: Annotated[str, typer.Argument(help="Account as id or platform:platform_id. 账号。")],
    as_json: JsonOpt = False,
) -> None:
    """Give an account its own person again. 解除关联。"""
    from shequn.store.people import unlink

    person = unlink(_engine(), account)
    if as_json:
        _print_json({"person_id": person})
    else:
        console.print(f"account is now person {person} / 该账号现为成员 {person}")


@people_app.command("show")
def people_show(
    account: Annotated[str, typer.Argument(help="Account as id or platform:platform_id. 账号。")],
    as_json: JsonOpt = False,
) -> None:
    """The person an account belongs to and all their accounts. 查看成员的所有账号。"""
    from shequn.store.people import find_account, person_accounts

    engine = _engine()
    acc = find_account(engine, account)
    accs = person_accounts(engine, acc.person_id)
    if as_json:
        _print_json({"person_id": acc.person_id, "accounts": [a.__dict__ for a in accs]})
        return
    console.print(f"person {acc.person_id}:")
    for a in accs:
        console.print(
            f"  {a.id}  {a.platform}:{a.platform_id}  {a.display_name or ''}", markup=False
        )


@app.command("demo")
def demo_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the generated exports. 生成文件目录。"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed. 随机种子。")] = 7,
    messages: Annotated[
        int, typer.Option("--messages", help="About how many messages. 消息数量。")
    ] = 100_000,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Then serve the workspace on 127.0.0.1. 完成后启动工作台。",
        ),
    ] = True,
    port: Annotated[int, typer.Option("--port", help="Workspace port. 工作台端口。")] = 8000,
    as_json: JsonOpt = False,
) -> None:
    """Generate a demo program as real export files, import it, serve the workspace.
    生成并导入演示数据，然后启动运营工作台。"""
    from shequn.demo.run import run_demo

    out_dir = out or get_settings().data_dir / "demo-exports"
    store = _engine()
    summaries = run_demo(
        store, out_dir=out_dir, seed=seed, messages=messages, console=None if as_json else err
    )
    if as_json:
        _print_json([r.__dict__ for r in summaries])
    else:
        _groups_table(summaries)
        console.print(f"exports written to / 导出文件位于 {out_dir}")
    if serve:
        from shequn.cli_web import serve as serve_workspace

        serve_workspace(host="127.0.0.1", port=port, refresh=True)


@app.command("db")
def db_cmd(as_json: JsonOpt = False) -> None:
    """Where the store is; migrates it to the newest schema. 显示数据库位置并升级结构。"""
    from shequn.store.db import open_store

    url = get_settings().resolved_database_url()
    engine = open_store(url)
    if as_json:
        _print_json({"url": engine.url.render_as_string(hide_password=True)})
    else:
        console.print(engine.url.render_as_string(hide_password=True))


from shequn import cli_analytics, cli_groups, cli_roles, cli_text, cli_web  # noqa: E402

cli_analytics.register(app)
cli_text.register(app)
cli_web.register(app)
cli_groups.register(app)
cli_roles.register(app)

if __name__ == "__main__":  # pragma: no cover
    run()
