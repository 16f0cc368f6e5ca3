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
    for part in ("chart-daily", "chart-heatmap", "chart-levels", "cohorts", "funnel",
                 "No funnel metric yet", "Not yet (no such metric yet)",
                 "No KOL metric in the snapshot yet"):  # fmt: skip
        assert part in text, part
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
