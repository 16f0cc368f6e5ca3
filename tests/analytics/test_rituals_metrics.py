"""`newcomer_intros` and `intro_rate` on a hand-built store: joiners in Asia/Shanghai (one just
after local midnight), a late introduction, a silent joiner, a rejoin, a bot and an operator,
an empty group; every hour worked out by hand in the docstrings."""

from __future__ import annotations

import pytest

from analytics_builder import StoreBuilder, at, rows, run
from shequn.errors import InputError

SH = "Asia/Shanghai"
SINCE, UNTIL = "2026-03-02", "2026-03-08"
COLS = (
    "display_name",
    "join_day",
    "introduced",
    "intro_hours",
    "within_window",
    "first_message_hours",
    "days_since_join",
)


def intro_groups(store: StoreBuilder) -> dict[str, int]:
    """新人群 (Shanghai), period Mon 2 – Sun 8 March 2026, local times:
    - B joins 2 Mar 10:00, says 大家好 12:00 (2 h), introduces 5 Mar 10:00 (72 h: late);
    - A joins 3 Mar 00:30 (16:30 UTC on the 2nd: local day the 3rd), says hi 01:00 (0.5 h),
      introduces 02:00 (1.5 h);
    - C joins 4 Mar 09:00 and never speaks (4 days to the 8th);
    - G was in from 25 to 27 Feb (introduced then), rejoins 5 Mar 10:00 and introduces 10:45:
      0.75 h, half up 0.8 (his first message too);
    - D joins 6 Mar 20:00, says ok 20:06 (0.1 h), never introduces;
    - not newcomers: the bot (joins 2 Mar, "introduces"), op (an admin joining 2 Mar, intro),
      E (joined 20 Feb, introduces in the period).
    读书会 (UTC): P and Q join 2 Mar 09:00, introduce after 1 h and 2 h (median 1.5 h).
    空群: only a bot joins: no newcomers.
    """
    g = store.group("新人群", tz=SH)
    club = store.group("读书会", tz="UTC")
    empty = store.group("空群", tz="UTC")
    a, b, c, d, e, gg, op, p, q = (
        store.person(n) for n in ("A", "B", "C", "D", "E", "G", "op", "P", "Q")
    )
    bot = store.person("bot", bot=True)

    def intro(group: int, who: int, when: str, tz: str = SH) -> None:
        store.label(group, store.say(group, who, at(when, tz), "我叫…"), is_intro=True)

    store.member(g, b, joined=at("2026-03-02 10:00", SH))
    store.say(g, b, at("2026-03-02 12:00", SH), "大家好")
    intro(g, b, "2026-03-05 10:00")
    store.member(g, a, joined=at("2026-03-03 00:30", SH))
    store.say(g, a, at("2026-03-03 01:00", SH), "hi")
    intro(g, a, "2026-03-03 02:00")
    store.member(g, c, joined=at("2026-03-04 09:00", SH))
    store.member(g, gg, joined=at("2026-02-25 10:00", SH), left=at("2026-02-27 10:00", SH))
    intro(g, gg, "2026-02-26 10:00")
    store.member(g, gg, joined=at("2026-03-05 10:00", SH))
    intro(g, gg, "2026-03-05 10:45")
    store.member(g, d, joined=at("2026-03-06 20:00", SH))
    store.say(g, d, at("2026-03-06 20:06", SH), "ok")
    store.member(g, bot, joined=at("2026-03-02 09:00", SH))
    intro(g, bot, "2026-03-02 09:01")
    store.member(g, op, joined=at("2026-03-02 09:00", SH), role="admin")
    intro(g, op, "2026-03-02 09:30")
    store.member(g, e, joined=at("2026-02-20 09:00", SH))
    intro(g, e, "2026-03-03 09:00")
    for who, hour in ((p, 10), (q, 11)):
        store.member(club, who, joined=at("2026-03-02 09:00"))
        intro(club, who, f"2026-03-02 {hour}:00", "UTC")
    store.member(empty, bot, joined=at("2026-03-03 09:00"))
    return {"g": g, "club": club, "empty": empty}


def test_newcomer_intros(store):
    intro_groups(store)
    r = run(store, "newcomer_intros", since=SINCE, until=UNTIL)
    assert rows(r, *COLS) == [
        ("B", "2026-03-02", True, 72.0, False, 2.0, 6),
        ("A", "2026-03-03", True, 1.5, True, 0.5, 5),
        ("C", "2026-03-04", False, None, False, None, 4),
        ("G", "2026-03-05", True, 0.8, True, 0.8, 3),
        ("D", "2026-03-06", False, None, False, 0.1, 2),
        ("P", "2026-03-02", True, 1.0, True, 1.0, 6),
        ("Q", "2026-03-02", True, 2.0, True, 2.0, 6),
    ]
    assert r.whys[:5] == [
        "introduced themselves 72 h after joining (past the window)",
        "introduced themselves 1.5 h after joining",
        "no self-introduction 4 days after joining, silent",
        "introduced themselves 0.8 h after joining",
        "no self-introduction 2 days after joining; first spoke 0.1 h after joining",
    ]
    why = r.metric.why
    assert why is not None
    assert [why(row, "zh") for row in r.rows()[:3]] == [
        "加入 72 小时后做了自我介绍（超出时限）",
        "加入 1.5 小时后做了自我介绍",
        "加入 4 天未自我介绍，也未发言",
    ]


def test_a_wider_window_takes_the_late_intro(store):
    intro_groups(store)
    r = run(store, "newcomer_intros", since=SINCE, until=UNTIL, intro_hours=72)
    assert [row["within_window"] for row in r.rows()][:2] == [True, True]


def test_intro_rate(store):
    """新人群: 5 joiners, in time A and G → 2/5 = 0.4; introduced at 2700 s, 5400 s, 259200 s:
    median 5400 s = 1.5 h. 读书会: 2/2, median (3600 + 7200)/2 s = 1.5 h. 空群: nothing."""
    intro_groups(store)
    r = run(store, "intro_rate", since=SINCE, until=UNTIL)
    cols = ("name", "joiners", "introduced_within", "intro_share", "median_intro_hours")
    assert rows(r, *cols) == [
        ("新人群", 5, 2, 0.4, 1.5),
        ("读书会", 2, 2, 1.0, 1.5),
        ("空群", 0, 0, 0.0, None),
    ]
    assert r.whys == [
        "2 of 5 newcomers introduced themselves in time (40%); median 1.5 h after joining",
        "2 of 2 newcomers introduced themselves in time (100%); median 1.5 h after joining",
        "no newcomers in the period",
    ]
    why = r.metric.why
    assert why is not None
    assert why(r.rows()[0], "zh") == "新成员 5 人，2 人按时自我介绍（40%），中位用时 1.5 小时"


def test_local_midnight(store):
    """Tuesday 3 March alone: A joined at 00:30 in Shanghai, 16:30 UTC on the 2nd; the day is
    the group's own, so A is that day's only newcomer (B joined on the 2nd)."""
    intro_groups(store)
    r = run(store, "newcomer_intros", since="2026-03-03", until="2026-03-03")
    assert rows(r, *COLS) == [("A", "2026-03-03", True, 1.5, True, 0.5, 0)]


def test_window_must_be_positive(store):
    intro_groups(store)
    with pytest.raises(InputError):
        run(store, "intro_rate", since=SINCE, until=UNTIL, intro_hours=0)
