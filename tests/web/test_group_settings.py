"""`GET/PUT /api/v1/groups/{id}/settings`: the same validation as `shequn group set`, a theme
re-scores synchronously, and who may read and write (everyone who sees the group reads; admins,
operators and leaders of the group write; viewers only read).

Runs on SQLite and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from analytics_builder import StoreBuilder, at
from shequn.store import schema as t
from shequn.text.enrich import enrich_pending
from web_client import make_app, make_user, signed_in, token_client


@pytest.fixture
def world(engine: Engine):
    """Groups run and read; run has 2 messages naming 跑步 (scored 0.0 against the name "run":
    two terms, no match) and one "ok" (too short: no score)."""
    s = StoreBuilder(engine)
    run, read = s.group("run"), s.group("read")
    ana = s.person("ana")
    s.say(run, ana, at("2026-03-02 10:00"), "今天跑步十公里，好累")
    s.say(run, ana, at("2026-03-02 10:01"), "周末一起跑步吗，西湖见")
    s.say(run, ana, at("2026-03-02 10:02"), "ok")
    s.say(read, ana, at("2026-03-02 10:03"), "这本小说太好看了")
    enrich_pending(engine)
    return make_app(engine), engine, run, read


def _scores(engine: Engine, group: int) -> list[float | None]:
    label = t.message_label.c
    with engine.connect() as c:
        query = (
            select(label.theme_score).where(label.community_id == group).order_by(label.message_id)
        )
        return list(c.execute(query).scalars())


def test_get_and_put(world):
    app, engine, run, _ = world
    client = signed_in(app, make_user(engine, "operator"))
    url = f"/api/v1/groups/{run}/settings"
    got = client.get(url).json()
    assert got["answer_window"] is None and got["effective_answer_window"] == 30
    assert (got["messages"], got["labelled"], got["keywords"]) == (3, 3, [])
    assert _scores(engine, run) == [0.0, 0.0, None]
    body = {"keywords": "跑步，西湖", "answer_window": 10, "kind": "interest"}
    r = client.put(url, json=body, headers={"X-CSRF-Token": client.csrf})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["changed"] == ["kind", "keywords", "answer_window"]  # a fixed order
    # the 2 messages naming 跑步 (the second also 西湖): 1.0/1.5 = 0.667 and 2.0/2.5 = 0.8
    assert out["rescored"] is True and out["rescored_messages"] == 2
    assert _scores(engine, run) == [0.667, 0.8, None]
    # [] clears the keywords: back to the name "run" alone, as before
    r = client.put(url, json={"keywords": []}, headers={"X-CSRF-Token": client.csrf})
    assert (r.json()["changed"], r.json()["settings"]["keywords"]) == (["keywords"], [])
    assert _scores(engine, run) == [0.0, 0.0, None]
    assert out["settings"]["keywords"] == ["跑步", "西湖"]
    assert client.get(url).json()["answer_window"] == 10
    cleared = client.put(url, json={"answer_window": None}, headers={"X-CSRF-Token": client.csrf})
    assert cleared.json()["settings"]["effective_answer_window"] == 30


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "club", "theme": "new"}, "kind"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"answer_window": 20000}, "answer_window"),
        ({"keywords": [" ", ""]}, "keywords"),
        ({"keywords": "跑步, " + "长" * 41}, "keywords"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(world, body, field):
    app, engine, run, _ = world
    api = token_client(app, make_user(engine, "admin"))
    r = api.put(f"/api/v1/groups/{run}/settings", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_input" and f"'{field}'" in r.text
    assert api.get(f"/api/v1/groups/{run}/settings").json()["theme"] is None


def test_who_may_read_and_write(world):
    app, engine, run, read = world
    leader = signed_in(app, make_user(engine, "leader", groups=[run]))
    viewer = signed_in(app, make_user(engine, "viewer"))
    theme = {"theme": "跑步"}
    for client, group, status in (
        (leader, run, 200),  # a leader sets their own group, as they work its inbox
        (leader, read, 403),
        (viewer, run, 403),
    ):
        url = f"/api/v1/groups/{group}/settings"
        r = client.put(url, json=theme, headers={"X-CSRF-Token": client.csrf})
        assert r.status_code == status, (group, r.text)
    assert viewer.get(f"/api/v1/groups/{run}/settings").status_code == 200
    assert leader.get(f"/api/v1/groups/{read}/settings").status_code == 403
    # a browser request without the CSRF token is refused
    assert leader.put(f"/api/v1/groups/{run}/settings", json=theme).status_code == 403
    assert (
        signed_in(app, make_user(engine, "admin")).get("/api/v1/groups/999/settings").status_code
        == 404
    )
