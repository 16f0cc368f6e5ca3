"""`shequn demo`: generate the program, write real export files, import them through the parsers."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from shequn.demo.generate import generate_program, write_program
from shequn.demo.operate import operate_program
from shequn.errors import InputError
from shequn.importing import import_path
from shequn.store.search import index_pending
from shequn.store.summary import GroupSummary, group_summaries

MARKER = ".shequn-demo"


def _fresh_dir(out_dir: Path) -> None:
    """Empty `out_dir` for the demo, but only if it is empty or an earlier demo's folder."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MARKER).exists():
            raise InputError(
                "folder is not empty and not an earlier demo's; choose another "
                "--out / 目录非空，请换一个",
                file=str(out_dir),
                field="--out",
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).write_text("written by shequn demo\n", encoding="utf-8")


def run_demo(
    engine: Engine, *, out_dir: Path, seed: int = 7, messages: int = 100_000, console: Any = None
) -> list[GroupSummary]:
    """Write the demo exports to `out_dir` (replacing an earlier demo there) and import them.

    Then act as the operator would (demo.operate): the assistants become operators, two groups
    get discussion windows, and a product-data file is written to `out_dir` and imported.
    """
    program = generate_program(seed=seed, messages=messages)
    _fresh_dir(out_dir)
    written = write_program(program, out_dir)
    for (_platform, chat), (fmt, path) in zip(program, written, strict=True):
        # local times in an export are in the chat's zone, as a real phone or PC writes them
        report = import_path(engine, path, fmt=fmt, tz=chat.timezone, index=False)
        if console is not None:
            c = report.counts
            console.print(
                f"{report.format_title}: {path.name} — {c.get('messages_added', 0):,} messages",
                highlight=False,
            )
    operated = operate_program(engine, program, out_dir=out_dir, seed=seed)
    if console is not None:
        console.print(operated.describe(), highlight=False)
    index_pending(engine)
    return group_summaries(engine)
