"""Edge cases of the level grid (analytics/metrics/levels.py): spells that begin or end before
the calendar's first week, a spell that begins and ends inside one week, and a grace run longer
than two weeks (the rows before a week are found by week number, not by a window pass)."""

from __future__ import annotations

from datetime import timedelta

from analytics_builder import SIMPLE_LEVELS as SIMPLE
from analytics_builder import at, day, rows, run

COLS = ("display_name", "week_start_day", "score", "level", "previous_level", "changed")
# Score = messages in the week (window 7 days); bars 1 / 10 / 30; demotion under 1 / 9 / 27.


def test_spells_before_the_calendar_and_inside_one_week(store):
    g = store.group("g")
    s, a, b, c = (store.person(n) for n in "sabc")
    store.member(g, a, joined=at("2025-06-01 10:00"))  # long before any message
    store.member(g, b, joined=at("2026-03-10 10:00"), left=at("2026-03-12 10:00"))  # Tue → Thu
    store.member(g, c, joined=at("2025-06-01 10:00"), left=at("2025-07-01 10:00"))
    store.say(g, s, at("2026-03-02 10:00"))  # the first message: the calendar starts on 1 Mar
    store.say(g, b, at("2026-03-11 10:00"))
    h = run(
        store,
        "level_history",
        since="2026-02-23",
        until="2026-03-22",
        changes_only=False,
        **SIMPLE,
    )
    w = {d: day(d) for d in ("2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16")}
    # s: no spell, a member from the calendar's first week (23 Feb, holding 1 Mar); 1 message
    # on 2 Mar reaches the participant bar; 9 Mar is one week under 1, 16 Mar the second: demoted.
    # a: joined before the calendar, so covered from its first week, never new, score 0.
    # b: joined Tue 10 Mar and left Thu 12 Mar: the spell covers no Sunday, but b spoke in the
    # week of 9 Mar (newcomer: joined 10 Mar ≥ 15 Mar − 13); not in the group on 16 Mar.
    # c: joined and left before the calendar: never in the group, no rows.
    assert rows(h, *COLS) == [
        ("s", w["2026-02-23"], 0, "lurker", None, True),
        ("s", w["2026-03-02"], 1, "participant", "lurker", True),
        ("s", w["2026-03-09"], 0, "participant", "participant", False),
        ("s", w["2026-03-16"], 0, "lurker", "participant", True),
        ("a", w["2026-02-23"], 0, "lurker", None, True),
        ("a", w["2026-03-02"], 0, "lurker", "lurker", False),
        ("a", w["2026-03-09"], 0, "lurker", "lurker", False),
        ("a", w["2026-03-16"], 0, "lurker", "lurker", False),
        ("b", w["2026-03-09"], 1, "newcomer", None, True),
    ]


def test_a_grace_run_of_three_weeks(store):
    g = store.group("g")
    m = store.person("m")
    store.member(g, m)
    monday = at("2026-03-02 10:00")
    for week, n in enumerate([10, 8, 8, 8, 9]):
        for i in range(n):
            store.say(g, m, monday + timedelta(weeks=week, minutes=i))
    params = SIMPLE | {"grace_weeks": 3}
    h = run(
        store, "level_history", since="2026-03-02", until="2026-04-05", changes_only=False, **params
    )
    week = [day("2026-03-02") + 7 * k for k in range(5)]
    # 10 reaches the contributor bar; 8, 8 are two weeks under 9 (kept with 3 weeks of grace);
    # the third 8 completes the run: participant (8 ≥ 1); 9 does not reach 10 again.
    assert rows(h, *COLS) == [
        ("m", week[0], 10, "contributor", "lurker", True),
        ("m", week[1], 8, "contributor", "contributor", False),
        ("m", week[2], 8, "contributor", "contributor", False),
        ("m", week[3], 8, "participant", "contributor", True),
        ("m", week[4], 9, "participant", "participant", False),
    ]
    assert [r["reason"] for r in h.rows() if r["changed"]][1] == (
        "demoted to participant after 3 weeks below 90% of the contributor bar (score under 9)"
    )
