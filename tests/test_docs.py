"""Every CLI command and option, and every setting, is documented."""

from __future__ import annotations

from pathlib import Path

import typer.main

from shequn.cli import app
from shequn.config import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _commands(group, prefix: str = "shequn"):
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a sub-group (typer ships its own click classes)
            yield from _commands(cmd, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", cmd


def test_every_command_and_option_is_in_docs_cli():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    root = typer.main.get_command(app)
    assert hasattr(root, "commands")
    for full, cmd in _commands(root):
        assert f"`{full}" in text, f"{full} is not documented in docs/cli.md"
        row = next(line for line in text.splitlines() if f"`{full}" in line)
        for param in cmd.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in row, f"{full} {opt} is not documented in docs/cli.md"
    for param in root.params:
        for opt in param.opts:
            if opt.startswith("--") and opt not in ("--install-completion", "--show-completion"):
                assert opt in text, f"global option {opt} is not documented"


def test_every_setting_is_in_docs_settings():
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`SHEQUN_{name.upper()}`" in text, f"setting {name} is not documented"
