"""Small helpers the readers share: links in text, epoch conversion."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from shequn.errors import InputError

_URL = re.compile(r"https?://[^\s<>\"'，。！？、）】」]+", re.IGNORECASE)


def find_links(text: str) -> list[str]:
    """URLs in free text, trailing punctuation trimmed."""
    if "://" not in text:
        return []
    return [m.group(0).rstrip(".,;:!?)]}") for m in _URL.finditer(text)]


def from_epoch(value: str | int | float, *, field: str) -> datetime:
    """Epoch seconds (int, float or numeric string) as aware UTC."""
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise InputError(f"not an epoch time: {value!r}", field=field) from exc
