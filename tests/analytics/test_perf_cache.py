"""Performance rewrites that must not change results. The level grid's window matching
(`members._in_windows`): an equi-join on candidate weeks must keep exactly the
(day, week) pairs the plain range condition keeps.

Worked by hand for window_days 10 and until_day 24: week w ends on min(7w + 3, 24) and starts
10 days earlier + 1. Week 1 covers days -6…3 (ends Sunday 3), week 2 covers 1…10, week 3 covers
8…17, week 4 covers 15…24 (Sunday 31 is after until_day 24, so it ends on 24).
"""

from __future__ import annotations

import ibis

from shequn.analytics.metrics.members import _in_windows


def test_days_land_in_every_window_that_holds_them():
    weeks = ibis.memtable(
        {"week": [1, 2, 3, 4], "start_day": [-6, 1, 8, 15], "end_day": [3, 10, 17, 24]}
    ).cast({"week": "int64", "start_day": "int64", "end_day": "int64"})
    days = ibis.memtable({"day": [0, 3, 4, 9, 10, 11, 17, 24]}).cast({"day": "int64"})
    got = _in_windows(days, weeks, {"window_days": 10}).select("day", "week")
    pairs = sorted(tuple(r.values()) for r in ibis.duckdb.connect().to_pyarrow(got).to_pylist())
    # day 3 (a Sunday) is in week 1's and week 2's windows; day 4 only in week 2's (week 1
    # ended on 3); days 9 and 10 in week 2's (…10) and week 3's (8…); 17 in weeks 3 and 4
    assert pairs == [
        (0, 1),
        (3, 1),
        (3, 2),
        (4, 2),
        (9, 2),
        (9, 3),
        (10, 2),
        (10, 3),
        (11, 3),
        (17, 3),
        (17, 4),
        (24, 4),
    ]
