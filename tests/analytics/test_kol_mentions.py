"""@mentions in the KOL graph (`kol_candidates`): a mention is an edge mentioner → mentioned,
weight 1, and the mentioner counts among the members who respond. Worked out by hand with one
PageRank iteration (the module docstring of test_kol_metric has the formula)."""

from __future__ import annotations

from analytics_builder import StoreBuilder, at, rows, run

COLS = (
    "display_name",
    "rank",
    "score",
    "distinct_responders",
    "replies_received",
    "mentions_received",
    "pagerank",
)


def mention_group(store: StoreBuilder, *, with_mention: bool) -> int:
    """2 March 2026; members A, B, C, D; op (admin), a bot, A2 (A's second account, linked).
    C replies to A, D replies to B: A and B tie. With the mention, C also @mentions B.
    Left out whatever happens: op @mentions A, the bot @mentions A, A @mentions herself (a row
    written by hand: the resolve step would drop it), A2 @mentions A (the same person), C
    @mentions the bot and op, and D's mention of A on 1 March (before the period)."""
    g = store.group("g")
    a, b, c, d, op, a2 = (store.person(n) for n in ("A", "B", "C", "D", "op", "A2"))
    bot = store.person("bot", bot=True)
    store.link(a, a2)
    for m in (a, b, c, d, a2, bot):
        store.member(g, m)
    store.member(g, op, role="admin")
    minute = iter(range(60))

    def say(who: int, **kw) -> str:
        return store.say(g, who, at(f"2026-03-02 10:{next(minute):02d}"), **kw)

    store.say(g, d, at("2026-03-01 10:00"), "@A", mentions=["A"])
    a1, b1 = say(a, text="a1"), say(b, text="b1")
    say(c, reply_to=a1)
    say(d, reply_to=b1)
    say(op, text="@A", mentions=["A"])
    say(bot, text="@A", mentions=["A"])
    say(c, text="@bot @op", mentions=["bot", "op"])
    say(a2, text="@A", mentions=["A"])
    own = say(a, text="@A")
    store.mention(g, own, a)
    if with_mention:
        say(c, text="@B 你怎么看？", mentions=["B"])
    store.resolve_mentions()
    return g


def test_without_the_mention_a_and_b_tie(store):
    """Edges C→A, D→B; nodes A B C D A2 (A2 spoke; op and the bot are not members of the
    graph): n = 5, r0 = 0.2; dangling A, B, A2: D = 0.6; base = 0.15/5 + 0.85·0.6/5 = 0.132.
    A = B = 0.132 + 0.85·0.2 = 0.302; C = D = A2 = 0.132 (sum 1).
    influence A = B = (1/1 + 1)/2 = 1 → score 0.5; C, D, A2 score 0 (not listed). Tie: A
    first (smaller account id)."""
    mention_group(store, with_mention=False)
    r = run(store, "kol_candidates", since="2026-03-02", until="2026-03-02", iterations=1)
    assert rows(r, *COLS) == [
        ("A", 1, 0.5, 1, 1, 0, 0.302),
        ("B", 2, 0.5, 1, 1, 0, 0.302),
    ]


def test_the_mention_puts_b_first(store):
    """Edges C→A 1, C→B 1 (the mention), D→B 1; out(C) = 2, out(D) = 1; base 0.132 as above.
    A = 0.132 + 0.85·0.2/2 = 0.217; B = 0.132 + 0.85·(0.2/2 + 0.2) = 0.387;
    C = D = A2 = 0.132 (sum 1). Central A = 0.085/0.255 = 1/3, B = 1.
    distinct responders A 1, B 2 (C and D): influence A = (1/2 + 1/3)/2 = 0.416667 → score
    0.2083; B = (1 + 1)/2 → 0.5."""
    mention_group(store, with_mention=True)
    r = run(store, "kol_candidates", since="2026-03-02", until="2026-03-02", iterations=1)
    assert rows(r, *COLS) == [
        ("B", 1, 0.5, 2, 1, 1, 0.387),
        ("A", 2, 0.2083, 1, 1, 0, 0.217),
    ]
    assert r.whys == [
        "2 members responded to them; @mentioned 1 times",
        "1 members responded to them",
    ]
    why = r.metric.why
    assert why is not None
    assert why(r.rows()[0], "zh") == "2 位成员回应过 TA，被成员 @ 1 次"


def test_unresolved_mentions_are_not_edges(store):
    """A mention text nobody in the group carries ("Zed") gives no row, hence no edge: the
    figures are those of the test above."""
    g = mention_group(store, with_mention=True)
    store.say(g, store.person("E"), at("2026-03-01 09:00"), "@Zed", mentions=["Zed"])
    assert store.resolve_mentions() == 0
    r = run(store, "kol_candidates", since="2026-03-02", until="2026-03-02", iterations=1)
    assert rows(r, "display_name", "mentions_received") == [("B", 1), ("A", 0)]
