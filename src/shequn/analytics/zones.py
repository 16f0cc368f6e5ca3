"""Helper tables every engine receives: UTC-offset spans per zone, and a calendar of local days.

The offset spans come from Python's zoneinfo (tzdata), so DuckDB, PostgreSQL and Spark all use
the same zone rules and none needs a time-zone extension.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from shequn.errors import InputError

# Spans cover 1990–2100: enough for any chat history, cheap (a few hundred rows per DST zone).
SPAN_START = int(datetime(1990, 1, 1, tzinfo=UTC).timestamp())
SPAN_END = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())
_DAY = 86400


def _offset(zone: ZoneInfo, epoch: int) -> int:
    off = datetime.fromtimestamp(epoch, tz=zone).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


def _transitions(zone: ZoneInfo) -> list[tuple[int, int]]:
    """(start epoch, offset) of each span of constant offset, found day by day then bisected."""
    spans = [(SPAN_START, _offset(zone, SPAN_START))]
    t = SPAN_START
    while t < SPAN_END:
        nxt = min(t + 7 * _DAY, SPAN_END)
        if _offset(zone, nxt) != spans[-1][1]:
            lo, hi = t, nxt  # offset(lo) == current, offset(hi) differs
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _offset(zone, mid) == spans[-1][1]:
                    lo = mid
                else:
                    hi = mid
            spans.append((hi, _offset(zone, hi)))
        t = nxt
    return spans


def check_zone(name: str) -> str:
    """`name` if it is a known IANA zone, else an InputError naming it."""
    try:
        ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise InputError(f"unknown time zone {name!r}", field="timezone") from exc
    return name


def zone_table(names: Iterable[str]) -> pa.Table:
    """timezone, start_epoch, end_epoch, offset_s: one row per span of constant UTC offset."""
    rows: dict[str, list] = {"timezone": [], "start_epoch": [], "end_epoch": [], "offset_s": []}
    for name in sorted(set(names)):
        spans = _transitions(ZoneInfo(check_zone(name)))
        ends = [s for s, _ in spans[1:]] + [SPAN_END]
        for (start, off), end in zip(spans, ends, strict=True):
            rows["timezone"].append(name)
            rows["start_epoch"].append(start)
            rows["end_epoch"].append(end)
            rows["offset_s"].append(off)
    schema = pa.schema(
        [
            ("timezone", pa.string()),
            ("start_epoch", pa.int64()),
            ("end_epoch", pa.int64()),
            ("offset_s", pa.int64()),
        ]
    )
    return pa.table(rows, schema=schema)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - date(1970, 1, 1)).days


def day_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=day)


def calendar_table(first_day: int, last_day: int) -> pa.Table:
    """day, date (ISO), month index (year*12 + month - 1), day of month, weekday (Mon=0), week."""
    days = list(range(first_day, last_day + 1))
    dates = [day_date(d) for d in days]
    return pa.table(
        {
            "day": pa.array(days, pa.int64()),
            "date": pa.array([d.isoformat() for d in dates], pa.string()),
            "month": pa.array([d.year * 12 + d.month - 1 for d in dates], pa.int64()),
            "dom": pa.array([d.day for d in dates], pa.int64()),
            "weekday": pa.array([d.weekday() for d in dates], pa.int64()),
            "week": pa.array([(d + 3) // 7 for d in days], pa.int64()),
        }
    )
