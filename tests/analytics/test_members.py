"""Member metrics and engagement levels on hand-built stores; expected values worked out by hand.

Weeks start on Monday: 2026-02-23, 03-02, 03-09, … The DuckDB calendar starts the day before the
first message, so a member from before the history is first scored in that day's week.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from analytics_builder import SIMPLE_LEVELS as SIMPLE
from analytics_builder import at, day, rows, run
from shequn.analytics.metrics.members import LEVEL_LABELS, LEVELS, _stats_why

MEMBER_METRICS = ("member_stats", "level_history", "member_levels", "level_counts")
STAT_COLS = (
    "display_name",
    "messages",
    "active_days",
    "first_seen_day",
    "last_seen_day",
    "replies_given",
    "replies_received",
    "repliers",
    "replied_to",
    "mentions",
    "links_shared",
    "files_shared",
    "reactions_received",
    "level",
)
HISTORY_COLS = ("week_start_day", "score", "level", "previous_level", "changed")


def test_member_stats_replies_reactions_and_levels(store):
    g = store.group("g")
    a, b, c, d = (store.person(n) for n in ("甲", "乙", "丙", "丁"))
    bot = store.person("bot", bot=True)
    for x in (a, b, c, bot):
        store.member(g, x)
    store.member(g, d, joined=at("2026-03-04 09:00"))  # never speaks
    m1 = store.say(g, a, at("2026-03-02 10:00"), "早")
    m2 = store.say(g, b, at("2026-03-02 10:05"), reply_to=m1, mentions=["甲"])
    store.say(g, c, at("2026-03-02 11:00"), reply_to=m1, links=["https://x.org"])
    m4 = store.say(g, a, at("2026-03-03 09:00"), reply_to=m2)
    store.say(g, a, at("2026-03-03 09:30"), reply_to=m4)  # to himself: not a reply to another
    m6 = store.say(g, bot, at("2026-03-03 10:00"), reply_to=m1)  # a bot's: not counted
    store.say(g, b, at("2026-03-04 12:00"), reply_to=m6)  # to the bot: not counted
    store.say(g, c, at("2026-03-05 12:00"), "report.pdf", kind="file")
    for who in (b, c, a, bot):  # 甲's own reaction and the bot's are not counted
        store.react(g, m1, who)
    store.react(g, m2, a)
    r = run(store, "member_stats", since="2026-03-02", until="2026-03-08")
    d2, d3, d4, d5 = (day(f"2026-03-0{i}") for i in (2, 3, 4, 5))
    # Levels in the week of 2 March, window 9 Feb – 8 Mar, score = days + 2·repliers:
    # 甲 2 + 2·2 = 6, 乙 2 + 2·1 = 4, 丙 2 + 0 = 2: all ≥ 1 (participant), < 10 (contributor);
    # 丁 joined 4 March, within 14 days of 8 March: newcomer.
    assert rows(r, *STAT_COLS) == [
        ("甲", 3, 2, d2, d3, 1, 2, 2, 1, 0, 0, 0, 2, "participant"),
        ("乙", 2, 2, d2, d4, 1, 1, 1, 1, 1, 0, 0, 1, "participant"),
        ("丙", 2, 2, d2, d5, 1, 0, 0, 1, 0, 1, 1, 0, "participant"),
        ("丁", 0, 0, None, None, 0, 0, 0, 0, 0, 0, 0, 0, "newcomer"),
    ]
    assert [row["person_id"] for row in r.rows()] == [store.person_of(x) for x in (a, b, c, d)]
    assert r.whys[0] == (
        "messages 3, active days 2; replies to others 1, members who replied 2; reactions 2; "
        "longest check-in streak 0 days; level: participant"
    )
    assert _stats_why(r.rows()[0], "zh") == (
        "发言 3 条，活跃 2 天；回复他人 1 次，被 2 人回复；获得回应 2 个；"
        "最长连续打卡 0 天；等级：参与者"
    )


def test_checkin_streaks_across_a_gap(store):
    g = store.group("g")
    e, f, h = store.person("e"), store.person("f"), store.person("h")
    for x in (e, f, h):
        store.member(g, x)
    # e: 28 Feb (before the period), 1–5 Mar (twice on the 2nd), gap on the 6th/7th, 8–9 Mar
    for d in ("02-28", "03-01", "03-02", "03-02", "03-03", "03-04", "03-05", "03-08", "03-09"):
        store.say(g, e, at(f"2026-{d} 08:00"), "打卡")
    # f: 1–3 and 5–7 March, then only chat on the 9th
    for d in ("01", "02", "03", "05", "06", "07"):
        store.say(g, f, at(f"2026-03-{d} 08:00"), f"day {int(d)}")
    store.say(g, f, at("2026-03-09 08:00"), "hello")
    store.say(g, h, at("2026-03-10 08:00"), "签到")
    r = run(store, "member_stats", since="2026-03-01", until="2026-03-10")
    # e: runs 1–5 (5 days, 28 Feb is outside the period) and 8–9, which ends the day before
    # until: current 2. f: runs of 3; the last ends on the 7th, before the 9th: current 0.
    # h: one day, today: current 1.
    assert rows(r, "display_name", "longest_checkin_streak", "current_checkin_streak") == [
        ("e", 5, 2),
        ("f", 3, 0),
        ("h", 1, 1),
    ]


def test_days_around_midnight_follow_the_group_zone(store):
    g = store.group("上海群", tz="Asia/Shanghai")
    u = store.group("utc")
    a = store.person("a")
    store.member(g, a)
    store.member(u, a)
    for grp in (g, u):
        store.say(grp, a, at("2026-03-02 15:50"), "打卡")  # 23:50 on 2 March in Shanghai
        store.say(grp, a, at("2026-03-02 16:10"), "打卡")  # 00:10 on 3 March in Shanghai
    r = run(store, "member_stats", since="2026-03-01", until="2026-03-03")
    cols = ("community_id", "active_days", "first_seen_day", "last_seen_day")
    streak = ("longest_checkin_streak", "current_checkin_streak")
    d2, d3 = day("2026-03-02"), day("2026-03-03")
    assert rows(r, *cols, *streak) == [(g, 2, d2, d3, 2, 2), (u, 1, d2, d2, 1, 1)]
    only_3rd = run(store, "member_stats", since="2026-03-03", until="2026-03-03")
    # Shanghai's 3 March holds the 00:10 message; UTC's holds none, but a is still a member.
    assert rows(only_3rd, "community_id", "messages", "active_days") == [(g, 1, 1), (u, 0, 0)]


def test_a_person_with_linked_accounts_in_two_groups(store):
    tg, sl = store.group("tg"), store.group("slack", platform="slack")
    x1 = store.person("Tom")
    x2 = store.person("tom.s", platform="slack")
    store.link(x1, x2)
    other = store.person("Ana")
    store.member(tg, x1)
    store.member(sl, x2)
    store.member(tg, other)
    m = store.say(tg, x1, at("2026-03-02 10:00"))
    store.say(tg, other, at("2026-03-02 10:01"), reply_to=m)
    store.say(sl, x2, at("2026-03-03 10:00"))
    store.say(sl, x2, at("2026-03-04 10:00"))
    r = run(store, "member_stats", since="2026-03-02", until="2026-03-08")
    pid = store.person_of(x1)
    assert rows(r, "community_id", "account_id", "person_id", "messages", "repliers") == [
        (tg, x1, pid, 1, 1),
        (tg, other, store.person_of(other), 1, 0),
        (sl, x2, pid, 2, 0),
    ]


def test_empty_group_and_bots_only_group_have_no_member_rows(store):
    store.group("empty")
    bots = store.group("bots")
    bot = store.person("bot", bot=True)
    store.member(bots, bot)
    store.say(bots, bot, at("2026-03-02 10:00"), "打卡 beep")
    for name in MEMBER_METRICS:
        assert run(store, name, since="2026-03-01", until="2026-03-08").table.num_rows == 0, name


@pytest.mark.parametrize("name", MEMBER_METRICS)
def test_every_member_metric_runs_on_an_empty_store(store, name):
    assert run(store, name, since="2026-03-01", until="2026-03-31").table.num_rows == 0


def test_leaving_and_rejoining(store):
    g = store.group("g")
    r_ = store.person("r")
    store.member(g, r_, joined=at("2026-02-02 10:00"), left=at("2026-02-20 10:00"))
    store.member(g, r_, joined=at("2026-03-04 10:00"))
    store.say(g, r_, at("2026-02-03 10:00"))
    away = run(store, "member_stats", since="2026-02-23", until="2026-03-01")
    assert away.table.num_rows == 0  # neither a member nor speaking in that week
    back = run(store, "member_stats", since="2026-03-02", until="2026-03-08")
    assert rows(back, "display_name", "messages", "level") == [("r", 0, "newcomer")]
    h = run(store, "level_history", since="2026-02-02", until="2026-03-22", changes_only=False)
    # Week of 2 Feb: 1 active day (score 1), joined that day: newcomer; 9 Feb still new (2 Feb
    # ≥ 15 Feb − 13). Left on Fri 20 Feb: weeks of 16 and 23 Feb not shown; he is a participant
    # there (2 Feb... 3 Feb is in both windows). Rejoined Wed 4 Mar: newcomer again though the
    # window of 2 Mar is empty (one low week does not demote). 9 Mar: second empty window, the
    # participant level is gone, still new. 16 Mar: 4 Mar < 22 Mar − 13: lurker.
    assert rows(h, *HISTORY_COLS, "reason") == [
        (day("2026-02-02"), 1, "newcomer", None, True, "starts as newcomer"),
        (day("2026-02-09"), 1, "newcomer", "newcomer", False, "stays newcomer (score 1)"),
        (
            day("2026-03-02"),
            0,
            "newcomer",
            "participant",
            True,
            "newcomer: joined within the last 14 days",
        ),
        (day("2026-03-09"), 0, "newcomer", "newcomer", False, "stays newcomer (score 0)"),
        (
            day("2026-03-16"),
            0,
            "lurker",
            "newcomer",
            True,
            "joined over 14 days ago, now lurker",
        ),
    ]


# Score = messages in the week (window 7 days, no points for days or repliers); bars 1 / 10 / 30:
# the contributor bar is reached at 10 and lost only after 2 weeks under 9.
WEEKLY = [3, 10, 9, 9, 8, 10, 8, 8, 9, 10]  # messages in the weeks from 2 March


def _hovering_member(store):
    g = store.group("g")
    m = store.person("m")
    store.member(g, m)
    monday = at("2026-03-02 10:00")
    for w, n in enumerate(WEEKLY):
        for i in range(n):
            store.say(g, m, monday + timedelta(weeks=w, minutes=i))
    return g, m


def test_levels_promote_at_once_and_demote_after_the_grace_weeks(store):
    _hovering_member(store)
    h = run(
        store, "level_history", since="2026-03-02", until="2026-05-10", changes_only=False, **SIMPLE
    )
    week = [day("2026-03-02") + 7 * w for w in range(10)]
    # 3 → participant (the 23 Feb week was a lurker week); 10 → contributor at once;
    # 9, 9 hover in [90%, 100%) of the bar: kept; 8 is one week under 9: kept; 10 reaches again;
    # 8, 8: two weeks under 9, demoted; 9 is not 10: no promotion back; 10 again: contributor.
    assert rows(h, *HISTORY_COLS) == [
        (week[0], 3, "participant", "lurker", True),
        (week[1], 10, "contributor", "participant", True),
        (week[2], 9, "contributor", "contributor", False),
        (week[3], 9, "contributor", "contributor", False),
        (week[4], 8, "contributor", "contributor", False),
        (week[5], 10, "contributor", "contributor", False),
        (week[6], 8, "contributor", "contributor", False),
        (week[7], 8, "participant", "contributor", True),
        (week[8], 9, "participant", "participant", False),
        (week[9], 10, "contributor", "participant", True),
    ]
    # by default only the changes: the same rows as the changed weeks above
    changes = run(store, "level_history", since="2026-03-02", until="2026-05-10", **SIMPLE)
    assert rows(changes, *HISTORY_COLS) == [r for r in rows(h, *HISTORY_COLS) if r[4]]
    reasons = [row["reason"] for row in h.rows() if row["changed"]]
    assert reasons[1:3] == [
        "promoted to contributor: score 10 ≥ 10 (active days 1, members who replied 0, "
        "messages 10 in the last 7 days)",
        "demoted to participant after 2 weeks below 90% of the contributor bar (score under 9)",
    ]
    zh = [row["reason_zh"] for row in h.rows() if row["changed"]]
    assert zh[2] == "连续 2 周得分低于贡献者门槛的 90%（9 分），降为参与者"


def test_level_counts_over_time(store):
    g, _ = _hovering_member(store)
    c = run(store, "level_counts", since="2026-03-02", until="2026-03-29", **SIMPLE)
    assert c.table.num_rows == 4 * len(LEVELS)  # every level every week, zeros included
    assert rows(c, "community_id", "week_start_day", "level") == [
        (g, day("2026-03-02") + 7 * w, level) for w in range(4) for level in LEVELS
    ]
    held = [(r["week_start_day"], r["level"]) for r in c.rows() if r["members"]]
    assert held == [
        (day("2026-03-02"), "participant"),
        (day("2026-03-09"), "contributor"),
        (day("2026-03-16"), "contributor"),
        (day("2026-03-23"), "contributor"),
    ]


def test_default_score_and_member_levels(store):
    g = store.group("g")
    k = store.person("k")
    others = [store.person(f"p{i}") for i in range(1, 5)]
    for x in (k, *others):
        store.member(g, x)
    ids = [store.say(g, k, at(f"2026-03-{d:02d} 09:00")) for d in range(2, 11)]  # 9 days
    for p_, target in zip(others, ids[7:] * 2, strict=True):  # all four reply on 9 or 10 March
        store.say(g, p_, at("2026-03-10 12:00"), reply_to=target)
    r = run(store, "member_levels", since="2026-03-01", until="2026-03-10")
    # k, week of 2 March (window to 8 March): 7 days → 7, participant. Week of 9 March (window to
    # until, 10 March): 9 days + 2·4 repliers + 9 // 10 = 17 ≥ 10: contributor since 9 March.
    # Each p: 1 day → score 1: participant since 9 March (lurkers before).
    cols = ("display_name", "level", "since_day", "previous_level", "score")
    m9 = day("2026-03-09")
    assert rows(r, *cols) == [
        ("k", "contributor", m9, "participant", 17),
        *((f"p{i}", "participant", m9, "lurker", 1) for i in range(1, 5)),
    ]
    first = r.rows()[0]
    assert first["reason_zh"] == (
        "升为贡献者：近 28 天活跃 9 天、被 4 人回复、发言 9 条，得分 17 ≥ 10"
    )
    assert r.whys[0].startswith("contributor since the week of 2026-03-09: promoted to")
    assert LEVEL_LABELS["contributor"]["zh"] == "贡献者"
