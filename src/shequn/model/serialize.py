"""Records as plain JSON-able dicts: for golden files, `--json` output and debugging."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from shequn.model.records import Record


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def record_to_dict(record: Record) -> dict[str, Any]:
    """`{"type": "Message", ...fields}` with datetimes in ISO 8601 (UTC offset kept)."""
    out: dict[str, Any] = {"type": type(record).__name__}
    out.update(_plain(record))
    return out
