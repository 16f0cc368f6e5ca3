"""Placeholder: the commands of this module are being written (see the lead's brief)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
