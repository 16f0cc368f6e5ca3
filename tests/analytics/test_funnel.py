"""`funnel` on a hand-built store; every expected value is worked out by hand."""

from __future__ import annotations

import pytest
from test_connections import label

from analytics_builder import StoreBuilder, at, rows, run
from shequn.analytics.metrics.connections import STEPS

COLS = ("step_no", "step", "step_zh", "members", "conversion", "of_joined")
SH = "Asia/Shanghai"


def funnel_group(store: StoreBuilder, platform: str = "telegram") -> dict[str, int]:
    """Mon 2 – Sun 8 March 2026, group g in Shanghai.

    p1: member before the history; speaks on 4 days (one at 23:50 Sunday), B replies to
    her, has paid, gave feedback, invited p5 on 5 March → passes every step.
    p2: joined 2 Mar; speaks on 4 days, p1 reacted to her; gave feedback but never paid →
    stops after 活跃.
    p3: joined 3 Mar; speaks once, the operator replied → stops after 产生好感.
    p4: left on 20 Feb, has paid → not in the period at all.
    p5: joined 5 Mar (invited by p1), silent; she invited p6 → stops after 加入.
    p6: joined 6 Mar, silent → 加入 only.
    p7: member before the history, left on 2 Mar (present that day), spoke that day, ordered
    once (paid) but nobody responded → stops after 交流.
    p8: joined 2 Mar, left 3 Mar, rejoined 5 Mar: one member; spoke on 2 and 5 Mar, nobody
    responded → stops after 交流. Also p1's second account (linked) in another group.
    op (admin) and the bot are not members of the funnel.

    joined 7 (p1 p2 p3 p5 p6 p7 p8) → spoke 5 (p1 p2 p3 p7 p8) → got a response 3 (p1 p2 p3) →
    active 2 (p1 p2) → paid 1 (p1) → feedback 1 → invited 1.
    """
    g, other = (
        store.group("g", platform=platform, tz=SH),
        store.group("other", platform=platform, tz="UTC"),
    )
    p = {
        n: store.person(platform=platform, name=n)
        for n in ("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "op")
    }
    bot = store.person(platform=platform, name="bot", bot=True)
    p1b = store.person("p1-slack", platform="slack")
    store.link(p["p1"], p1b)
    store.member(g, p["p1"])
    store.member(g, p["op"], role="admin")
    store.member(g, bot)
    store.member(g, p["p2"], joined=at("2026-03-02 09:00", SH))
    store.member(g, p["p3"], joined=at("2026-03-03 09:00", SH))
    store.member(g, p["p4"], joined=at("2026-02-01 09:00", SH), left=at("2026-02-20 09:00", SH))
    store.member(g, p["p5"], joined=at("2026-03-05 09:00", SH), inviter=p["p1"])
    store.member(g, p["p6"], joined=at("2026-03-06 09:00", SH), inviter=p["p5"])
    store.member(g, p["p7"], left=at("2026-03-02 20:00", SH))
    store.member(g, p["p8"], joined=at("2026-03-02 09:00", SH), left=at("2026-03-03 09:00", SH))
    store.member(g, p["p8"], joined=at("2026-03-05 09:00", SH))
    store.member(other, p1b)
    store.attributes(store.person_of(p["p1"]), payments=99.0)
    store.attributes(store.person_of(p["p4"]), payments=10.0)
    store.attributes(store.person_of(p["p7"]), orders=1)
    say = store.say
    first = say(g, p["p1"], at("2026-03-02 10:00", SH), "大家好")
    say(g, p["p2"], at("2026-03-02 10:01", SH), "你好", reply_to=first)
    for d in ("03", "04"):
        say(g, p["p1"], at(f"2026-03-{d} 10:00", SH))
    fb = say(g, p["p1"], at("2026-03-08 23:50", SH), "闪退了")  # Sunday night: day 4
    label(store, g, fb, feedback="defect")
    p2_msgs = [say(g, p["p2"], at(f"2026-03-{d} 11:00", SH)) for d in ("03", "04", "05")]
    store.react(g, p2_msgs[0], p["p1"])
    label(store, g, p2_msgs[1], feedback="feature")
    hello = say(g, p["p3"], at("2026-03-03 12:00", SH), "新人报到")
    say(g, p["op"], at("2026-03-03 12:05", SH), "欢迎", reply_to=hello)
    say(g, p["p7"], at("2026-03-02 12:00", SH), "再见")
    say(g, p["p8"], at("2026-03-02 13:00", SH))
    say(g, p["p8"], at("2026-03-05 13:00", SH))
    say(g, bot, at("2026-03-02 14:00", SH), "签到提醒", reply_to=hello)  # bots do not count
    say(g, p["p1"], at("2026-03-09 00:10", SH))  # Monday: after the period
    say(other, p1b, at("2026-03-02 10:00"))
    return {"g": g, "other": other}


def _expected(counts: list[int]) -> list[tuple]:
    out = []
    for i, (step, zh, _en) in enumerate(STEPS):
        prev = counts[i - 1] if i else counts[0]
        conv = round(counts[i] / prev, 4) if prev else 0.0
        share = round(counts[i] / counts[0], 4) if counts[0] else 0.0
        out.append((i + 1, step, zh, counts[i], conv, share))
    return out


def test_funnel_by_hand(store):
    ids = funnel_group(store)
    result = run(store, "funnel", since="2026-03-02", until="2026-03-08")
    got = rows(result, "community_id", *COLS)
    g = [r[1:] for r in got if r[0] == ids["g"]]
    assert g == [
        (1, "joined", "加入", 7, 1.0, 1.0),
        (2, "spoke", "交流", 5, 0.7143, 0.7143),
        (3, "got_response", "产生好感", 3, 0.6, 0.4286),
        (4, "active", "活跃", 2, 0.6667, 0.2857),
        (5, "paid", "付费", 1, 0.5, 0.1429),
        (6, "feedback", "反馈", 1, 1.0, 0.1429),
        (7, "invited", "拉人", 1, 1.0, 0.1429),
    ]
    # the other group: p1's linked account spoke there once; nothing else
    assert [r[1:] for r in got if r[0] == ids["other"]] == _expected([1, 1, 0, 0, 0, 0, 0])
    assert (
        result.rows()[1]["why"] == "Spoke: 5 members, 71.4% of the previous step, 71.4% of joined"
    )


def test_funnel_of_joiners_only(store):
    """joined_in_period: p2, p3, p5, p6, p8 (twice, one member) = 5 → spoke p2 p3 p8 = 3 →
    got a response p2 p3 = 2 → active p2 = 1 → paid 0 → 0 → 0."""
    ids = funnel_group(store)
    result = run(store, "funnel", since="2026-03-02", until="2026-03-08", joined_in_period=True)
    got = [r[1:] for r in rows(result, "community_id", *COLS) if r[0] == ids["g"]]
    assert got == _expected([5, 3, 2, 1, 0, 0, 0])


@pytest.mark.parametrize(("active_days", "active"), [(1, 3), (4, 2), (5, 0)])
def test_funnel_active_days_parameter(store, active_days, active):
    """p1 and p2 speak on 4 days each, p3 on 1: the bar decides who stays."""
    ids = funnel_group(store)
    result = run(store, "funnel", since="2026-03-02", until="2026-03-08", active_days=active_days)
    got = {r[1]: r[4] for r in rows(result, "community_id", *COLS) if r[0] == ids["g"]}
    assert got[4] == active


def test_funnel_of_empty_and_bot_groups_is_all_zeros(store):
    empty, bots = store.group("empty"), store.group("bots")
    bot = store.person("bot", bot=True)
    store.member(bots, bot, joined=at("2026-03-02 09:00"))
    store.say(bots, bot, at("2026-03-02 10:00"))
    result = run(store, "funnel", since="2026-03-02", until="2026-03-08")
    zeros = _expected([0] * 7)
    assert rows(result, "community_id", *COLS) == [(empty, *r) for r in zeros] + [
        (bots, *r) for r in zeros
    ]
