"""`shequn group`: show and set a group's settings (theme, keywords, kind, rules, zone, answer
window) and suggest its keywords. Each command parses arguments, calls one function of
shequn.group_settings and renders the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from shequn.cli_analytics import one_group  # groups resolved as `shequn windows set` does
from shequn.errors import InputError

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

group_app = typer.Typer(
    help="A group's settings: theme, keywords, kind, answer window. "
    "群设置：主题、关键词、类型、回应时限。",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts. 输出 JSON。")]
GroupArg = Annotated[str, typer.Argument(help="Group name, platform id or id. 群。")]


def _store() -> Any:
    from shequn.store.db import open_store

    return open_store()


def _print_json(data: Any) -> None:
    from shequn.cli import _print_json as print_json

    print_json(data)


@group_app.command("show")
def show_cmd(group: GroupArg, as_json: JsonOpt = False) -> None:
    """A group's settings and message counts. 查看群设置与消息数。"""
    from shequn.group_settings import group_settings

    store = _store()
    settings = group_settings(store, one_group(store, group))
    if as_json:
        _print_json(asdict(settings))
        return
    _show(settings)


def _show(s: Any) -> None:
    window = (
        f"{s.answer_window} min"
        if s.answer_window is not None
        else f"default {s.effective_answer_window} min / 默认 {s.effective_answer_window} 分钟"
    )
    table = Table(show_header=False, box=None)
    for label, value in (
        ("group / 群", f"{s.name} (id {s.id})"),
        ("platform / 平台", s.platform),
        ("kind / 类型", s.kind or "—"),
        ("theme / 主题", s.theme or f"— (name used / 以群名代替: {s.name})"),
        ("keywords / 关键词", "、".join(s.keywords) or "—"),
        ("rules / 群规", s.rules or "—"),
        ("timezone / 时区", s.timezone or "— (store default / 默认)"),
        ("answer window / 回应时限", window),
        ("messages / 消息", f"{s.messages:,}"),
        ("labelled / 已标注", f"{s.labelled:,}"),
    ):
        table.add_row(label, value)
    console.print(table, markup=False, highlight=False)


@group_app.command("set")
def set_cmd(
    group: GroupArg,
    theme: Annotated[
        str | None,
        typer.Option("--theme", help='Theme description; "" clears. 主题描述，空串清除。'),
    ] = None,
    keywords: Annotated[
        str | None,
        typer.Option(
            "--keywords", help='"a,b,c" or "a，b，c"; "" clears. 关键词，逗号分隔，空串清除。'
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", help="interest|brand|knowledge|product|learning. 群类型。"),
    ] = None,
    rules: Annotated[
        str | None, typer.Option("--rules", help='Group rules; "" clears. 群规，空串清除。')
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Area/City, e.g. Asia/Shanghai. 时区。")
    ] = None,
    answer_window: Annotated[
        int | None,
        typer.Option("--answer-window", help="Minutes a question may wait (0–10080). 回应时限。"),
    ] = None,
    clear_answer_window: Annotated[
        bool,
        typer.Option("--clear-answer-window", help="Back to the default 30. 恢复默认 30 分钟。"),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Set a group's settings; a new theme or keywords re-scores its messages.
    设置群的主题、关键词等；主题或关键词变化时重新打分。"""
    from shequn.group_settings import update_group_settings

    if answer_window is not None and clear_answer_window:
        raise InputError(
            "give --answer-window or --clear-answer-window, not both", field="answer_window"
        )
    given = {"theme": theme, "keywords": keywords, "kind": kind, "rules": rules}
    values: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if timezone is not None:
        values["timezone"] = timezone
    if answer_window is not None or clear_answer_window:
        values["answer_window"] = answer_window
    if not values:
        raise InputError("nothing to set; see `shequn group set --help`", field="settings")
    store = _store()
    cid = one_group(store, group)
    with _progress(quiet=as_json) as progress:
        result = update_group_settings(store, cid, values, progress=progress)
    _report(result, as_json)


@contextmanager
def _progress(*, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr fed with (done, total); silent for --json or a pipe."""
    bar = Progress(
        TextColumn("re-scoring / 重新打分"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=quiet or not err.is_terminal,
    )
    task = bar.add_task("rescore", total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield advance


def _report(result: Any, as_json: bool) -> None:
    if as_json:
        _print_json(
            {
                "settings": asdict(result.settings),
                "changed": result.changed,
                "rescored": result.rescored,
                "rescored_messages": result.rescored_messages,
            }
        )
        return
    if not result.changed:
        console.print("nothing changed / 无变化")
    else:
        console.print(f"updated / 已更新: {', '.join(result.changed)}", highlight=False)
    if result.rescored:
        console.print(
            f"re-scored {result.settings.labelled:,} labelled messages, "
            f"{result.rescored_messages:,} changed / 已重新打分 {result.settings.labelled:,} "
            f"条，{result.rescored_messages:,} 条有变化; run `shequn refresh` to see the new "
            "theme fit / 运行 shequn refresh 查看新的主题契合度",
            highlight=False,
        )
    _show(result.settings)


@group_app.command("suggest-keywords")
def suggest_cmd(
    group: GroupArg,
    top: Annotated[int, typer.Option("--top", help="How many terms. 词数。")] = 12,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Store them as the keywords and re-score. 保存为关键词。"),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The group's distinctive terms against the other groups (TF-IDF), with scores.
    按 TF-IDF 推荐本群特有的关键词。"""
    from shequn.group_settings import suggest_group_keywords, update_group_settings

    store = _store()
    cid = one_group(store, group)
    terms = suggest_group_keywords(store, cid, top=top)
    if apply and not terms:
        raise InputError("no terms to apply: the group has too few messages", field="keywords")
    result = None
    if apply:
        with _progress(quiet=as_json) as progress:
            values = {"keywords": [term for term, _score in terms]}
            result = update_group_settings(store, cid, values, progress=progress)
    if as_json:
        out: dict[str, Any] = {"group": cid, "terms": [{"term": w, "score": s} for w, s in terms]}
        if result is not None:
            out |= {"applied": True, "rescored_messages": result.rescored_messages}
        _print_json(out)
        return
    _terms_table(terms)
    if result is not None:
        _report(result, as_json=False)


def _terms_table(terms: list[tuple[str, float]]) -> None:
    if not terms:
        console.print("no distinctive terms yet / 暂无特征词（消息太少）")
        return
    table = Table("term / 词", "score / 分数")
    for term, score in terms:
        table.add_row(term, f"{score:.3f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the `shequn group` commands to the main app."""
    app.add_typer(group_app, name="group")
