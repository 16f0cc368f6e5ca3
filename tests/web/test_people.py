"""The member page, its API, and tags and notes: what each role sees and may change.

One store for the read-only tests (two groups A and B; pat is one person with a Telegram account
in A and a WeChat account in B; quinn is only in B; rae only in A), refreshed once. Tests that
write tags and notes build their own store.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from analytics_builder import StoreBuilder, at
from shequn.analytics.snapshot import refresh_snapshot
from shequn.errors import NotFound, PermissionDenied
from shequn.people_notes import add_note, add_tag, delete_note, edit_note, list_notes, list_tags
from shequn.store import schema as t
from shequn.store.db import make_engine, upgrade
from shequn.web.views_people import activity, person_scope
from web_client import make_app, make_user, signed_in, token_client


def build(b: StoreBuilder) -> dict[str, int]:
    """Groups A and B; pat (linked accounts in both), quinn (B only), rae (A only)."""
    ga, gb = b.group("Alpha"), b.group("Beta", platform="wechat")
    pat_tg = b.person("pat")
    pat_wx = b.person("pat_wx", platform="wechat")
    b.link(pat_tg, pat_wx)
    quinn, rae = b.person("quinn", platform="wechat"), b.person("rae")
    b.member(ga, pat_tg, joined=at("2026-03-02 08:00"), inviter=rae, source="invite")
    b.member(gb, pat_wx, joined=at("2026-03-02 09:00"), left=at("2026-03-20 09:00"))
    b.member(gb, quinn)
    b.member(ga, rae)
    with b.engine.begin() as c:
        c.execute(
            t.membership_event.insert().values(
                community_id=ga,
                account_id=pat_tg,
                action="join",
                at=at("2026-03-02 08:00"),
                actor_account_id=rae,
                source="invite",
            )
        )
    b.say(ga, pat_tg, at("2026-03-02 12:00"), "我们讨论一下社群运营的方法")
    b.say(ga, rae, at("2026-03-02 12:05"), "weekly onboarding call tomorrow")
    b.say(ga, pat_tg, at("2026-03-04 08:00"), "thanks for the onboarding notes")
    b.say(gb, pat_wx, at("2026-03-10 20:00"), "社群运营在 Beta 也一样")
    b.say(gb, quinn, at("2026-03-11 20:00"), "quinn says hello")
    b.attributes(b.person_of(pat_tg), payments=399.0, orders=2)
    return {
        "A": ga,
        "B": gb,
        "pat": b.person_of(pat_tg),
        "pat_tg": pat_tg,
        "pat_wx": pat_wx,
        "quinn": b.person_of(quinn),
        "rae": b.person_of(rae),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, int]]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('people') / 'store.db'}")
    upgrade(engine)
    ids = build(StoreBuilder(engine))
    refresh_snapshot(engine)
    yield engine, ids
    engine.dispose()


@pytest.fixture(scope="module")
def app(world: tuple[Any, dict[str, int]]) -> Any:
    return make_app(world[0])


def _client(app: Any, world: Any, role: str, groups: tuple[str, ...] = (), lang: str = "en") -> Any:
    engine, ids = world
    user = make_user(engine, role, groups=[ids[g] for g in groups], lang=lang)
    return signed_in(app, user)


def test_admin_sees_both_groups(app: Any, world: Any) -> None:
    _, ids = world
    client = _client(app, world, "admin")
    page = client.get(f"/people/{ids['pat']}")
    assert page.status_code == 200
    html = page.text
    assert "Alpha" in html and "Beta" in html and "pat_wx" in html
    assert "Memberships" in html and "Level history" in html
    data = token_client(app, make_user(world[0], "operator")).get(f"/api/v1/people/{ids['pat']}")
    body = data.json()
    spells = [
        (m["group"], m["joined_at"], m["left_at"], m["left_reason"]) for m in body["memberships"]
    ]
    assert spells == [
        ("Alpha", "2026-03-02T08:00:00Z", None, None),
        ("Beta", "2026-03-02T09:00:00Z", "2026-03-20T09:00:00Z", "leave"),
    ]
    assert body["memberships"][0]["inviter"] == "rae"
    assert [(e["action"], e["actor"], e["source"]) for e in body["events"]] == [
        ("join", "rae", "invite")
    ]
    assert [(a["platform"], a["platform_id"]) for a in body["accounts"]] == [
        ("telegram", "pat"),
        ("wechat", "pat_wx"),
    ]
    weeks = [(w["week"], w["group"], w["messages"]) for w in body["activity"]]
    assert weeks == [("2026-03-02", "Alpha", 2), ("2026-03-09", "Beta", 1)]
    assert {r["community_id"] for r in body["level_changes"]} == {ids["A"], ids["B"]}
    assert all(r["why"] for r in body["level_changes"])
    assert body["product"]["payments"] == 399.0
    assert body["display_name"] == "pat"


def test_leader_sees_only_own_group(app: Any, world: Any) -> None:
    _, ids = world
    client = _client(app, world, "leader", ("A",))
    html = client.get(f"/people/{ids['pat']}").text
    assert "Alpha" in html
    assert "Beta" not in html and "pat_wx" not in html and "wechat" not in html
    body = client.get(f"/api/v1/people/{ids['pat']}").json()
    assert [m["group"] for m in body["memberships"]] == ["Alpha"]
    assert [a["platform_id"] for a in body["accounts"]] == ["pat"]
    assert [(w["week"], w["messages"]) for w in body["activity"]] == [("2026-03-02", 2)]
    assert {r["community_id"] for r in body["level_changes"]} == {ids["A"]}
    assert {r["community_id"] for r in body["stats"]} == {ids["A"]}
    assert body["core_overall"] == []  # program-wide: not one of the leader's groups
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/api/v1/people/{ids['pat']}?format=csv&table=memberships").text
            )
        )
    )
    assert [r["group"] for r in rows] == ["Alpha"]


def test_leader_refused_outsider(app: Any, world: Any) -> None:
    _, ids = world
    client = _client(app, world, "leader", ("A",))
    assert client.get(f"/people/{ids['quinn']}").status_code == 403
    assert client.get(f"/api/v1/people/{ids['quinn']}").status_code == 403
    assert client.get(f"/api/v1/people/{ids['quinn']}/notes").status_code == 403
    assert client.get(f"/api/v1/people/{ids['quinn']}/tags").status_code == 403
    other = _client(app, world, "leader", ("B",))
    assert other.get(f"/people/{ids['quinn']}").status_code == 200
    assert other.get(f"/people/{ids['rae']}").status_code == 403


def test_unknown_person_and_csv(app: Any, world: Any) -> None:
    _, ids = world
    client = _client(app, world, "viewer")
    assert client.get("/people/99999").status_code == 404
    assert client.get("/api/v1/people/99999").status_code == 404
    got = client.get(f"/api/v1/people/{ids['pat']}?format=csv&table=activity")
    assert got.headers["content-type"].startswith("text/csv")
    assert got.text.splitlines() == [
        "week,community_id,group,messages",
        f"2026-03-02,{ids['A']},Alpha,2",
        f"2026-03-09,{ids['B']},Beta,1",
    ]
    assert client.get(f"/api/v1/people/{ids['pat']}?format=csv&table=nope").status_code == 400


def test_viewer_reads_but_cannot_write(app: Any, world: Any) -> None:
    _, ids = world
    client = _client(app, world, "viewer")
    html = client.get(f"/people/{ids['pat']}").text
    assert 'name="tag"' not in html and 'name="text"' not in html
    assert client.form(f"/people/{ids['pat']}/tags", {"tag": "x"}).status_code == 403
    assert client.form(f"/people/{ids['pat']}/notes", {"text": "x"}).status_code == 403
    api = token_client(app, make_user(world[0], "viewer"))
    assert api.post(f"/api/v1/people/{ids['pat']}/tags", json={"tag": "x"}).status_code == 403


def test_chinese_interface(app: Any, world: Any) -> None:
    _, ids = world
    client = _client(app, world, "admin", lang="zh")
    html = client.get(f"/people/{ids['pat']}").text
    assert "入群与退群" in html and "等级变化" in html and "私人备注" in html


@pytest.fixture
def fresh(store: StoreBuilder) -> tuple[Any, dict[str, int]]:
    return store.engine, build(store)


def test_empty_snapshot(fresh: Any) -> None:
    engine, ids = fresh
    client = signed_in(make_app(engine), make_user(engine, "operator"))
    html = client.get(f"/people/{ids['pat']}").text
    assert "No insights yet" in html and "Alpha" in html
    assert client.get(f"/api/v1/people/{ids['pat']}").json()["level_changes"] == []


def test_tags_with_csrf_and_htmx(fresh: Any) -> None:
    engine, ids = fresh
    app = make_app(engine)
    client = signed_in(app, make_user(engine, "operator"))
    url = f"/people/{ids['pat']}/tags"
    assert client.post(url, data={"tag": "vip"}).status_code == 403  # no CSRF token
    done = client.form(url, {"tag": "  vip  "}, follow_redirects=False)
    assert done.status_code == 303
    part = client.post(
        url, data={"tag": "种子用户"}, headers={"HX-Request": "true", "X-CSRF-Token": client.csrf}
    )
    assert part.status_code == 200 and part.text.lstrip().startswith(
        '<section class="card" id="tags">'
    )
    assert "种子用户" in part.text and "vip" in part.text
    assert [tg.tag for tg in list_tags(engine, ids["pat"])] == ["vip", "种子用户"]
    client.form(f"{url}/remove", {"tag": "vip"})
    assert [tg.tag for tg in list_tags(engine, ids["pat"])] == ["种子用户"]
    assert client.form(f"{url}/remove", {"tag": "vip"}).status_code == 404


def test_notes_add_edit_delete(fresh: Any) -> None:
    engine, ids = fresh
    app = make_app(engine)
    writer_user = make_user(engine, "operator")
    writer = signed_in(app, writer_user)
    base = f"/people/{ids['pat']}/notes"
    assert writer.post(base, data={"text": "no token"}).status_code == 403
    writer.form(base, {"text": "问过退群原因：太忙"})
    (note,) = list_notes(engine, ids["pat"])
    assert (note.text, note.user_id, note.updated_at) == (
        "问过退群原因：太忙",
        writer_user.id,
        None,
    )
    assert "问过退群原因：太忙" in writer.get(f"/people/{ids['pat']}").text
    other = signed_in(app, make_user(engine, "operator"))
    assert other.form(f"{base}/{note.id}", {"text": "changed"}).status_code == 403
    assert other.form(f"{base}/{note.id}/delete").status_code == 403
    writer.form(f"{base}/{note.id}", {"text": "太忙，下月回来"})
    (edited,) = list_notes(engine, ids["pat"])
    assert edited.text == "太忙，下月回来" and edited.updated_at is not None
    admin = signed_in(app, make_user(engine, "admin"))
    assert admin.form(f"{base}/{edited.id}/delete", follow_redirects=False).status_code == 303
    assert list_notes(engine, ids["pat"]) == []


def test_leader_writes_only_in_own_groups(fresh: Any) -> None:
    engine, ids = fresh
    app = make_app(engine)
    leader = signed_in(app, make_user(engine, "leader", groups=[ids["A"]]))
    assert leader.form(f"/people/{ids['quinn']}/tags", {"tag": "x"}).status_code == 403
    assert leader.form(f"/people/{ids['quinn']}/notes", {"text": "x"}).status_code == 403
    assert leader.form(f"/people/{ids['pat']}/tags", {"tag": "ok"}).status_code == 200
    assert [tg.tag for tg in list_tags(engine, ids["quinn"])] == []


def test_api_tags_and_notes(fresh: Any) -> None:
    engine, ids = fresh
    app = make_app(engine)
    api = token_client(app, make_user(engine, "operator"))
    base = f"/api/v1/people/{ids['pat']}"
    assert api.post(f"{base}/tags", json={"tag": "vip"}).status_code == 201
    assert [tg["tag"] for tg in api.get(f"{base}/tags").json()] == ["vip"]
    assert api.delete(f"{base}/tags/vip").status_code == 204
    assert api.get(f"{base}/tags").json() == []
    made = api.post(f"{base}/notes", json={"text": "first"})
    assert made.status_code == 201
    note_id = made.json()["id"]
    assert api.patch(f"{base}/notes/{note_id}", json={"text": "second"}).json()["text"] == "second"
    assert [n["text"] for n in api.get(f"{base}/notes").json()] == ["second"]
    assert api.delete(f"{base}/notes/{note_id}").status_code == 204
    assert api.get(f"{base}/notes").json() == []
    assert api.post(f"{base}/notes", json={"text": ""}).status_code == 422
    assert api.post("/api/v1/people/99999/notes", json={"text": "x"}).status_code == 404
    # the cookie session needs its CSRF header on the API too
    browser = signed_in(app, make_user(engine, "operator"))
    assert browser.post(f"{base}/tags", json={"tag": "x"}).status_code == 403
    ok = browser.post(f"{base}/tags", json={"tag": "x"}, headers={"X-CSRF-Token": browser.csrf})
    assert ok.status_code == 201


def test_notes_and_activity_on_each_backend(engine: Any) -> None:
    """people_notes and the weekly activity query on SQLite and on PostgreSQL."""
    ids = build(StoreBuilder(engine))
    admin = make_user(engine, "admin")
    assert add_tag(engine, person_id=ids["pat"], tag="vip", user_id=admin.id)
    assert not add_tag(engine, person_id=ids["pat"], tag="vip", user_id=admin.id)
    note = add_note(engine, person_id=ids["pat"], text="hello", user_id=admin.id)
    assert (
        edit_note(engine, person_id=ids["pat"], note_id=note.id, text="hi", user_id=admin.id).text
        == "hi"
    )
    with pytest.raises(PermissionDenied):
        delete_note(engine, person_id=ids["pat"], note_id=note.id, user_id=admin.id + 99)
    with pytest.raises(NotFound):
        delete_note(engine, person_id=ids["quinn"], note_id=note.id, user_id=admin.id)
    delete_note(engine, person_id=ids["pat"], note_id=note.id, user_id=admin.id)
    assert list_notes(engine, ids["pat"]) == []
    scope = person_scope(engine, admin, ids["pat"])
    weeks = [(r["week"], r["community_id"], r["messages"]) for r in activity(engine, scope)]
    assert weeks == [(date(2026, 3, 2), ids["A"], 2), (date(2026, 3, 9), ids["B"], 1)]
