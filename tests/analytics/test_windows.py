"""Discussion windows (R14): the schedule text, its storage, and attendance per session.

March 2026: Monday the 2nd to Friday the 6th; Saturday the 7th has no session.
"""

from __future__ import annotations

import pytest

from analytics_builder import at, day, rows, run
from shequn.analytics.windows import Window, list_windows, parse_windows, set_windows
from shequn.errors import InputError, NotFound

MON_FRI = (0, 1, 2, 3, 4)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("Mon-Fri 19:20-20:00", [(MON_FRI, 1160, 1200)]),
        ("周一至周五 19:20-20:00", [(MON_FRI, 1160, 1200)]),
        ("星期一到星期五19:20～20:00", [(MON_FRI, 1160, 1200)]),
        ("工作日 19:20 - 20:00", [(MON_FRI, 1160, 1200)]),
        ("Sat,Sun 10:00-11:00; 周三 12:00-12:30", [((5, 6), 600, 660), ((2,), 720, 750)]),
        ("周六、周日 9:00-9:30", [((5, 6), 540, 570)]),
        ("Fri-Mon 21:00-24:00", [((0, 4, 5, 6), 1260, 1440)]),  # a range wraps past Sunday
        ("daily 08:00-08:15；Mon 12:00-13:00", [(tuple(range(7)), 480, 495), ((0,), 720, 780)]),
    ],
)
def test_parse_windows(spec, expected):
    assert parse_windows(spec) == expected


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        ("19:20-20:00", "days", "expected weekdays before the time"),
        ("Mon-Fri", "time", "expected a time range"),
        ("Mon-Fri 7pm-8pm", "time", "expected a time range"),
        ("Mon-Fri 20:00-19:20", "time", "must end after it starts"),
        ("Mon 23:00-01:00", "time", "must end after it starts"),
        ("Mon 25:00-26:00", "time", "no such time"),
        ("Mon 10:00-10:60", "time", "no such time"),
        ("Xyz 10:00-11:00", "days", "unknown weekday 'Xyz'"),
        ("Mon-Tue-Wed 10:00-11:00", "days", "bad weekday range"),
        ("Mon-Fri 19:00-20:00; Fri 19:30-21:00", "time", "overlaps an earlier window"),
        ("", "windows", "no window given"),
        (" ; ", "windows", "no window given"),
    ],
)
def test_parse_windows_errors_name_the_field(spec, field, message):
    with pytest.raises(InputError, match=message) as err:
        parse_windows(spec)
    assert err.value.field == field


def test_set_and_list_windows(store):
    g, h = store.group("g"), store.group("h")
    saved = set_windows(store.engine, g, "Sat,Sun 10:00-11:00; 周一至周五 19:20-20:00")
    assert saved == [Window(g, (5, 6), 600, 660), Window(g, MON_FRI, 1160, 1200)]
    set_windows(store.engine, h, "Wed 12:00-12:30")
    assert [w.describe() for w in list_windows(store.engine)] == [
        "Sat,Sun 10:00-11:00",
        "Mon-Fri 19:20-20:00",
        "Wed 12:00-12:30",
    ]
    assert [w.describe("zh") for w in list_windows(store.engine, g)] == [
        "周六,周日 10:00-11:00",
        "周一至周五 19:20-20:00",
    ]
    # a new schedule replaces the old one; 'none' removes it; a bad one changes nothing
    assert set_windows(store.engine, g, "Tue 08:00-09:00") == [Window(g, (1,), 480, 540)]
    with pytest.raises(InputError):
        set_windows(store.engine, g, "Tue 09:00-08:00")
    assert list_windows(store.engine, g) == [Window(g, (1,), 480, 540)]
    assert set_windows(store.engine, g, "none") == []
    assert list_windows(store.engine) == [Window(h, (2,), 720, 750)]
    with pytest.raises(NotFound):
        set_windows(store.engine, 999, "Mon 10:00-11:00")


def _shanghai_sessions(store):
    """A Shanghai group with Mon–Fri 19:20–20:00 sessions (11:20–12:00 UTC).

    ann and bob were there before the history; cat joins Wed Mar 4; dan leaves Tue Mar 3 in the
    morning (so he is there on Monday only); an admin and a bot never count as members.
    """
    g = store.group("上海群", tz="Asia/Shanghai")
    set_windows(store.engine, g, "Mon-Fri 19:20-20:00")
    ann, bob, cat, dan = (store.person(n) for n in ("ann", "bob", "cat", "dan"))
    op, bot = store.person("op"), store.person("bot", bot=True)
    store.member(g, ann)
    store.member(g, bob)
    store.member(g, cat, joined=at("2026-03-04 10:00", "Asia/Shanghai"))
    store.member(g, dan, left=at("2026-03-03 08:00", "Asia/Shanghai"))
    store.member(g, op, role="admin")
    store.member(g, bot)
    store.say(g, ann, at("2026-03-02 11:25"))  # 19:25 local, Mon: in
    store.say(g, ann, at("2026-03-02 12:00"))  # 20:00 local: the window has ended
    store.say(g, dan, at("2026-03-02 11:21"))  # Mon: in
    store.say(g, op, at("2026-03-02 11:30"))  # counted in messages, not in attendance
    store.say(g, bot, at("2026-03-02 11:30"))  # a bot's message is not counted at all
    store.say(g, bob, at("2026-03-03 11:19"))  # 19:19 local: too early
    store.say(g, bob, at("2026-03-03 11:59"))  # 19:59 local, Tue: in
    store.say(g, cat, at("2026-03-06 11:40"))  # Fri: in
    store.say(g, ann, at("2026-03-06 19:25"))  # 03:25 on Sat Mar 7 local: no session
    return g, (ann, bob, cat, dan)


def test_attendance_per_session_in_the_group_zone(store):
    g, _ = _shanghai_sessions(store)
    r = run(store, "discussion_attendance", since="2026-03-02", until="2026-03-07")
    # Mon: ann, bob, dan present; ann and dan spoke; messages ann + dan + op = 3.
    # Tue: dan has left; bob spoke. Wed, Thu: cat has joined, nobody spoke. Fri: cat spoke.
    assert rows(r) == [
        (g, "上海群", "2026-03-02", day("2026-03-02"), "19:20", "20:00", 3, 2, 0.6667, 3),
        (g, "上海群", "2026-03-03", day("2026-03-03"), "19:20", "20:00", 2, 1, 0.5, 1),
        (g, "上海群", "2026-03-04", day("2026-03-04"), "19:20", "20:00", 3, 0, 0.0, 0),
        (g, "上海群", "2026-03-05", day("2026-03-05"), "19:20", "20:00", 3, 0, 0.0, 0),
        (g, "上海群", "2026-03-06", day("2026-03-06"), "19:20", "20:00", 3, 1, 0.3333, 1),
    ]
    assert r.table.column_names == [
        "community_id", "name", "date", "day", "start", "end", "present", "attended",
        "attendance_rate", "messages_in_session",
    ]  # fmt: skip


def test_session_absentees_and_silent_in_last_session(store):
    _, (ann, bob, cat, _) = _shanghai_sessions(store)
    # today is Sat Mar 7; the latest session is Fri Mar 6, where only cat spoke.
    r = run(store, "session_absentees", since="2026-03-02", until="2026-03-07")
    cols = ("date", "start", "end", "account_id", "display_name", "days_since_last_message")
    assert rows(r, *cols) == [
        ("2026-03-06", "19:20", "20:00", ann, "ann", 0),  # spoke at 03:25 today
        ("2026-03-06", "19:20", "20:00", bob, "bob", 4),  # last spoke Tue Mar 3
    ]
    assert [x["why"] for x in r.rows()] == [
        "in the group for the latest discussion (2026-03-06 19:20-20:00) but did not speak; "
        "spoke today",
        "in the group for the latest discussion (2026-03-06 19:20-20:00) but did not speak; "
        "last spoke 4 days ago",
    ]
    # silent today (Mar 7): bob (silent on Friday too) and cat (who spoke on Friday);
    # ann spoke at 03:25 local today.
    s = run(store, "silent_members", since="2026-03-02", until="2026-03-07", silent_days=1)
    assert rows(s, "account_id", "days_since_last_message", "silent_in_last_session") == [
        (bob, 4, True),
        (cat, 1, False),
    ]
    assert [x["why"] for x in s.rows()] == [
        "no message for 4 days; silent in the latest discussion",
        "no message today (last spoke yesterday)",
    ]
