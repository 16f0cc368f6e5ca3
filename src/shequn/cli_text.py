"""`shequn classify`: every text rule on the operator's own messages, as JSON lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer


def classify_cmd(
    path: Annotated[
        Path | None,
        typer.Argument(help="Text or JSONL file; - or nothing reads standard input. 输入文件。"),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            "--group", help="Score theme fit against this group's theme. 按此群主题打分。"
        ),
    ] = None,
) -> None:
    """Label messages (question, feedback, off-topic, intro, check-in, theme fit) as JSON lines.
    逐条输出消息的分类、分数与理由。"""
    from shequn.text.classify import ThemeSource, classify_message, read_messages

    themes: dict[str, ThemeSource | None] = {}

    def theme_of(name: str) -> ThemeSource | None:
        if name not in themes:
            themes[name] = _store_theme(name)
        return themes[name]

    default = theme_of(group) if group else None
    stdin = path is None or str(path) == "-"
    source = "<stdin>" if stdin else str(path)
    stream = sys.stdin if stdin else open(source, encoding="utf-8-sig")  # noqa: SIM115
    try:
        for text, theme in read_messages(stream, source=source, theme_of=theme_of):
            out = classify_message(text, theme or default)
            sys.stdout.write(orjson.dumps(out).decode() + "\n")
    finally:
        if stream is not sys.stdin:
            stream.close()


def _store_theme(name: str) -> Any:
    """The theme and keywords the store keeps for the group called `name` (None if unset)."""
    from sqlalchemy import or_, select

    from shequn.store import schema as t
    from shequn.store.db import open_store
    from shequn.text.classify import ThemeSource

    c = t.community.c
    with open_store().connect() as conn:
        row = conn.execute(
            select(c.theme, c.keywords, c.name).where(or_(c.name == name, c.platform_id == name))
        ).first()
    if row is None:
        from shequn.errors import NotFound

        raise NotFound(f"no group {name!r} (see `shequn groups`)")
    keywords = tuple(orjson.loads(row.keywords)) if row.keywords else ()
    return ThemeSource(row.theme or row.name, keywords)


def register(app: typer.Typer) -> None:
    """Add the text commands to the main app."""
    app.command("classify")(classify_cmd)
