"""Group metrics (R7, R21) on hand-built stores; every expected value is worked out by hand."""

from __future__ import annotations

import ibis

from analytics_builder import at, day, rows, run
from shequn.analytics.metrics.groups import with_iso_date
from shequn.analytics.registry import all_metrics
from shequn.analytics.zones import day_date

GROUP_METRICS = ("group_daily", "group_summary", "retention", "join_cohorts", "activity_heatmap")
DAILY_COLS = (
    "name",
    "date",
    "members",
    "new_members",
    "departed",
    "left_voluntarily",
    "removed",
    "cumulative_joined",
    "dau",
    "wau",
    "mau",
    "active_ratio",
    "messages",
    "ugc",
)


def _week_of_joins(store):
    """Mon 2 – Fri 6 March 2026 (UTC) in group g, plus an empty group and a bots-only group.

    Spells (bots aside): alice and the admin op from before the history; carol joined 27 Feb and
    is removed 5 Mar; bob joins 3 Mar, leaves 4 Mar 12:00, rejoins 5 Mar; eve joins and leaves
    on 6 Mar.
    """
    g, empty, bots = store.group("g"), store.group("empty"), store.group("bots")
    alice, bob, carol, eve = (store.person(n) for n in ("alice", "bob", "carol", "eve"))
    op, bot, bot2 = store.person("op"), store.person("bot", bot=True), store.person("b2", bot=True)
    store.member(g, alice)
    store.member(g, op, role="admin")
    store.member(
        g, carol, joined=at("2026-02-27 09:00"), left=at("2026-03-05 18:00"), reason="remove"
    )
    store.member(g, bob, joined=at("2026-03-03 09:00"), left=at("2026-03-04 12:00"))
    store.member(g, bob, joined=at("2026-03-05 08:00"))
    store.member(g, eve, joined=at("2026-03-06 09:00"), left=at("2026-03-06 11:00"))
    store.member(g, bot, joined=at("2026-03-02 08:00"))
    store.member(bots, bot2)
    store.say(g, carol, at("2026-02-27 10:00"))  # before the period: only in WAU/MAU
    store.say(g, alice, at("2026-03-02 10:00"))
    store.say(g, bot, at("2026-03-02 11:00"))  # a message, not UGC, not a speaker
    store.say(g, op, at("2026-03-03 10:00"))  # a speaker, not UGC
    store.say(g, bob, at("2026-03-03 10:00"))
    store.say(g, bob, at("2026-03-04 08:00"))
    store.say(g, alice, at("2026-03-04 10:00"))
    store.say(g, None, at("2026-03-05 08:00"), "bob joined", kind="system")  # not counted
    store.say(g, bob, at("2026-03-05 09:00"))
    store.say(bots, bot2, at("2026-03-03 10:00"))
    return g, empty, bots


def test_group_daily_whole_table(store):
    _week_of_joins(store)
    r = run(store, "group_daily", since="2026-03-02", until="2026-03-06")
    # members at the end of each day: {alice, op, carol}; +bob; -bob; +bob -carol; +eve -eve.
    # cumulative joins count join days ≤ d (carol's 27 Feb included; alice/op never joined).
    # wau 2 Mar: carol (27 Feb) + alice; 6 Mar: carol's 27 Feb is 8 days back → alice, op, bob.
    # mau keeps carol all week. messages: authored ones (bot's included, the system line not);
    # ugc drops the bot and the admin.
    assert rows(r, *DAILY_COLS) == [
        ("g", "2026-03-02", 3, 0, 0, 0, 0, 1, 1, 2, 2, 0.3333, 2, 1),
        ("g", "2026-03-03", 4, 1, 0, 0, 0, 2, 2, 4, 4, 0.5, 2, 1),
        ("g", "2026-03-04", 3, 0, 1, 1, 0, 2, 2, 4, 4, 0.6667, 2, 2),
        ("g", "2026-03-05", 3, 1, 1, 0, 1, 3, 1, 4, 4, 0.3333, 1, 1),
        ("g", "2026-03-06", 3, 1, 1, 1, 0, 4, 0, 3, 4, 0.0, 0, 0),
        *[("empty", f"2026-03-0{d}", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0) for d in range(2, 7)],
        ("bots", "2026-03-02", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0),
        ("bots", "2026-03-03", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 1, 0),
        *[("bots", f"2026-03-0{d}", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 0, 0) for d in range(4, 7)],
    ]
    assert rows(r, "day")[0] == (day("2026-03-02"),)


def test_group_summary_whole_table(store):
    _week_of_joins(store)
    r = run(store, "group_summary", since="2026-03-02", until="2026-03-06", active_window_days=2)
    # g: members at 6 Mar = alice, op, bob; joins bob, bob, eve; departures bob, carol, eve;
    # avg_dau = (1+2+2+1+0)/5; active in 5–6 Mar: bob only → 1/3.
    # d1: joins with d+1 ≤ 6 Mar are bob 3 Mar (spoke 4 Mar: kept) and bob 5 Mar (silent 6 Mar).
    # w1: week 2–8 Mar's next week ends 15 Mar > 6 Mar → no cohort, 0.
    cols = ("name", "platform", "members", "new_members", "departed", "messages", "ugc")
    cols += ("avg_dau", "wau", "mau", "active_ratio", "d1_retention", "w1_retention")
    cols += ("size_status", "why")
    why_small = "{} members — below 30; grow it before splitting; {}% of members active"
    assert rows(r, *cols) == [
        (
            "g",
            "telegram",
            3,
            3,
            3,
            7,
            5,
            1.2,
            3,
            4,
            0.3333,
            0.5,
            0.0,
            "small",
            why_small.format(3, 33),
        ),
        (
            "empty",
            "telegram",
            0,
            0,
            0,
            0,
            0,
            0.0,
            0,
            0,
            0.0,
            0.0,
            0.0,
            "small",
            why_small.format(0, 0),
        ),
        (
            "bots",
            "telegram",
            0,
            0,
            0,
            1,
            0,
            0.0,
            0,
            0,
            0.0,
            0.0,
            0.0,
            "small",
            why_small.format(0, 0),
        ),
    ]


def _cohort_store(store):
    """Two weeks, Mon 2 – Sun 15 March 2026 (UTC): week w0 = 2–8 Mar, w1 = 9–15 Mar.

    ann joins 2 Mar, speaks 3 and 10 Mar; ben joins 3 Mar 10:00, leaves 12:00, rejoins 4 Mar 09:00
    and speaks 4 Mar 10:00; fay (there before the history) speaks 2 Mar, leaves, rejoins 5 Mar and
    stays silent; cid joins 9 Mar and speaks 10 Mar; dan joins on the last day; a bot joins and
    speaks (never counted).
    """
    g = store.group("g")
    ann, ben, fay, cid, dan = (store.person(n) for n in ("ann", "ben", "fay", "cid", "dan"))
    bot = store.person("bot", bot=True)
    store.member(g, ann, joined=at("2026-03-02 09:00"))
    store.member(g, ben, joined=at("2026-03-03 10:00"), left=at("2026-03-03 12:00"))
    store.member(g, ben, joined=at("2026-03-04 09:00"))
    store.member(g, fay, left=at("2026-03-02 12:00"))
    store.member(g, fay, joined=at("2026-03-05 09:00"))
    store.member(g, cid, joined=at("2026-03-09 09:00"))
    store.member(g, dan, joined=at("2026-03-15 09:00"))
    store.member(g, bot, joined=at("2026-03-02 09:00"))
    store.say(g, ann, at("2026-03-03 10:00"))
    store.say(g, ann, at("2026-03-10 10:00"))
    store.say(g, ben, at("2026-03-04 10:00"))
    store.say(g, fay, at("2026-03-02 10:00"))
    store.say(g, cid, at("2026-03-10 11:00"))
    store.say(g, bot, at("2026-03-03 10:00"))
    return g


def test_retention_counts_each_join(store):
    _cohort_store(store)
    r = run(store, "retention", since="2026-03-02", until="2026-03-15")
    # d1 joins (d+1 ≤ 15 Mar): ann ✓(3 Mar), ben#1 ✓(4 Mar), ben#2 ✗(5 Mar), fay#2 ✗, cid ✓
    # → 3/5. w1 only for w0 (w1's next week is not over): ann ✓ (10 Mar), ben#1 ✗, ben#2 ✗,
    # fay#2 ✗ → 1/4. dan joined on the last day: in neither.
    assert r.rows() == [
        {
            "community_id": 1,
            "name": "g",
            "joined": 5,
            "d1_retained": 3,
            "d1_retention": 0.6,
            "w1_joined": 4,
            "w1_retained": 1,
            "w1_retention": 0.25,
        }
    ]


def test_join_cohorts_week_n(store):
    _cohort_store(store)
    r = run(store, "join_cohorts", since="2026-03-02", until="2026-03-15")
    # w0 = ann, ben#1, ben#2, fay#2 (4). Week 0: ann, ben#1 (spoke 4 Mar ≥ 3 Mar), ben#2 (4 Mar,
    # same day as the rejoin) — fay spoke on 2 Mar, before her 5 Mar join: not counted → 3/4.
    # Week 1: ann → 1/4. w1 = cid, dan (2): week 0 cid → 1/2; until's week is the last.
    w0 = (day("2026-03-02") + 3) // 7
    w1 = w0 + 1
    assert r.rows() == [
        _cohort(w0, "2026-03-02", 4, 0, 3, 0.75),
        _cohort(w0, "2026-03-02", 4, 1, 1, 0.25),
        _cohort(w1, "2026-03-09", 2, 0, 1, 0.5),
    ]
    r = run(store, "join_cohorts", since="2026-03-02", until="2026-03-15", max_weeks=0)
    assert rows(r, "cohort_week", "weeks_after") == [(w0, 0), (w1, 0)]


def _cohort(week, start, size, after, retained, retention):
    return {
        "community_id": 1,
        "cohort_week": week,
        "cohort_week_start": start,
        "size": size,
        "weeks_after": after,
        "retained": retained,
        "retention": retention,
    }


def test_one_person_in_two_groups_counts_in_each(store):
    a, b = store.group("A"), store.group("B")
    tg = store.person("p", platform="telegram")
    wx = store.person("p-wx", platform="wechat")
    store.link(tg, wx)
    store.member(a, tg, joined=at("2026-03-02 09:00"))
    store.member(b, wx, joined=at("2026-03-02 09:00"))
    store.say(a, tg, at("2026-03-03 10:00"))
    # The person spoke only in A on the day after joining: retained in A, not in B.
    r = run(store, "retention", since="2026-03-02", until="2026-03-03")
    assert rows(r, "name", "joined", "d1_retained", "d1_retention") == [
        ("A", 1, 1, 1.0),
        ("B", 1, 0, 0.0),
    ]
    r = run(store, "group_daily", since="2026-03-03", until="2026-03-03")
    assert rows(r, "name", "members", "dau", "wau", "messages") == [
        ("A", 1, 1, 1, 1),
        ("B", 1, 0, 0, 0),
    ]


def test_midnight_in_shanghai_splits_days_and_hours(store):
    g = store.group("上海群", tz="Asia/Shanghai")
    x = store.person("x")
    store.member(g, x)
    # 23:50 on Mon 2 March and 00:10 on Tue 3 March, Shanghai time (both 2 March in UTC).
    store.say(g, x, at("2026-03-02 23:50", "Asia/Shanghai"))
    store.say(g, x, at("2026-03-03 00:10", "Asia/Shanghai"))
    r = run(store, "group_daily", since="2026-03-02", until="2026-03-03")
    assert rows(r, "date", "members", "dau", "wau", "messages", "ugc", "active_ratio") == [
        ("2026-03-02", 1, 1, 1, 1, 1, 1.0),
        ("2026-03-03", 1, 1, 1, 1, 1, 1.0),
    ]
    r = run(store, "activity_heatmap", since="2026-03-02", until="2026-03-03")
    hot = {(0, 23): 1, (1, 0): 1}
    expected = [(g, wd, h, hot.get((wd, h), 0)) for wd in range(7) for h in range(24)]
    assert rows(r, "community_id", "weekday", "hour", "messages") == expected


def test_size_status_boundaries(store):
    # One group per boundary; the same people are members of several groups (first N of 101).
    sizes = {29: "small", 30: "ideal", 50: "ideal", 51: "large", 100: "large", 101: "over"}
    people = [store.person(f"m{i}") for i in range(101)]
    for n in sizes:
        g = store.group(f"g{n}")
        for a in people[:n]:
            store.member(g, a)
    r = run(store, "group_summary", since="2026-03-02", until="2026-03-02")
    assert rows(r, "name", "members", "size_status") == [(f"g{n}", n, s) for n, s in sizes.items()]
    assert rows(r, "why")[-1] == (
        "101 members — over the 100 limit; stop adding, open the next group; 0% of members active",
    )


def test_size_policy_is_a_parameter_and_why_says_it(store):
    g = store.group("g")
    for i in range(12):
        store.member(g, store.person(f"m{i}"))
    r = run(
        store,
        "group_summary",
        since="2026-03-02",
        until="2026-03-02",
        size_min=5,
        size_ideal_max=10,
    )
    assert rows(r, "size_status", "why") == [
        (
            "large",
            "12 members — above the 10 ideal; split or open the next group; 0% of members active",
        )
    ]
    from shequn.analytics.registry import get_metric

    m = get_metric("group_summary")
    row = {**r.rows()[0], "size_status": "over", "members": 120, "active_ratio": 0.25}
    assert m.why is not None
    assert m.why(row, "zh") == "120 人，超过 100 人上限：停止拉人，开下一个群；活跃成员 25%"


def test_every_group_metric_runs_on_an_empty_store(store):
    names = {m.name for m in all_metrics() if m.name in GROUP_METRICS}
    assert names == set(GROUP_METRICS)
    for name in (*GROUP_METRICS, "group_totals"):
        assert run(store, name, since="2026-03-01", until="2026-03-31").rows() == []


def test_iso_date_matches_python_over_centuries():
    import duckdb  # noqa: F401

    days = [*range(-1, 800), *range(10950, 11050), *range(20000, 20600, 7), 47482, 47483]
    t = ibis.memtable({"day": days}).cast({"day": "int64"})
    got = ibis.duckdb.connect().to_pyarrow(with_iso_date(t, "day", "d")).column("d").to_pylist()
    assert got == [day_date(d).isoformat() for d in days]
