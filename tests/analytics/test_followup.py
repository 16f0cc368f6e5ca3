"""Follow-up lists (R10, R12, R13): leavers, slipping, silent members, prune candidates.

Every expected table below is worked out by hand from the fixture; the comments show how.
March 2026: the 1st is a Sunday, the 2nd a Monday. June 2026: the 1st is a Monday.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from analytics_builder import at, day, rows, run
from shequn.errors import InputError
from shequn.store import schema as t

FOLLOWUP = (
    "leavers",
    "slipping_members",
    "silent_members",
    "prune_candidates",
    "discussion_attendance",
    "session_absentees",
)


def msg_id(store, pmid: str) -> int:
    """The store id of the message with platform id `pmid` (what last_message_id points at)."""
    with store.engine.connect() as c:
        return c.execute(select(t.message.c.id).where(t.message.c.platform_msg_id == pmid)).one()[0]


def whys(result) -> list[str]:
    return [r["why"] for r in result.rows()]


# -- leavers --------------------------------------------------------------------------------------


def test_leavers_rejoined_removed_voluntary_and_linked_across_midnight(store):
    g = store.group("g")
    h = store.group("上海群", tz="Asia/Shanghai")
    ann, bob, cat, dan = (store.person(n) for n in ("ann", "bob", "cat", "dan"))
    ann_w = store.person("ann_w", platform="wechat")
    store.link(ann, ann_w)
    bot = store.person("bot", bot=True)
    # ann: first spell Mar 1 → Mar 5 (left herself), spoke Mar 2 and Mar 3;
    # second spell Mar 8 → Mar 20 (removed), invited back by bob, spoke Mar 9.
    store.member(g, ann, joined=at("2026-03-01 09:00"), left=at("2026-03-05 12:00"))
    first = [store.say(g, ann, at("2026-03-02 10:00")), store.say(g, ann, at("2026-03-03 10:00"))]
    store.member(
        g,
        ann,
        joined=at("2026-03-08 10:00"),
        left=at("2026-03-20 18:00"),
        reason="remove",
        inviter=bob,
    )
    second = store.say(g, ann, at("2026-03-09 10:00"))
    # bob: there before the history, left Mar 15 without a word
    store.member(g, bob, left=at("2026-03-15 08:00"))
    # cat left in February (outside the period); dan stays; the bot's leave is not listed
    store.member(g, cat, joined=at("2026-02-01 09:00"), left=at("2026-02-20 09:00"))
    store.member(g, dan)
    store.member(g, bot, left=at("2026-03-10 09:00"))
    # ann's WeChat account (same person) in a Shanghai group: joined Mar 1 00:00 local, spoke
    # at 04:00 local on Mar 11 (20:00 UTC on Mar 10), left at 07:30 local on Mar 11.
    store.member(
        h, ann_w, joined=at("2026-03-01 00:00", "Asia/Shanghai"), left=at("2026-03-10 23:30")
    )
    late = store.say(h, ann_w, at("2026-03-10 20:00"))
    p_ann = store.person_of(ann)

    r = run(store, "leavers", since="2026-03-01", until="2026-03-31")
    cols = (
        "community_id",
        "account_id",
        "person_id",
        "display_name",
        "joined_day",
        "left_day",
        "left_reason",
        "days_in_group",
        "messages_in_spell",
        "last_active_day",
        "last_message_id",
        "inviter_account_id",
    )
    assert rows(r, *cols) == [
        (
            g,
            ann,
            p_ann,
            "ann",
            day("2026-03-01"),
            day("2026-03-05"),
            "leave",
            4,
            2,
            day("2026-03-03"),
            msg_id(store, first[1]),
            None,
        ),
        (
            g,
            bob,
            store.person_of(bob),
            "bob",
            None,
            day("2026-03-15"),
            "leave",
            None,
            0,
            None,
            None,
            None,
        ),
        (
            g,
            ann,
            p_ann,
            "ann",
            day("2026-03-08"),
            day("2026-03-20"),
            "remove",
            12,
            1,
            day("2026-03-09"),
            msg_id(store, second),
            bob,
        ),
        (
            h,
            ann_w,
            p_ann,
            "ann_w",
            day("2026-03-01"),
            day("2026-03-11"),
            "leave",
            10,
            1,
            day("2026-03-11"),
            msg_id(store, late),
            None,
        ),
    ]
    assert whys(r) == [
        "left on their own after 4 days; last spoke 2 days before",
        "left on their own (member since before the history); never spoke",
        "removed after 12 days; last spoke 11 days before",
        "left on their own after 10 days; spoke on the day they left",
    ]
    zh = run(store, "leavers", since="2026-03-01", until="2026-03-31")
    from shequn.analytics.metrics.followup import _leaver_why

    assert [_leaver_why(row, "zh") for row in zh.table.to_pylist()] == [
        "入群 4 天后主动退出，最后发言在 2 天前",
        "在记录开始前入群，主动退出，从未发言",
        "入群 12 天后被移出，最后发言在 11 天前",
        "入群 10 天后主动退出，当天还发过言",
    ]
    # a period that holds only the first leave gives only that row
    r = run(store, "leavers", since="2026-03-01", until="2026-03-05")
    assert rows(r, "account_id", "left_day") == [(ann, day("2026-03-05"))]


# -- slipping members -----------------------------------------------------------------------------


def test_slipping_members_boundaries(store):
    g = store.group("g")
    ann, bob, cat, dan, eve, fay = (
        store.person(n) for n in ("ann", "bob", "cat", "dan", "eve", "fay")
    )
    bot = store.person("bot", bot=True)
    for a in (ann, bob, cat, dan, fay, bot):
        store.member(g, a)
    store.member(g, eve, left=at("2026-03-20 09:00"))
    # today = Mar 31. ann: last spoke Mar 17 → 14 days quiet; active on Mar 1, 5 (twice), 17:
    # 3 days, 4 messages in the 30 days ending Mar 17 → listed.
    for when in ("03-01", "03-05", "03-05", "03-17"):
        store.say(g, ann, at(f"2026-{when} 10:00"))
    # bob: last spoke Mar 18 → 13 days quiet → not listed with quiet_days=14.
    for when in ("03-02", "03-10", "03-18"):
        store.say(g, bob, at(f"2026-{when} 10:00"))
    # cat: last Mar 10; the 30 days ending Mar 10 are Feb 9..Mar 10, so Feb 8 is outside:
    # only 2 active days → not listed. dan: Feb 9, Feb 20, Mar 10 → 3 days → listed, 21 quiet.
    for when in ("02-08", "02-09", "03-10"):
        store.say(g, cat, at(f"2026-{when} 10:00"))
    for when in ("02-09", "02-20", "03-10"):
        store.say(g, dan, at(f"2026-{when} 10:00"))
    # eve was active but left; the bot was active and went quiet; fay never spoke: none listed
    for when in ("03-01", "03-02", "03-03"):
        store.say(g, eve, at(f"2026-{when} 10:00"))
        store.say(g, bot, at(f"2026-{when} 10:00"))

    r = run(store, "slipping_members", since="2026-03-01", until="2026-03-31")
    cols = (
        "account_id",
        "display_name",
        "last_active_day",
        "days_quiet",
        "active_days_before",
        "messages_before",
    )
    assert rows(r, *cols) == [
        (ann, "ann", day("2026-03-17"), 14, 3, 4),
        (dan, "dan", day("2026-03-10"), 21, 3, 3),
    ]
    assert whys(r)[0] == "active on 3 days (4 messages), then silent for 14 days"
    # with quiet_days=13 bob (13 days quiet, 3 active days) joins the list
    r = run(store, "slipping_members", since="2026-03-01", until="2026-03-31", quiet_days=13)
    assert rows(r, "account_id", "days_quiet") == [(bob, 13), (ann, 14), (dan, 21)]


# -- silent members -------------------------------------------------------------------------------


def test_silent_members_today_and_this_week_around_midnight(store):
    g = store.group("上海群", tz="Asia/Shanghai")
    names = ("ann", "bob", "cat", "dan", "eve")
    ann, bob, cat, dan, eve = (store.person(n) for n in names)
    op, bot = store.person("op"), store.person("bot", bot=True)
    for a in (ann, bob, cat, dan, bot):
        store.member(g, a)
    store.member(g, eve, joined=at("2026-03-18 09:00", "Asia/Shanghai"))
    store.member(g, op, role="admin")
    # today = Mar 20 (Shanghai). ann: 16:30 UTC Mar 19 = 00:30 Mar 20 local → spoke today.
    store.say(g, ann, at("2026-03-19 16:30"))
    # bob: 15:30 UTC Mar 19 = 23:30 Mar 19 local → 1 day since.
    store.say(g, bob, at("2026-03-19 15:30"))
    store.say(g, cat, at("2026-03-13 12:00", "Asia/Shanghai"))  # 7 days since
    store.say(g, dan, at("2026-03-14 12:00", "Asia/Shanghai"))  # 6 days since
    # eve never spoke; the admin and the bot never count
    cols = (
        "account_id",
        "joined_day",
        "last_active_day",
        "days_since_last_message",
        "silent_in_last_session",
    )
    today = run(store, "silent_members", since="2026-03-01", until="2026-03-20", silent_days=1)
    assert rows(today, *cols) == [
        (bob, None, day("2026-03-19"), 1, None),
        (cat, None, day("2026-03-13"), 7, None),
        (dan, None, day("2026-03-14"), 6, None),
        (eve, day("2026-03-18"), None, None, None),
    ]
    assert whys(today) == [
        "no message today (last spoke yesterday)",
        "no message for 7 days",
        "no message for 6 days",
        "never spoke",
    ]
    # a week: Mar 14..20 without a message → cat (last Mar 13) and eve; dan spoke Mar 14
    week = run(store, "silent_members", since="2026-03-01", until="2026-03-20")
    assert rows(week, "account_id", "days_since_last_message") == [(cat, 7), (eve, None)]
    with pytest.raises(InputError, match="silent_days"):
        run(store, "silent_members", since="2026-03-01", until="2026-03-20", silent_days=0)


# -- prune candidates -----------------------------------------------------------------------------


def _prune_cols():
    return (
        "month",
        "prune_day",
        "account_id",
        "participation",
        "opportunities",
        "attended",
        "missed",
    )


def test_prune_candidates_by_week(store):
    g = store.group("g")
    ann, bob, cat, dan, eve = (store.person(n) for n in ("ann", "bob", "cat", "dan", "eve"))
    op = store.person("op")
    for a in (ann, bob, dan):
        store.member(g, a)
    store.member(g, cat, joined=at("2026-06-10 09:00"))
    store.member(g, eve, left=at("2026-06-12 09:00"))
    store.member(g, op, role="owner")
    store.say(g, op, at("2026-05-20 10:00"))  # g's history starts in May
    # June 2026, prune day the 15th: weeks start Mon Jun 1, Jun 8, Jun 15 (seen up to the 15th).
    store.say(g, ann, at("2026-06-03 10:00"))  # ann: 1 of 3 weeks → missed 2
    # bob never speaks: missed 3 of 3. dan speaks on Jun 16, after the prune day: missed 3.
    store.say(g, dan, at("2026-06-16 10:00"))
    # cat joined Wed Jun 10: only the week starting Jun 15 counts → missed 1 of 1.
    # eve left before the 15th, the owner is never listed.
    # Group h's history starts Wed Jun 3: only the weeks of Jun 8 and 15 count for zed.
    h = store.group("h")
    zed = store.person("zed")
    store.member(h, zed)
    store.member(h, op, role="owner")
    store.say(h, op, at("2026-06-03 10:00"))
    r = run(store, "prune_candidates", since="2026-06-01", until="2026-06-30")
    assert rows(r, *_prune_cols()) == [
        ("2026-06", "2026-06-15", bob, "week", 3, 0, 3),
        ("2026-06", "2026-06-15", dan, "week", 3, 0, 3),
    ]
    assert whys(r) == ["silent in 3 of 3 weeks this month"] * 2
    r = run(store, "prune_candidates", since="2026-06-01", until="2026-06-30", min_missed=1)
    assert rows(r, "community_id", "account_id", "opportunities", "attended", "missed") == [
        (g, ann, 3, 1, 2),
        (g, bob, 3, 0, 3),
        (g, cat, 1, 0, 1),
        (g, dan, 3, 0, 3),
        (h, zed, 2, 0, 2),
    ]
    # prune day 31 in a 30-day month is its last day, the 30th: weeks Jun 1, 8, 15, 22, 29
    # (cat: 15, 22, 29; zed: 8, 15, 22, 29); ann spoke in the first, dan in the third.
    r = run(store, "prune_candidates", since="2026-06-01", until="2026-06-30", prune_day=31)
    assert rows(r, *_prune_cols()) == [
        ("2026-06", "2026-06-30", ann, "week", 5, 1, 4),
        ("2026-06", "2026-06-30", bob, "week", 5, 0, 5),
        ("2026-06", "2026-06-30", cat, "week", 3, 0, 3),
        ("2026-06", "2026-06-30", dan, "week", 5, 1, 4),
        ("2026-06", "2026-06-30", zed, "week", 4, 0, 4),
    ]
    # before the prune day (until the 14th) there is nothing to list yet
    assert rows(run(store, "prune_candidates", since="2026-06-01", until="2026-06-14")) == []


def test_prune_candidates_by_discussion_session(store):
    g = store.group("g")
    store.window(g, "0,2,4", "19:00", "20:00")
    ann, bob, cat, dan = (store.person(n) for n in ("ann", "bob", "cat", "dan"))
    for a in (ann, bob, dan):
        store.member(g, a)
    store.member(g, cat, joined=at("2026-03-10 09:00"))
    # Mon/Wed/Fri sessions from Mar 1 to the 15th: Mar 2, 4, 6, 9, 11, 13 → 6.
    for d in ("02", "04", "06", "09"):
        store.say(g, ann, at(f"2026-03-{d} 19:30"))  # ann attends 4 → missed 2, not listed
    store.say(g, bob, at("2026-03-02 19:00"))  # bob attends 1 → missed 5
    # dan speaks only just outside the window (18:59, and 20:00 which is its end) → missed 6
    store.say(g, dan, at("2026-03-11 18:59"))
    store.say(g, dan, at("2026-03-13 20:00"))
    # cat joined Tue Mar 10: sessions Mar 11 and 13 count → missed 2 of 2
    r = run(store, "prune_candidates", since="2026-03-01", until="2026-03-31")
    assert rows(r, *_prune_cols()) == [
        ("2026-03", "2026-03-15", bob, "session", 6, 1, 5),
        ("2026-03", "2026-03-15", dan, "session", 6, 0, 6),
    ]
    assert whys(r) == [
        "missed 5 of 6 discussions this month",
        "missed 6 of 6 discussions this month",
    ]
    r = run(store, "prune_candidates", since="2026-03-01", until="2026-03-31", min_missed=2)
    assert rows(r, "account_id", "opportunities", "attended", "missed") == [
        (ann, 6, 4, 2),
        (bob, 6, 1, 5),
        (cat, 2, 0, 2),
        (dan, 6, 0, 6),
    ]
    from shequn.analytics.metrics.followup import _prune_why

    assert _prune_why(r.table.to_pylist()[1], "zh") == "本月 6 次讨论缺席 5 次"


# -- empty and bots-only groups, an empty store ---------------------------------------------------


def test_empty_group_and_bots_only_group(store):
    empty = store.group("empty")
    bots = store.group("bots")
    store.window(empty, "0", "19:00", "20:00")
    store.window(bots, "0", "19:00", "20:00")
    b1, b2 = store.person("b1", bot=True), store.person("b2", bot=True)
    store.member(bots, b1)
    store.member(bots, b2, left=at("2026-03-10 09:00"))
    store.say(bots, b1, at("2026-03-02 19:30"))
    store.say(bots, b2, at("2026-03-09 19:30"))
    for name in FOLLOWUP:
        r = run(store, name, since="2026-03-01", until="2026-03-31")
        if name != "discussion_attendance":
            assert rows(r) == [], name
    # sessions still happen on the Mondays; nobody is present and bot messages do not count
    r = run(store, "discussion_attendance", since="2026-03-01", until="2026-03-31")
    mondays = ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30")
    cols = ("community_id", "date", "present", "attended", "attendance_rate", "messages_in_session")
    assert rows(r, *cols) == [(g, d, 0, 0, None, 0) for g in (empty, bots) for d in mondays]


def test_every_followup_metric_runs_on_an_empty_store(store):
    for name in FOLLOWUP:
        r = run(store, name, since="2026-03-01", until="2026-03-31")
        assert r.table.num_rows == 0, name
