"""The Group page's newcomers card (self-introductions against joins) and the group's own
answer window in the questions line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from analytics_builder import StoreBuilder, at
from shequn.analytics.snapshot import refresh_snapshot
from shequn.store import schema as t
from shequn.workspace import question_tables
from web_client import make_app, make_user, signed_in


@pytest.fixture
def intros(store: StoreBuilder):
    """跑步群 (UTC), answer window 45 minutes. erin joins 2 March 08:00 and introduces herself at
    10:00 (2.0 h, in time); frank joins 3 March 08:00 and only asks a question at 09:00 (no
    introduction; first message after 1.0 h); gina was there before the history (not a
    newcomer). intro_rate: 2 joiners, 1 in time → 50.0%, median over those who introduced = 2.0 h.
    """
    a = store.group("跑步群")
    with store.engine.begin() as c:
        c.execute(update(t.community).where(t.community.c.id == a).values(answer_window=45))
    erin, frank, gina = (store.person(n) for n in ("erin", "frank", "gina"))
    store.member(a, gina)
    store.member(a, erin, joined=at("2026-03-02 08:00"))
    store.member(a, frank, joined=at("2026-03-03 08:00"))
    store.say(a, gina, at("2026-03-02 07:00"), "早")
    hello = store.say(a, erin, at("2026-03-02 10:00"), "大家好，我是 erin，在杭州做设计")
    ask = store.say(a, frank, at("2026-03-03 09:00"), "周末在哪跑？")
    store.label(a, hello, is_intro=True)
    store.label(a, ask, is_question=True)
    extra = question_tables(store.engine, now=datetime(2026, 3, 4, tzinfo=UTC))
    refresh_snapshot(store.engine, extra=extra)
    return store, a, {n: store.person_of(x) for n, x in (("erin", erin), ("frank", frank))}


def test_newcomers_card(intros):
    store, a, people = intros
    page = signed_in(make_app(store.engine), make_user(store.engine, "viewer"))
    text = page.get(f"/groups/{a}").text
    card = text.split('id="intros"')[1].split("</section>")[0]
    assert "1 of 2 newcomers introduced themselves within 48 h of joining (50.0%)" in card
    assert "median time 2.0 h" in card
    rows = card.split("<tr")[2:]  # after the header row
    assert len(rows) == 2
    # newest join first: frank (no introduction, flagged), then erin (2.0 h, in time)
    assert f'href="/people/{people["frank"]}">frank</a>' in rows[0] and 'class="warn"' in rows[0]
    assert "2026-03-03" in rows[0] and "—" in rows[0] and "1.0" in rows[0]
    assert f'href="/people/{people["erin"]}">erin</a>' in rows[1] and "warn" not in rows[1]
    assert "2026-03-02" in rows[1] and "2.0" in rows[1]
    # the questions line names this group's own window
    assert "(answer window 45 min)" in text


def test_newcomers_card_in_chinese(intros):
    store, a, _people = intros
    page = signed_in(make_app(store.engine), make_user(store.engine, "admin", lang="zh"))
    text = page.get(f"/groups/{a}").text
    assert "新人自我介绍" in text
    assert "2 位新成员中 1 位在加入 48 小时内做了自我介绍（50.0%）" in text
    assert "回应时限 45 分钟" in text
