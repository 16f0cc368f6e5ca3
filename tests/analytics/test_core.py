"""Core users (R4): core_members, core_members_overall, core_concentration.

The rule (docs/metrics/core.md): rank a group's speakers by UGC messages (desc), ties by account
id; a speaker is core when the messages of everyone ranked BEFORE them are < 80% of the group's
UGC. Every expected table below is worked out by hand in the comment above it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from analytics_builder import StoreBuilder, at, day, rows
from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine
from shequn.analytics.metrics.core import MODES
from shequn.analytics.registry import all_metrics, get_metric
from shequn.analytics.run import Result, run_metric
from shequn.errors import InputError

SINCE, UNTIL = "2026-03-01", "2026-03-31"
MEMBER_COLS = (
    "name",
    "display_name",
    "messages",
    "share_of_group",
    "cumulative_share",
    "rank",
    "group_members_speaking",
    "reasons",
)


def runner(s: StoreBuilder) -> Callable[..., Result]:
    """Run core metrics over [SINCE, UNTIL] on one refreshed DuckDB engine (one read of the
    store per test instead of one per run)."""
    engine = DuckDBEngine(s.engine, default_tz="UTC")
    engine.refresh()
    base = Base(engine.raw(), since_day=day(SINCE), until_day=day(UNTIL))
    return lambda metric, **params: run_metric(metric, base, engine, params=params)


def say_n(s: StoreBuilder, group: int, account: int, n: int, start: str = "2026-03-02 10:00"):
    """n messages one minute apart from `start` (UTC)."""
    for i in range(n):
        s.say(group, account, at(start) + timedelta(minutes=i))


def fifty_thirty(s: StoreBuilder) -> dict[str, int]:
    """Group 'g' (UTC): a 50, b 30, c 10, d 5, e 5 UGC messages, and noise that is not UGC:
    an admin with 100 messages, a bot with 40, a system line with a sender. b leaves on 10 March
    and rejoins on 15 March, speaking in both spells (15 + 15)."""
    g = s.group("g")
    ids = {n: s.person(n) for n in "abcde"}
    for n, a in ids.items():
        if n != "b":
            s.member(g, a)
    s.member(g, ids["b"], left=at("2026-03-10 00:00"))
    s.member(g, ids["b"], joined=at("2026-03-15 00:00"))
    for n, count in zip("acde", [50, 10, 5, 5], strict=True):
        say_n(s, g, ids[n], count)
    say_n(s, g, ids["b"], 15, "2026-03-05 10:00")
    say_n(s, g, ids["b"], 15, "2026-03-20 10:00")
    ids["admin"] = s.person("admin")
    s.member(g, ids["admin"], role="admin")
    say_n(s, g, ids["admin"], 100)
    ids["bot"] = s.person("bot", bot=True)
    s.member(g, ids["bot"])
    say_n(s, g, ids["bot"], 40)
    s.say(g, ids["e"], at("2026-03-03 10:00"), "e joined", kind="system")
    ids["g"] = g
    return ids


# 50/30/10/5/5 of 100 UGC: a: before 0 < 0.8 in; b: before 0.5 < 0.8 in; c: before 0.8, not
# below 0.8, out. So the core is a and b, reaching exactly 80%.
def test_fifty_thirty_core_is_the_first_two_and_ugc_only(store):
    fifty_thirty(store)
    run = runner(store)
    r = run("core_members")
    assert rows(r, *MEMBER_COLS) == [
        ("g", "a", 50, 0.5, 0.5, 1, 5, "activity"),
        ("g", "b", 30, 0.3, 0.8, 2, 5, "activity"),
    ]
    assert [row["usage_frequency"] for row in r.rows()] == [None, None]
    assert r.whys == [
        "core speaker (#1/5, 50% cumulative): 50 messages, 50% of the group",
        "core speaker (#2/5, 80% cumulative): 30 messages, 30% of the group",
    ]


def test_ties_go_to_the_smaller_account_id(store):
    # 40/20/20/20: zoe is created before yan before xia, so zoe < yan < xia by account id.
    # w: before 0 in; zoe: before 0.4 in; yan: before 0.6 in; xia: before 0.8 out.
    g = store.group("ties")
    w, zoe, yan, xia = (store.person(n) for n in ["w", "zoe", "yan", "xia"])
    for a, n in [(xia, 20), (yan, 20), (zoe, 20), (w, 40)]:
        say_n(store, g, a, n)
    run = runner(store)
    r = run("core_members")
    assert rows(r, "account_id", "display_name", "messages", "cumulative_share", "rank") == [
        (w, "w", 40, 0.4, 1),
        (zoe, "zoe", 20, 0.6, 2),
        (yan, "yan", 20, 0.8, 3),
    ]


def test_local_midnight_in_shanghai_decides_the_period(store):
    # a: 4 messages on 10 March. b: one at 23:50 local on 31 March (in) and five at 00:10 local
    # on 1 April (out). c: 1 on 10 March. UGC 6: a 4 (0.6667), b 1 and c 1, b < c by id.
    # a in; b: before 4/6 = 0.667 < 0.8 in; c: before 5/6 = 0.833 out.
    # (In UTC all six of b's would fall on 31 March and b would be first.)
    g = store.group("上海群", tz="Asia/Shanghai")
    a, b, c = store.person("a"), store.person("b"), store.person("c")
    say_n(store, g, a, 4, "2026-03-10 02:00")
    store.say(g, b, at("2026-03-31 23:50", "Asia/Shanghai"))
    say_n(store, g, b, 5, "2026-03-31 16:10")  # 00:10+ on 1 April in Shanghai
    store.say(g, c, at("2026-03-10 02:00"))
    run = runner(store)
    r = run("core_members")
    assert rows(r, *MEMBER_COLS) == [
        ("上海群", "a", 4, 0.6667, 0.6667, 1, 3, "activity"),
        ("上海群", "b", 1, 0.1667, 0.8333, 2, 3, "activity"),
    ]


def test_bots_only_and_empty_groups_have_no_core(store):
    bots = store.group("bots")
    bot = store.person("beep", bot=True)
    store.member(bots, bot)
    say_n(store, bots, bot, 10)
    store.group("empty")
    run = runner(store)
    for mode in MODES:
        extra = {"min_payments": 1.0} if mode != "activity" else {}
        assert run("core_members", mode=mode, **extra).rows() == []
        r = run("core_members_overall", mode=mode, **extra)
        assert r.rows() == []


def linked_program(s: StoreBuilder) -> dict[str, int]:
    """g1: pat (telegram) 30, quinn 25, rae 5. g2: pat's slack account (linked) 20, sam 40,
    uma 5."""
    g1, g2 = s.group("g1"), s.group("g2", platform="slack")
    ids = {n: s.person(n) for n in ["pat", "quinn", "rae", "sam", "uma"]}
    ids["pat_slack"] = s.person("pat_slack", platform="slack")
    s.link(ids["pat"], ids["pat_slack"])
    for g, n, count in [
        (g1, "pat", 30),
        (g1, "quinn", 25),
        (g1, "rae", 5),
        (g2, "pat_slack", 20),
        (g2, "sam", 40),
        (g2, "uma", 5),
    ]:
        s.member(g, ids[n])
        say_n(s, g, ids[n], count)
    ids["g1"], ids["g2"] = g1, g2
    return ids


# Per person over the program (125 UGC): pat 30+20 = 50, sam 40, quinn 25, rae 5, uma 5.
# pat: before 0 in; sam: before 50/125 = 0.4 in; quinn: before 90/125 = 0.72 in;
# rae: before 115/125 = 0.92 out. pat's name is his telegram account's (30 > 20).
# (Unlinked, pat's 20 on slack would be a fourth core member.)
def test_overall_sums_a_persons_linked_accounts(store):
    ids = linked_program(store)
    run = runner(store)
    r = run("core_members_overall")
    cols = ("person_id", "display_name", "messages", "groups", "share", "cumulative_share")
    pid = store.person_of
    assert rows(r, *cols, "rank", "program_members_speaking", "reasons") == [
        (pid(ids["pat"]), "pat", 50, 2, 0.4, 0.4, 1, 5, "activity"),
        (pid(ids["sam"]), "sam", 40, 1, 0.32, 0.72, 2, 5, "activity"),
        (pid(ids["quinn"]), "quinn", 25, 1, 0.2, 0.92, 3, 5, "activity"),
    ]
    assert r.whys[0] == (
        "core speaker of the program (#1/5, 40% cumulative): 50 messages in 2 groups, 40% of all"
    )
    # per group the accounts stay apart. g1 (60): pat in, quinn before 0.5 in, rae before
    # 0.9167 out. g2 (65): sam in, pat_slack before 0.6154 in, uma before 0.9231 out.
    per = run("core_members")
    assert rows(per, "name", "display_name", "person_id", "messages", "cumulative_share") == [
        ("g1", "pat", pid(ids["pat"]), 30, 0.5),
        ("g1", "quinn", pid(ids["quinn"]), 25, 0.9167),
        ("g2", "sam", pid(ids["sam"]), 40, 0.6154),
        ("g2", "pat_slack", pid(ids["pat"]), 20, 0.9231),
    ]


def with_product_data(s: StoreBuilder) -> dict[str, int]:
    """The 50/30 group plus product data: a uses it 10×/week but pays nothing, b paid 399 in 2
    orders, c paid 99 in 1; f (a member, silent) paid 500 in 3 orders; h paid 1000 but left
    before the period ended; the admin paid 800 (operators are never core)."""
    ids = fifty_thirty(s)
    g = ids["g"]
    ids["f"], ids["h"] = s.person("f"), s.person("h")
    s.member(g, ids["f"], joined=at("2026-03-01 00:00"))
    s.member(g, ids["h"], joined=at("2026-03-01 00:00"), left=at("2026-03-20 00:00"))
    for n, values in [
        ("a", {"usage_frequency": 10.0, "payments": 0.0, "orders": 0}),
        ("b", {"payments": 399.0, "orders": 2, "usage_minutes": 45.0}),
        ("c", {"payments": 99.0, "orders": 1}),
        ("f", {"payments": 500.0, "orders": 3}),
        ("h", {"payments": 1000.0, "orders": 5}),
        ("admin", {"payments": 800.0, "orders": 4}),
    ]:
        s.attributes(s.person_of(ids[n]), **values)
    return ids


PRODUCT_COLS = ("display_name", "messages", "rank", "payments", "orders", "reasons")


def test_product_thresholds_in_each_mode(store):
    with_product_data(store)
    run = runner(store)

    def core(**params):
        return rows(run("core_members", **params), *PRODUCT_COLS)

    # activity (default): a and b as before; a threshold set is reported, not required
    assert core(min_payments=100.0) == [
        ("a", 50, 1, 0.0, 0, "activity"),
        ("b", 30, 2, 399.0, 2, "activity;payments"),
    ]
    # both: the 2/8 set (a, b) and paid ≥ 100 → b
    assert core(mode="both", min_payments=100.0) == [("b", 30, 2, 399.0, 2, "activity;payments")]
    # product: paid ≥ 100 among speakers and current members: b (399) and silent f (500,
    # ranked 6th after the five speakers); not h (left on 20 March) nor the admin
    assert core(mode="product", min_payments=100.0) == [
        ("b", 30, 2, 399.0, 2, "activity;payments"),
        ("f", 0, 6, 500.0, 3, "payments"),
    ]
    # every threshold set must be met: paid ≥ 100 and ≥ 3 orders → f only
    assert core(mode="product", min_payments=100.0, min_orders=3) == [
        ("f", 0, 6, 500.0, 3, "payments;orders")
    ]
    # usage: a uses it 10×/week; nobody else has a frequency (no data fails a threshold)
    assert core(mode="product", min_usage_frequency=5.0) == [
        ("a", 50, 1, 0.0, 0, "activity;usage_frequency")
    ]
    assert core(mode="both", min_usage_minutes=60.0) == []  # b's 45 minutes are too few


def test_product_whys_in_both_languages(store):
    with_product_data(store)
    run = runner(store)
    r = run("core_members", mode="product", min_payments=100.0)
    why = get_metric("core_members").why
    assert why is not None
    assert [why(row, "zh") for row in r.rows()] == [
        "核心发言者（第 2/5 名，累计 80%）：发言 30 条，占本群 30%；付费 ¥399",
        "发言 0 条，占本群 0%；付费 ¥500",
    ]
    assert r.whys == [
        "core speaker (#2/5, 80% cumulative): 30 messages, 30% of the group; paid 399",
        "0 messages, 0% of the group; paid 500",
    ]
    r = run("core_members", min_usage_frequency=2.5)
    assert [why(row, "zh") for row in r.rows()] == [
        "核心发言者（第 1/5 名，累计 50%）：发言 50 条，占本群 50%；每周使用 10 次",
        "核心发言者（第 2/5 名，累计 80%）：发言 30 条，占本群 30%",
    ]


def test_bad_modes_are_input_errors(store):
    fifty_thirty(store)
    run = runner(store)
    with pytest.raises(InputError, match="needs at least one threshold"):
        run("core_members", mode="product")
    with pytest.raises(InputError, match="expected one of activity, product, both"):
        run("core_members_overall", mode="all")
    with pytest.raises(InputError, match=r"share in \(0, 1\]"):
        run("core_concentration", share=1.5)


def test_overall_product_mode_counts_silent_members_once(store):
    # pat (linked, 2 groups) and a silent paying member of g2, ola, who paid 300.
    # Program UGC 125: ranks as in the overall test; ola is 6th (0 messages, after rae/uma).
    ids = linked_program(store)
    ola = store.person("ola")
    store.member(ids["g2"], ola)
    store.attributes(store.person_of(ids["pat"]), payments=50.0)
    store.attributes(store.person_of(ola), payments=300.0, orders=1)
    run = runner(store)
    r = run("core_members_overall", mode="product", min_payments=40.0)
    assert rows(r, "display_name", "messages", "groups", "rank", "payments", "reasons") == [
        ("pat", 50, 2, 1, 50.0, "activity;payments"),
        ("ola", 0, 0, 6, 300.0, "payments"),
    ]
    assert r.whys == [
        "core speaker of the program (#1/5, 40% cumulative): 50 messages in 2 groups, "
        "40% of all; paid 50",
        "0 messages in 0 groups; paid 300",
    ]


def test_concentration_per_group(store):
    fifty_thirty(store)
    t = store.group("ties")
    for n, count in [("w", 40), ("zoe", 20), ("yan", 20), ("xia", 20)]:
        say_n(store, t, store.person(n), count)
    fifteen = store.group("fifteen")
    for i in range(15):
        store.say(fifteen, store.person(f"p{i:02d}"), at("2026-03-02 10:00"))
    bots = store.group("bots")
    say_n(store, bots, store.person("beep", bot=True), 3)
    store.group("empty")
    run = runner(store)
    r = run("core_concentration")
    # g: 5 speakers, core a+b = 2 (0.4); top 20% = ceil(1.0) = 1 speaker: 50/100.
    # ties: 4 speakers, core 3 (0.75); top ceil(0.8) = 1: 40/100.
    # fifteen: 1 message each; speaker k is core while (k-1)/15 < 0.8, i.e. k ≤ 12 (0.8);
    # top ceil(0.2 × 15) = 3 exactly (not 4: 0.2 × 15 is 3.0000000000000004 in floats): 3/15.
    # bots and empty: nobody speaks.
    cols = ("name", "speakers", "messages", "core_count", "core_share_of_speakers", "top20_share")
    assert rows(r, *cols) == [
        ("g", 5, 100, 2, 0.4, 0.5),
        ("ties", 4, 100, 3, 0.75, 0.4),
        ("fifteen", 15, 15, 12, 0.8, 0.2),
        ("bots", 0, 0, 0, 0.0, 0.0),
        ("empty", 0, 0, 0, 0.0, 0.0),
    ]
    assert r.whys[0] == "2 of 5 speakers are the core (40%); the top speakers made 50%"
    assert r.whys[3] == "nobody spoke in the period"


def test_every_core_metric_runs_on_an_empty_store(store):
    names = [m.name for m in all_metrics() if "R4" in m.tags]
    assert names == ["core_members", "core_members_overall", "core_concentration"]
    run = runner(store)
    for name in names:
        assert run(name).rows() == []
    both = {"mode": "both", "min_orders": 1}
    assert run("core_members", **both).rows() == []
