"""The archive (search) page and /api/v1/search: Chinese words, filters, context, paging, access."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest

from analytics_builder import StoreBuilder
from shequn.store.db import make_engine, upgrade
from shequn.store.search import index_pending
from shequn.web.views_search import SearchQuery, highlight, search_messages
from web_client import make_app, make_user, signed_in, token_client

from .test_people import build


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, int]]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('archive') / 'store.db'}")
    upgrade(engine)
    ids = build(StoreBuilder(engine))
    index_pending(engine, workers=0)
    yield engine, ids
    engine.dispose()


@pytest.fixture(scope="module")
def app(world: Any) -> Any:
    return make_app(world[0])


def _api(app: Any, world: Any, role: str, groups: tuple[str, ...] = ()) -> Any:
    engine, ids = world
    return token_client(app, make_user(engine, role, groups=[ids[g] for g in groups]))


def _texts(body: dict[str, Any]) -> list[str]:
    return [h["text"] for h in body["hits"]]


def test_chinese_search_with_context(app: Any, world: Any) -> None:
    _, ids = world
    body = _api(app, world, "operator").get("/api/v1/search", params={"q": "社群运营"}).json()
    assert _texts(body) == ["社群运营在 Beta 也一样", "我们讨论一下社群运营的方法"]
    assert body["hits"][0]["highlights"] == ["社群运营"]
    older = body["hits"][1]
    assert (older["group"], older["sender"], older["person_id"]) == ("Alpha", "pat", ids["pat"])
    # two neighbours either side within the group: none before, two after
    assert [(c["text"], c["hit"]) for c in older["context"]] == [
        ("我们讨论一下社群运营的方法", True),
        ("weekly onboarding call tomorrow", False),
        ("thanks for the onboarding notes", False),
    ]
    assert body["has_more"] is False and body["page"] == 1


def test_words_inside_chinese_runs(app: Any, world: Any) -> None:
    api = _api(app, world, "admin")
    assert _texts(api.get("/api/v1/search", params={"q": "运营"}).json()) == [
        "社群运营在 Beta 也一样",
        "我们讨论一下社群运营的方法",
    ]
    assert _texts(api.get("/api/v1/search", params={"q": "Onboarding"}).json()) == [
        "thanks for the onboarding notes",
        "weekly onboarding call tomorrow",
    ]
    assert _texts(api.get("/api/v1/search", params={"q": "没有的词"}).json()) == []


def test_filters(app: Any, world: Any) -> None:
    _, ids = world
    api = _api(app, world, "operator")

    def texts(**params: Any) -> list[str]:
        return _texts(api.get("/api/v1/search", params=params).json())

    assert texts(q="社群运营", group=ids["B"]) == ["社群运营在 Beta 也一样"]
    assert texts(q="onboarding", member=ids["pat"]) == ["thanks for the onboarding notes"]
    assert texts(q="onboarding", member="rae") == ["weekly onboarding call tomorrow"]
    assert texts(q="社群运营", until="2026-03-09") == ["我们讨论一下社群运营的方法"]
    assert texts(q="社群运营", since="2026-03-10") == ["社群运营在 Beta 也一样"]
    # no words, a member: their newest messages
    assert texts(member=ids["pat"]) == [
        "社群运营在 Beta 也一样",
        "thanks for the onboarding notes",
        "我们讨论一下社群运营的方法",
    ]
    assert api.get("/api/v1/search", params={"since": "March"}).status_code == 400
    assert api.get("/api/v1/search", params={"group": "Alpha"}).status_code == 400


def test_leader_search_covers_own_groups(app: Any, world: Any) -> None:
    _, ids = world
    api = _api(app, world, "leader", ("A",))
    assert _texts(api.get("/api/v1/search", params={"q": "社群运营"}).json()) == [
        "我们讨论一下社群运营的方法"
    ]
    assert _texts(api.get("/api/v1/search", params={"member": ids["quinn"]}).json()) == []
    assert api.get("/api/v1/search", params={"q": "x", "group": ids["B"]}).status_code == 403
    leader = signed_in(app, make_user(world[0], "leader", groups=[ids["A"]]))
    html = leader.get("/search", params={"q": "社群运营"}).text
    assert "我们讨论一下" in html and "Beta" not in html
    assert leader.get("/search", params={"q": "社群", "group": ids["B"]}).status_code == 403
    exported = leader.get("/api/v1/search", params={"q": "社群运营", "format": "csv"}).text
    assert [r["text"] for r in csv.DictReader(io.StringIO(exported))] == [
        "我们讨论一下社群运营的方法"
    ]


def test_page_renders_hits_in_context(app: Any, world: Any) -> None:
    client = signed_in(app, make_user(world[0], "viewer"))
    html = client.get("/search", params={"q": "社群运营"}).text
    assert "<mark>社群运营</mark>" in html
    assert 'class="hit"' in html and "weekly onboarding call tomorrow" in html
    assert client.get("/search").status_code == 200
    assert "Type some words" in client.get("/search").text


def test_chinese_interface(app: Any, world: Any) -> None:
    client = signed_in(app, make_user(world[0], "operator", lang="zh"))
    html = client.get("/search", params={"q": "没有的词"}).text
    assert "消息归档" in html and "没有找到消息" in html


def test_csv_export(app: Any, world: Any) -> None:
    got = _api(app, world, "operator").get(
        "/api/v1/search", params={"q": "社群运营", "format": "csv"}
    )
    assert got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [(r["group"], r["sender"], r["text"]) for r in rows] == [
        ("Beta", "pat_wx", "社群运营在 Beta 也一样"),
        ("Alpha", "pat", "我们讨论一下社群运营的方法"),
    ]
    assert rows[0]["sent_at"] == "2026-03-10T20:00:00+00:00"
    assert rows[1]["context"].splitlines()[1].endswith("rae: weekly onboarding call tomorrow")


def test_paging(world: Any) -> None:
    engine, ids = world
    first, more = search_messages(engine, SearchQuery(group_id=ids["A"], page_size=2))
    second, more2 = search_messages(engine, SearchQuery(group_id=ids["A"], page_size=2, page=2))
    assert [h.text for h in first] == [
        "thanks for the onboarding notes",
        "weekly onboarding call tomorrow",
    ]
    assert more is True
    assert [h.text for h in second] == ["我们讨论一下社群运营的方法"] and more2 is False
    nothing, _ = search_messages(engine, SearchQuery(q="社群", groups=frozenset()))
    assert nothing == []


def test_highlight() -> None:
    assert highlight("Onboarding 与社群运营", ["onboarding", "社群", "社群运营"]) == [
        ("Onboarding", True),
        (" 与", False),
        ("社群运营", True),
    ]


def test_search_on_each_backend(engine: Any) -> None:
    """The scoped search (index, group list, dates, member) on SQLite and on PostgreSQL."""
    ids = build(StoreBuilder(engine))
    index_pending(engine, workers=0)
    query = SearchQuery(q="社群运营", groups=frozenset({ids["A"]}))
    hits, _more = search_messages(engine, query)
    assert [(h.text, h.group) for h in hits] == [("我们讨论一下社群运营的方法", "Alpha")]
    assert [c["text"] for c in hits[0].context][1:] == [
        "weekly onboarding call tomorrow",
        "thanks for the onboarding notes",
    ]
    late = SearchQuery(q="onboarding", member=str(ids["pat"]), since=hits[0].sent_at.date())
    assert [h.text for h in search_messages(engine, late)[0]] == ["thanks for the onboarding notes"]
