"""Overview and Group pages and their API: contents, filters, sorting, paging, CSV, access by
role, both languages, and a store without a snapshot yet."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from analytics_builder import StoreBuilder, at
from shequn.analytics.snapshot import refresh_snapshot
from shequn.text.enrich import enrich_pending
from shequn.web.views_groups import GROUP_TABLES
from shequn.workspace import question_tables
from web_client import make_app, make_user, signed_in, token_client

QUESTION = "有人知道怎么安装吗？"


def _build(store: StoreBuilder) -> tuple[int, int]:
    """alpha (telegram): alice 3 messages, bob 1 (an unanswered question), carol none;
    beta (wechat): dave 2 messages."""
    a, b = store.group("alpha"), store.group("beta", platform="wechat")
    alice, bob, carol = (store.person(n) for n in ("alice", "bob", "carol"))
    dave = store.person("dave", platform="wechat")
    for who in (alice, bob, carol):
        store.member(a, who)
    store.member(b, dave)
    store.say(a, alice, at("2026-03-02 10:00"), "早上好")
    store.say(a, alice, at("2026-03-02 10:01"), "今天开会")
    store.say(a, bob, at("2026-03-03 09:00"), QUESTION)
    store.say(a, alice, at("2026-03-03 12:00"), "午饭<b>真好吃</b>")
    store.say(b, dave, at("2026-03-04 12:00"), "hello")
    store.say(b, dave, at("2026-03-04 12:30"), "anyone here")
    return a, b


@pytest.fixture
def groups(store):
    a, b = _build(store)
    enrich_pending(store.engine)  # labels the question (the inbox is left empty: no sync)
    extra = question_tables(store.engine, now=datetime(2026, 3, 5, tzinfo=UTC))
    refresh_snapshot(store.engine, extra=extra)
    return store, make_app(store.engine), a, b


def _csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_admin_sees_both_groups_with_their_numbers(groups):
    store, app, a, b = groups
    api = token_client(app, make_user(store.engine, "admin"))
    body = api.get("/api/v1/groups").json()
    rows = [(r["name"], r["platform"], r["members"], r["messages"], r["size_status"],
             r["tier"], r["trend"], r["open_tasks"]) for r in body["rows"]]  # fmt: skip
    # default order: most members first; both far below 30 members, both new tiers;
    # 2026-03-04 is a Wednesday, so the last complete week is before the data: no trend
    assert rows == [
        ("alpha", "telegram", 3, 4, "small", "new", None, 0),
        ("beta", "wechat", 1, 2, "small", "new", None, 0),
    ]
    assert body["total"] == 2
    totals = api.get("/api/v1/program").json()
    assert (totals["groups"], totals["members"], totals["messages"]) == (2, 4, 6)
    assert totals["concentration"]["groups"] == 2
    page = signed_in(app, make_user(store.engine, "operator")).get("/")
    assert page.status_code == 200
    assert f"/groups/{a}" in page.text and f"/groups/{b}" in page.text


def test_overview_sort_filter_and_paging(groups):
    store, app, a, b = groups
    api = token_client(app, make_user(store.engine, "admin"))

    def names(query: str) -> list[str]:
        response = api.get("/api/v1/groups?" + query)
        assert response.status_code == 200, response.text
        return [r["name"] for r in response.json()["rows"]]

    assert names("sort=name&desc=0") == ["alpha", "beta"]
    assert names("sort=name&desc=1") == ["beta", "alpha"]
    assert names("sort=messages&desc=0") == ["beta", "alpha"]
    assert names("sort=platform&desc=1") == ["beta", "alpha"]
    assert names("sort=tier&desc=1") == ["alpha", "beta"]  # ties keep the stored order
    assert names("sort=open_tasks") == ["alpha", "beta"]
    assert names("platform=wechat") == ["beta"]
    assert names("q=LPH") == ["alpha"]  # name contains, any case
    assert names("q=%25") == []  # a literal %, not a wildcard
    assert names("size=small") == ["alpha", "beta"]
    assert names("size=over") == []
    assert names("tier=core") == []
    assert names("tier=new&platform=telegram") == ["alpha"]
    paged = api.get("/api/v1/groups?sort=name&desc=0&limit=1&offset=1").json()
    assert (paged["total"], [r["name"] for r in paged["rows"]]) == (2, ["beta"])
    assert api.get("/api/v1/groups?sort=nonsense").status_code == 400
    assert api.get("/api/v1/groups?tier=gold").status_code == 400
    assert api.get("/api/v1/groups?limit=0").status_code == 400
    table = _csv(api.get("/api/v1/groups?format=csv&sort=name&desc=0").text)
    assert table[0][:3] == ["community_id", "name", "platform"]
    assert [r[1] for r in table[1:]] == ["alpha", "beta"]
    # the page: filters and sort links keep each other
    web = signed_in(app, make_user(store.engine, "viewer"))
    text = web.get("/?platform=wechat&sort=name&desc=0").text
    assert f"/groups/{b}" in text and f"/groups/{a}" not in text
    assert "platform=wechat&amp;sort=members" in text.replace("&amp;", "&").replace("&", "&amp;")


def test_leader_sees_only_their_group(groups):
    store, app, a, b = groups
    leader = make_user(store.engine, "leader", groups=[a])
    api = token_client(app, leader)
    assert [r["name"] for r in api.get("/api/v1/groups").json()["rows"]] == ["alpha"]
    totals = api.get("/api/v1/program").json()
    assert (totals["groups"], totals["members"], totals["concentration"]) == (1, 3, None)
    assert api.get(f"/api/v1/groups/{a}").status_code == 200
    assert api.get(f"/api/v1/groups/{b}").status_code == 403
    for table in GROUP_TABLES:
        assert api.get(f"/api/v1/groups/{b}/{table}").status_code == 403, table
        assert api.get(f"/api/v1/groups/{b}/{table}?format=csv").status_code == 403, table
        assert api.get(f"/api/v1/groups/{a}/{table}").status_code == 200, table
    assert "beta" not in api.get("/api/v1/groups?format=csv").text
    web = signed_in(app, leader)
    overview = web.get("/")
    assert f"/groups/{a}" in overview.text and f"/groups/{b}" not in overview.text
    assert web.get(f"/groups/{b}").status_code == 403
    assert web.get(f"/groups/{a}").status_code == 200


def test_group_page_parts(groups):
    store, app, a, _b = groups
    web = signed_in(app, make_user(store.engine, "viewer"))
    page = web.get(f"/groups/{a}")
    assert page.status_code == 200
    text = page.text
    for part in ("chart-daily", "chart-heatmap", "chart-levels", "cohorts", "chart-funnel",
                 "chart-theme", 'id="connections"', 'id="kols"'):  # fmt: skip
        assert part in text, part
    # no theme set: said so, and the weeks are not flagged
    assert "No theme or keywords set" in text and "No week with too little on theme" in text
    for gone in ("No funnel metric yet", "Not yet (no such metric yet)", "No KOL metric"):
        assert gone not in text, gone
    assert QUESTION in text  # the waiting question, in its conversation
    assert text.count('class="small hit"') == 1
    assert "今天开会" in text  # context before it
    assert "午饭&lt;b&gt;真好吃" in text  # and after it, escaped
    assert "<script>" not in text  # the CSP forbids inline scripts
    for person in ("alice", "bob", "carol"):
        assert f">{person}</a>" in text
    detail = token_client(app, make_user(store.engine, "admin")).get(f"/api/v1/groups/{a}")
    body = detail.json()
    assert body["group"]["name"] == "alpha"
    assert (body["summary"]["members"], body["retention"]["joined"]) == (3, 0)
    assert body["questions"]["questions"] == 1


def test_members_table_sort_filter_page_csv(groups):
    store, app, a, _b = groups
    api = token_client(app, make_user(store.engine, "operator"))

    def members(query: str) -> list[tuple[str, int]]:
        response = api.get(f"/api/v1/groups/{a}/members?{query}")
        assert response.status_code == 200, response.text
        return [(r["display_name"], r["messages"]) for r in response.json()["rows"]]

    assert members("") == [("alice", 3), ("bob", 1), ("carol", 0)]
    assert members("sort=messages&desc=0") == [("carol", 0), ("bob", 1), ("alice", 3)]
    assert members("sort=display_name&desc=0&limit=2&offset=1") == [("bob", 1), ("carol", 0)]
    assert members("name=BO") == [("bob", 1)]
    assert members("name=zzz") == []
    levels = {r["display_name"]: r["level"] for r in
              api.get(f"/api/v1/groups/{a}/members").json()["rows"]}  # fmt: skip
    assert levels == {"alice": "participant", "bob": "participant", "carol": "lurker"}
    assert members("level=lurker") == [("carol", 0)]
    assert members("sort=level_rank&desc=0")[0] == ("carol", 0)
    assert api.get(f"/api/v1/groups/{a}/members?level=king").status_code == 400
    assert api.get(f"/api/v1/groups/{a}/members?sort=nope").status_code == 400
    table = _csv(api.get(f"/api/v1/groups/{a}/members?format=csv").text)
    assert table[0][:3] == ["community_id", "account_id", "person_id"]
    assert "since_day" in table[0]
    assert sorted(r[table[0].index("display_name")] for r in table[1:]) == [
        "alice", "bob", "carol",
    ]  # fmt: skip
    daily = _csv(api.get(f"/api/v1/groups/{a}/daily?format=csv").text)
    assert daily[0][:4] == ["community_id", "name", "day", "date"]
    assert len(daily) > 1
    assert api.get(f"/api/v1/groups/{a}/nope").status_code == 404
    assert api.get("/api/v1/groups/999/daily").status_code == 404
    web = signed_in(app, make_user(store.engine, "admin"))
    page = web.get(f"/groups/{a}?sort=display_name&desc=0&name=a")
    assert page.text.index(">alice</a>") < page.text.index(">carol</a>")
    assert ">bob</a>" not in page.text.split('id="members"')[1]


def test_chinese_and_english(groups):
    store, app, a, _b = groups
    zh = signed_in(app, make_user(store.engine, "admin", lang="zh"))
    assert "社群总览" in zh.get("/").text
    page = zh.get(f"/groups/{a}").text
    assert "入群周队列留存" in page and "成员列表" in page and "参与者" in page
    en = signed_in(app, make_user(store.engine, "admin", lang="en"))
    assert "Groups overview" in en.get("/").text
    assert "Join cohorts" in en.get(f"/groups/{a}").text


def test_no_snapshot_yet(store):
    a, _b = _build(store)
    app = make_app(store.engine)
    web = signed_in(app, make_user(store.engine, "admin"))
    for url in ("/", f"/groups/{a}"):
        page = web.get(url)
        assert page.status_code == 200
        assert "No insights yet" in page.text
    api = token_client(app, make_user(store.engine, "operator"))
    assert api.get("/api/v1/groups").json()["total"] == 0
    assert api.get("/api/v1/program").json()["groups"] == 0
    assert api.get(f"/api/v1/groups/{a}").json()["summary"] is None
    assert api.get(f"/api/v1/groups/{a}/members").json()["rows"] == []
    # a refresh made while the app runs is picked up by the next request
    refresh_snapshot(store.engine)
    assert api.get("/api/v1/groups").json()["total"] == 2


def test_signed_out_and_viewer_writes(groups):
    store, app, a, _b = groups
    from fastapi.testclient import TestClient

    anonymous = TestClient(app)
    assert anonymous.get("/", follow_redirects=False).status_code == 303
    assert anonymous.get("/api/v1/groups").status_code == 401
    assert anonymous.get(f"/api/v1/groups/{a}/members").status_code == 401
    viewer = signed_in(app, make_user(store.engine, "viewer"))
    assert viewer.get(f"/groups/{a}").status_code == 200
    # these pages only read: no route takes a write, from any role
    assert viewer.form(f"/groups/{a}").status_code == 405


# -- funnel, KOLs, connections and theme fit ------------------------------------------------


def _label(engine, group: int, pmid: str, **values) -> None:
    """The `message_label` row `text.enrich` would write for message `pmid` (set by hand so
    the numbers below do not depend on the text rules)."""
    from sqlalchemy import select

    from shequn.store import schema as t

    with engine.begin() as c:
        m = t.message.c
        mid = c.execute(
            select(m.id).where((m.community_id == group) & (m.platform_msg_id == pmid))
        ).scalar_one()
        c.execute(t.message_label.insert().values(message_id=mid, community_id=group, **values))


def _build_talk(s: StoreBuilder) -> dict[str, int]:
    """跑步群 (theme 跑步训练, keywords 跑步/配速), 2–11 March 2026 (UTC); 读书群 without a theme.

    跑步群, week of 2 March: alice on theme (0.8); bob replies to her; carol asks (a question);
    bob answers her; carol a QR code, alice an ad, alice a defect report; the admin's message is
    not a member's → 7 member messages, 1 on theme, 2 off topic (ad and qr_code tie: ad first).
    Week of 9 March: alice, 10 plain messages and one gossip over 9–11 March → 11, 0 on theme,
    1 off topic: flagged (11 ≥ 10 messages, 0 < 0.3 × 11).
    Funnel: alice, bob (joined 2 March, invited by alice), carol present → all spoke → replied
    to: alice and carol (not bob) → active (≥ 4 days): alice (6 days) → paid: alice → feedback:
    alice → invited someone: alice = 3, 3, 2, 1, 1, 1, 1.
    Connections: 18 member messages, 2 member-to-member replies (0.1111), 1 question first
    answered by a member, 1 invitation by 1 inviter.
    KOLs: edges bob→alice, bob→carol; alice and carol tie on PageRank (central 1), bob lowest
    (0); expertise ln(1 + on-theme + 2 × answers) / ln 3: alice ln 2 / ln 3, bob 1, carol 0;
    no shares → alice 0.5 + 0.3 × 0.6309 = 0.6893, carol 0.5, bob 0.3.
    """
    from sqlalchemy import update

    from shequn.store import schema as t

    a, b = s.group("跑步群"), s.group("读书群")
    with s.engine.begin() as c:
        c.execute(
            update(t.community)
            .where(t.community.c.id == a)
            .values(theme="跑步训练", keywords='["跑步", "配速"]')
        )
    alice, bob, carol, op = (s.person(n) for n in ("alice", "bob", "carol", "op"))
    dave = s.person("dave")
    s.member(a, alice)
    s.member(a, carol)
    s.member(a, bob, joined=at("2026-03-02 08:00"), inviter=alice)
    s.member(a, op, role="admin")
    s.member(b, dave)
    s.attributes(s.person_of(alice), payments=99.0)
    m1 = s.say(a, alice, at("2026-03-02 10:00"), "今天跑步配速五分")
    s.say(a, bob, at("2026-03-02 10:05"), "好快", reply_to=m1)
    q = s.say(a, carol, at("2026-03-02 10:10"), "怎么报名？")
    s.say(a, bob, at("2026-03-02 10:15"), "看群公告", reply_to=q)
    qr = s.say(a, carol, at("2026-03-03 09:00"), "扫码领奖")
    ad = s.say(a, alice, at("2026-03-03 09:05"), "加我买鞋")
    s.say(a, op, at("2026-03-03 09:10"), "请勿发广告")
    bug = s.say(a, alice, at("2026-03-04 09:00"), "打开就闪退了")
    gossip = s.say(a, alice, at("2026-03-09 09:00"), "听说明星离婚了")
    for i in range(10):
        s.say(a, alice, at(f"2026-03-{9 + i % 3:02d} 1{i}:00"), f"聊天 {i}")
    s.say(b, dave, at("2026-03-05 12:00"), "hello")
    s.say(b, dave, at("2026-03-05 12:30"), "读完了")
    e = s.engine
    _label(e, a, m1, theme_score=0.8)
    _label(e, a, q, is_question=True)
    _label(e, a, qr, offtopic="qr_code")
    _label(e, a, ad, offtopic="ad")
    _label(e, a, bug, feedback="defect", feedback_confidence=0.9)
    _label(e, a, gossip, offtopic="gossip")
    people = {n: s.person_of(x) for n, x in (("alice", alice), ("bob", bob), ("carol", carol))}
    return {"a": a, "b": b, **people}


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """One refreshed store and app for the tests below (they only read)."""
    from shequn.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('talk') / 'store.db'}")
    upgrade(engine)
    ids = _build_talk(StoreBuilder(engine))
    refresh_snapshot(engine)
    yield engine, make_app(engine), ids
    engine.dispose()


W1, W2 = (20514 + 3) // 7, (20521 + 3) // 7  # the weeks of Monday 2 and Monday 9 March 2026


def test_new_tables_by_hand(talk):
    engine, app, ids = talk
    api = token_client(app, make_user(engine, "operator"))
    a = ids["a"]

    def table(name: str, *columns: str) -> list[tuple]:
        response = api.get(f"/api/v1/groups/{a}/{name}")
        assert response.status_code == 200, response.text
        return [tuple(r[c] for c in columns) for r in response.json()["rows"]]

    assert table("funnel", "step_no", "step", "step_zh", "members", "conversion", "of_joined") == [
        (1, "joined", "加入", 3, 1.0, 1.0),
        (2, "spoke", "交流", 3, 1.0, 1.0),
        (3, "got_response", "产生好感", 2, 0.6667, 0.6667),
        (4, "active", "活跃", 1, 0.5, 0.3333),
        (5, "paid", "付费", 1, 1.0, 0.3333),
        (6, "feedback", "反馈", 1, 1.0, 0.3333),
        (7, "invited", "拉人", 1, 1.0, 0.3333),
    ]
    assert table("kols", "rank", "person_id", "display_name", "score", "distinct_responders",
                 "answers", "on_theme_messages", "shares", "why") == [
        (1, ids["alice"], "alice", 0.6893, 1, 0, 1, 0,
         "1 members responded to them; 1 on-theme messages"),
        (2, ids["carol"], "carol", 0.5, 1, 0, 0, 0, "1 members responded to them"),
        (3, ids["bob"], "bob", 0.3, 0, 1, 0, 0, "answered 1 questions"),
    ]  # fmt: skip
    assert table("connections", "messages", "member_replies", "member_reply_share", "questions",
                 "answered_by_members", "answered_by_operators", "unanswered",
                 "member_answer_share", "invitations", "inviters") == [
        (18, 2, 0.1111, 1, 1, 0, 0, 1.0, 1, 1),
    ]  # fmt: skip
    assert table("theme_fit", "week", "week_start", "messages", "on_theme", "on_theme_share",
                 "off_topic", "off_topic_share", "top_off_topic", "theme_scored", "flagged",
                 "why") == [
        (W1, "2026-03-02", 7, 1, 0.1429, 2, 0.2857, "ad", True, False,
         "14% of this week's messages on theme (7 messages); 2 off-topic, mostly ads"),
        (W2, "2026-03-09", 11, 0, 0.0, 1, 0.0909, "gossip", True, True,
         "only 0% of this week's messages on theme (11 messages); 1 off-topic, mostly gossip"),
    ]  # fmt: skip
    detail = api.get(f"/api/v1/groups/{a}").json()
    assert detail["connections"]["member_replies"] == 2
    assert detail["group"]["keywords"] == ["跑步", "配速"]
    # the other group: not scored against a theme, so nothing is flagged
    other = api.get(f"/api/v1/groups/{ids['b']}/theme_fit").json()["rows"]
    assert [(r["messages"], r["theme_scored"], r["flagged"]) for r in other] == [
        (2, False, False),
        (0, False, False),
    ]


def test_new_tables_as_csv(talk):
    engine, app, ids = talk
    api = token_client(app, make_user(engine, "admin"))
    a = ids["a"]
    for name, lines, first in (("funnel", 7, "community_id"), ("kols", 3, "community_id"),
                               ("connections", 1, "community_id"), ("theme_fit", 2,
                                                                     "community_id")):  # fmt: skip
        response = api.get(f"/api/v1/groups/{a}/{name}?format=csv")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/csv")
        rows = _csv(response.text)
        assert rows[0][0] == first and "why" in rows[0], name
        assert len(rows) == 1 + lines, name
    funnel = _csv(api.get(f"/api/v1/groups/{a}/funnel?format=csv").text)
    step = funnel[0].index("members")
    assert [r[step] for r in funnel[1:]] == ["3", "3", "2", "1", "1", "1", "1"]
    theme = _csv(api.get(f"/api/v1/groups/{a}/theme_fit?format=csv").text)
    assert theme[2][theme[0].index("flagged")] == "True"


def test_group_page_shows_funnel_kols_connections_theme(talk):
    engine, app, ids = talk
    page = signed_in(app, make_user(engine, "viewer")).get(f"/groups/{ids['a']}").text
    funnel = page.split('id="funnel"')[1].split("</section>")[0]
    assert "Lifecycle funnel" in funnel and "chart-funnel" in funnel
    for label, members, conversion in (("1. Joined", "3", "100.0%"),
                                       ("3. Got a response", "2", "66.7%"),
                                       ("7. Invited someone", "1", "100.0%")):  # fmt: skip
        row = funnel.split(label)[1].split("</tr>")[0]
        assert f'<td class="num">{members}</td>' in row and conversion in row, label
    kols = page.split('id="kols"')[1].split("</section>")[0]
    order = [kols.index(f'href="/people/{ids[n]}">{n}</a>') for n in ("alice", "carol", "bob")]
    assert order == sorted(order)
    assert "1 members responded to them; 1 on-theme messages" in kols
    assert 'id="core"' in page  # beside the core users
    connections = page.split('id="connections"')[1].split("</section>")[0]
    assert "Member-to-member replies" in connections and "11.1%" in connections
    theme = page.split('id="theme-fit"')[1].split("</section>")[0]
    assert "跑步训练" in theme and '<span class="tag">配速</span>' in theme
    assert "chart-theme" in theme and "No theme or keywords" not in theme
    assert 'data-week="2026-03-09"' in theme and 'data-week="2026-03-02"' not in theme
    assert "only 0% of this week&#39;s messages on theme (11 messages)" in theme
    # the other group has no theme: said so
    other = signed_in(app, make_user(engine, "admin")).get(f"/groups/{ids['b']}").text
    assert "No theme or keywords set for this group" in other and "“读书群”" in other


def test_flagged_weeks_latest_first_and_capped():
    """Ten flagged weeks of twelve: the page lists the latest eight, newest first, and says how
    many there are (the CSV has them all)."""
    from shequn.web.pages_group import FLAGGED_SHOWN, _theme

    rows = [{"week_start": f"w{i:02d}", "on_theme_share": 0.1, "off_topic_share": 0.0,
             "flagged": i >= 2, "theme_scored": True} for i in range(12)]  # fmt: skip
    got = _theme(rows, "en")
    assert FLAGGED_SHOWN == 8
    latest = [f"w{i:02d}" for i in range(11, 3, -1)]
    assert [r["week_start"] for r in got["theme_flagged"]] == latest
    assert (got["theme_flagged_total"], got["theme_scored"]) == (10, True)
    assert got["theme_chart"]["series"][0]["data"] == [10.0] * 12


def test_group_page_in_chinese(talk):
    engine, app, ids = talk
    page = signed_in(app, make_user(engine, "admin", lang="zh")).get(f"/groups/{ids['a']}").text
    for part in ("成员生命周期漏斗", "3. 产生好感", "7. 拉人", "KOL 候选", "成员连接", "成员间回复",
                 "主题契合度", "切题过低的周", "1 位成员回应过 TA，主题相关发言 1 条",
                 "本周只有 0% 的消息切题（共 11 条），离题 1 条，多为闲聊"):  # fmt: skip
        assert part in page, part
    assert "Lifecycle funnel" not in page


def test_leader_reaches_only_their_groups_new_tables(talk):
    engine, app, ids = talk
    leader = make_user(engine, "leader", groups=[ids["a"]])
    api = token_client(app, leader)
    for name in ("funnel", "kols", "connections", "theme_fit"):
        assert api.get(f"/api/v1/groups/{ids['a']}/{name}").status_code == 200, name
        for query in ("", "?format=csv"):
            response = api.get(f"/api/v1/groups/{ids['b']}/{name}{query}")
            assert response.status_code == 403, (name, query)
            assert "读书" not in response.text and "dave" not in response.text
    page = signed_in(app, leader).get(f"/groups/{ids['a']}").text
    assert "dave" not in page
