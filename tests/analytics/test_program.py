"""Program metrics (R22): weekly group health, tiers with hysteresis, concentration.

Every expected table below was worked out by hand from the fixture; the reasoning is in the
comments. Weeks are Monday-based; W1 is the week of Monday 2026-03-02.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from analytics_builder import at, day, rows, run
from shequn.analytics.metrics.program import concentration_why, health_why, tier_why

W1 = (day("2026-03-02") + 3) // 7
# score = 100 × min(1, active_ratio / 0.5): only the active ratio weighs
ACTIVE_ONLY = {"w_ugc": 0.0, "w_retention": 0.0, "w_growth": 0.0}


def monday(k: int) -> date:
    """Monday of week Wk."""
    return date(2026, 3, 2) + timedelta(weeks=k - 1)


def tuesday_noon(k: int, tz: str = "UTC"):
    return at(f"{monday(k) + timedelta(days=1)} 12:00", tz)


HEALTH = (
    "week",
    "members",
    "members_before",
    "active_members",
    "active_ratio",
    "ugc",
    "ugc_per_member",
    "joiners",
    "retained",
    "retention",
    "growth",
    "score",
)
TIER = ("week", "score", "raw_tier", "tier", "previous_tier", "changed", "weeks_below", "reason")


def test_health_numbers_and_score_by_hand(store):
    g = store.group("g")
    a, b, c, d, adm = (store.person(n) for n in ["a", "b", "c", "d", "adm"])
    bot = store.person("bot", bot=True)
    store.member(g, a)  # a member since before the history starts
    store.member(g, adm, role="admin")
    store.member(g, bot)
    store.member(g, c, joined=at("2026-03-04 10:00"))  # joins in W1
    store.member(g, d, joined=at("2026-03-10 10:00"))  # joins in W2
    store.member(g, b, left=at("2026-03-12 10:00"))  # there before the history; leaves in W2
    store.member(g, b, joined=at("2026-03-18 10:00"))  # and rejoins in W3
    for _ in range(3):
        store.say(g, a, at("2026-03-03 10:00"))
    store.say(g, c, at("2026-03-05 10:00"))
    store.say(g, adm, at("2026-03-05 11:00"))  # an operator: active, but not UGC
    store.say(g, bot, at("2026-03-05 12:00"))  # a bot: neither
    store.say(g, a, at("2026-03-10 09:00"))
    store.say(g, b, at("2026-03-11 09:00"))
    store.say(g, b, at("2026-03-11 10:00"))
    store.say(g, c, at("2026-03-12 09:00"))
    store.say(g, c, at("2026-03-13 09:00"))
    store.say(g, d, at("2026-03-14 09:00"))
    bars = {"growing_members": 4, "core_members": 5}
    r = run(store, "group_health", since="2026-03-02", until="2026-03-22", **bars)
    # W1: members a, b, adm, c = 4 (the bot is no member); 4 weeks before: a, b, adm = 3.
    #   spoke: a, c, adm → 3/4 = 0.75; UGC a×3 + c×1 = 4 → 1.0 per member; no joiners in the
    #   4 weeks before → retention null; growth (4-3)/3.
    #   score: active min(1, .75/.5)=1 ×40; UGC 1/3 ×30 = 10; growth min(1, .5+.3333/.4)=1 ×15;
    #   retention left out → 100 × 65/85 = 76.47.
    # W2: b leaves (Thu) and d joins: a, adm, c, d = 4; spoke and still members: a, c, d = 3;
    #   UGC a1 + b2 + c2 + d1 = 6 → 1.5; joiners W-3..W1: c, who spoke in W2 → 1/1.
    #   score: 40 + 30×0.5 + 15×1 + 15×1 = 85 of 100.
    # W3: b rejoins: 5 members; nobody speaks; joiners W-2..W2: c (spoke W2), d (silent W3)
    #   → 1/2 = 0.5; growth (5-3)/3. score: 0 + 0 + 15×1 + 15×1 = 30.
    assert rows(r, *HEALTH) == [
        (W1, 4, 3, 3, 0.75, 4, 1.0, 0, 0, None, 0.3333, 76.47),
        (W1 + 1, 4, 3, 3, 0.75, 6, 1.5, 1, 1, 1.0, 0.3333, 85.0),
        (W1 + 2, 5, 3, 0, 0.0, 0, 0.0, 2, 1, 0.5, 0.6667, 30.0),
    ]
    # growing: ≥4 members and score ≥40 (keep line 36); core: ≥5 members, score ≥65, active ≥0.3.
    # W1 promotes to growing; W2 meets it (4 members: not core); W3 is 30 < 36: first week below.
    assert rows(r, *TIER) == [
        (W1, 76.47, "growing", "growing", "new", True, 0, "promoted"),
        (W1 + 1, 85.0, "growing", "growing", "growing", False, 0, "meets"),
        (W1 + 2, 30.0, "new", "growing", "growing", False, 1, "grace"),
    ]
    assert rows(r, "week_start")[0] == ("2026-03-02",)
    assert r.rows()[0]["why"] == "promoted to growing: 4 members, 75% active, score 76"
    assert health_why(r.rows()[2], "zh") == (
        "仍为成长群：已连续 1 周低于保级线（宽限期）；成员 5，活跃率 0%，得分 30"
    )


def _say_weekly(store, g, people, speakers_per_week, tz="UTC"):
    for k, n in enumerate(speakers_per_week, start=1):
        for acc in people[:n]:
            store.say(g, acc, tuesday_noon(k, tz))


HYSTERESIS_BARS = {
    **ACTIVE_ONLY,
    "growing_members": 5,
    "core_members": 8,
}


def test_promotion_grace_hovering_and_demotion(store):
    g = store.group("hyst")
    people = [store.person(f"p{i}") for i in range(10)]
    for acc in people:
        store.member(g, acc)
    # 10 members; n speakers → active n/10 → score min(100, 20n).
    # growing: score ≥ 40 (n ≥ 2), keep line 36; core: score ≥ 65 and active ≥ 0.3 (n ≥ 4),
    # keep line 58.5 / 0.27 (n = 3 keeps it, n = 2 does not).
    speakers = [1, 2, 4, 3, 2, 4, 3, 2, 2, 3, 0, 0, 1]
    _say_weekly(store, g, people, speakers)
    r = run(store, "group_health", since="2026-03-02", until="2026-05-31", **HYSTERESIS_BARS)
    w = [W1 + k for k in range(13)]
    assert rows(r, *TIER) == [
        (w[0], 20.0, "new", "new", "new", False, 0, "new"),
        (w[1], 40.0, "growing", "growing", "new", True, 0, "promoted"),  # meets growing
        (w[2], 80.0, "core", "core", "growing", True, 0, "promoted"),  # meets core
        (w[3], 60.0, "growing", "core", "core", False, 0, "hovering"),  # 90–100% of the bar
        (w[4], 40.0, "growing", "core", "core", False, 1, "grace"),  # one bad week
        (w[5], 80.0, "core", "core", "core", False, 0, "meets"),
        (w[6], 60.0, "growing", "core", "core", False, 0, "hovering"),
        (w[7], 40.0, "growing", "core", "core", False, 1, "grace"),
        (w[8], 40.0, "growing", "growing", "core", True, 2, "demoted"),  # two weeks below
        (w[9], 60.0, "growing", "growing", "growing", False, 0, "meets"),
        (w[10], 0.0, "new", "growing", "growing", False, 1, "grace"),
        (w[11], 0.0, "new", "new", "growing", True, 2, "demoted"),
        (w[12], 20.0, "new", "new", "new", False, 0, "new"),
    ]
    demoted = r.rows()[8]
    assert demoted["why"] == "demoted to growing after 2 weeks below 90% of the core bar"
    assert health_why(demoted, "zh") == "降为成长群：连续 2 周低于核心群标准的保级线"
    assert health_why(r.rows()[2], "zh") == "升为核心群：成员 10，活跃率 40%，得分 80"

    moves = run(store, "tier_movements", since="2026-03-02", until="2026-05-31", **HYSTERESIS_BARS)
    assert rows(moves, "week", "previous_tier", "tier", "reason") == [
        (w[1], "new", "growing", "promoted"),
        (w[2], "growing", "core", "promoted"),
        (w[8], "core", "growing", "demoted"),
        (w[11], "growing", "new", "demoted"),
    ]
    # the tier in the week of the end day, and since when: demoted to new in W12
    tiers = run(store, "group_tiers", since="2026-05-01", until="2026-05-31", **HYSTERESIS_BARS)
    assert rows(tiers, "name", "week", "tier", "since_week", "since_date", "members", "score") == [
        ("hyst", w[12], "new", w[11], str(monday(12)), 10, 20.0)
    ]
    assert tier_why(tiers.rows()[0], "en") == (
        "new since the week of 2026-05-18: 10 members, 10% active, score 20"
    )


def test_a_report_starting_later_keeps_the_tier_earned_before_it(store):
    g = store.group("hyst")
    people = [store.person(f"p{i}") for i in range(10)]
    for acc in people:
        store.member(g, acc)
    _say_weekly(store, g, people, [4, 3, 3])  # core in W1, hovering after
    r = run(store, "group_health", since="2026-03-09", until="2026-03-22", **HYSTERESIS_BARS)
    assert rows(r, "week", "tier", "reason") == [
        (W1 + 1, "core", "hovering"),
        (W1 + 2, "core", "hovering"),
    ]


def test_a_growing_group_is_promoted_the_week_it_meets_the_bars(store):
    g = store.group("growing")
    people = [store.person(f"p{i}") for i in range(5)]
    # two founders join in W1, then one more member every week; everyone speaks every week
    for i, acc in enumerate(people):
        store.member(g, acc, joined=at(f"{monday(max(1, i))} 09:00"))
    for k in range(1, 5):
        for acc in people[: k + 1]:
            store.say(g, acc, tuesday_noon(k))
    bars = {**ACTIVE_ONLY, "growing_members": 3, "core_members": 5}
    r = run(store, "group_health", since="2026-03-02", until="2026-03-29", **bars)
    # members 2, 3, 4, 5 and all active → score 100 every week; the member bars decide:
    # growing at 3 members (W2), core at 5 (W4)
    assert rows(r, "week", "members", "joiners", "retained", "score", "tier", "reason") == [
        (W1, 2, 0, 0, 100.0, "new", "new"),
        (W1 + 1, 3, 2, 2, 100.0, "growing", "promoted"),
        (W1 + 2, 4, 3, 3, 100.0, "growing", "meets"),
        (W1 + 3, 5, 4, 4, 100.0, "core", "promoted"),
    ]


def test_empty_and_bots_only_groups_score_zero_and_stay_new(store):
    store.group("empty")
    bots = store.group("bots")
    bot = store.person("bot", bot=True)
    store.member(bots, bot, joined=at("2026-03-02 08:00"))
    store.say(bots, bot, at("2026-03-03 08:00"), "beep")
    r = run(store, "group_health", since="2026-03-02", until="2026-03-08")
    zero = (W1, 0, 0, 0, 0.0, 0, 0.0, 0, 0, None, 0.0, 0.0)
    assert rows(r, "name", *HEALTH) == [("empty", *zero), ("bots", *zero)]
    assert rows(r, "tier", "changed", "reason") == [("new", False, "new")] * 2
    tiers = run(store, "group_tiers", since="2026-03-02", until="2026-03-08")
    assert rows(tiers, "name", "tier", "since_week") == [("empty", "new", W1), ("bots", "new", W1)]
    c = run(store, "program_concentration", since="2026-03-02", until="2026-03-08")
    assert rows(c) == [(20, 2, 0, 0, 0, 0, None, 2, 0, 0)]
    assert c.rows()[0]["why"] == "no UGC in the period"


def test_concentration_over_five_groups(store):
    ugc = {"A": 8, "B": 4, "C": 3, "D": 3, "E": 2}
    for name, n in ugc.items():
        g = store.group(name)
        a = store.person(f"{name}-member")
        store.member(g, a)
        for i in range(n):
            store.say(g, a, at(f"2026-03-0{3 + i % 4} 10:00"))
        if name == "A":
            store.say(g, a, at("2026-02-24 10:00"))  # before the period: not counted
    f = store.group("F")
    adm, bot = store.person("F-admin"), store.person("F-bot", bot=True)
    store.member(f, adm, role="admin")
    store.member(f, bot)
    store.say(f, adm, at("2026-03-03 10:00"))  # operators and bots write no UGC
    store.say(f, bot, at("2026-03-03 11:00"))
    # 6 groups, 5 with UGC, 20 messages. Top 20% of 5 = ceil(1.0) = 1 group: A, 8/20 = 0.4.
    # Tiers (growing: ≥1 member, score ≥40; core: ≥1 member, score ≥90, active ≥0.3): one
    # member who speaks → active 1, growth 0 → 0.5, retention null: score
    # 100 × (40 + 30 × min(1, u/3) + 7.5)/85: A–D 91.18 core; E (u=2) 79.41 growing;
    # F (the admin speaks, no UGC) 55.88 growing.
    bars = {"growing_members": 1, "core_members": 1, "core_score": 90.0}
    r = run(store, "program_concentration", since="2026-03-02", until="2026-03-08", **bars)
    cols = ("groups", "active_groups", "ugc_total", "top20_groups", "top20_ugc", "top20_share")
    assert rows(r, *cols, "groups_new", "groups_growing", "groups_core") == [
        (6, 5, 20, 1, 8, 0.4, 0, 2, 4)
    ]
    assert r.rows()[0]["why"] == (
        "the top 20% of groups (1 of 5 with content) produce 40% of the content"
    )
    # top 60%: ceil(3.0) = 3 groups: A, B and C (C before D on the tie: lower id) → 15/20
    r = run(store, "program_concentration", since="2026-03-02", until="2026-03-08", top_percent=60)
    assert rows(r, "top_percent", "top20_groups", "top20_ugc", "top20_share") == [(60, 3, 15, 0.75)]
    assert concentration_why(r.rows()[0], "zh") == (
        "前 60% 的群（5 个有内容的群中的 3 个）贡献了 75% 的内容"
    )


def test_midnight_in_the_group_zone_falls_in_the_right_week(store):
    g = store.group("上海群", tz="Asia/Shanghai")
    x, y, z = store.person("x"), store.person("y"), store.person("z")
    store.member(g, x)
    store.member(g, y)
    # Monday 00:05 in Shanghai is Sunday 16:05 UTC: z joins in W2, not W1
    store.member(g, z, joined=at("2026-03-09 00:05", "Asia/Shanghai"))
    store.say(g, x, at("2026-03-08 23:50", "Asia/Shanghai"))  # Sunday 15:50 UTC: W1
    store.say(g, y, at("2026-03-09 00:10", "Asia/Shanghai"))  # Sunday 16:10 UTC: W2
    r = run(store, "group_health", since="2026-03-02", until="2026-03-15")
    assert rows(r, "week", "members", "active_members", "active_ratio", "ugc", "joiners") == [
        (W1, 2, 1, 0.5, 1, 0),
        (W1 + 1, 3, 1, 0.3333, 1, 0),
    ]


@pytest.mark.parametrize(
    "name", ["group_health", "group_tiers", "tier_movements", "program_concentration"]
)
def test_runs_on_an_empty_store(store, name):
    r = run(store, name, since="2026-03-02", until="2026-03-08")
    expected = 1 if name == "program_concentration" else 0
    assert r.table.num_rows == expected
