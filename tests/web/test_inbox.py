"""The inbox page and /api/v1/tasks: lists, details, every action, access per role and route."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from analytics_builder import at
from shequn.ops.tasks import list_tasks, sync_tasks
from shequn.store import schema as t
from web_client import make_app, make_user, signed_in, token_client

HX = {"HX-Request": "true"}


@dataclass
class Source:
    """The two things the rules read from the insights: `until` and `rows()`."""

    until: date
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.tables

    def rows(self, name: str, **_: Any) -> list[dict[str, Any]]:
        return list(self.tables[name])


@dataclass
class Inbox:
    engine: Any
    app: Any
    a: int  # group "AI 交流群"
    b: int  # group "跑步群"
    tasks: dict[str, int]  # name -> task id
    people: dict[str, int]
    users: dict[str, Any]

    def client(self, name: str) -> Any:
        return signed_in(self.app, self.users[name])

    def api(self, name: str) -> TestClient:
        return token_client(self.app, self.users[name])


def _message_id(engine: Any, pmid: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(select(t.message.c.id).where(t.message.c.platform_msg_id == pmid)).scalar()
        )


def _label(engine: Any, pmid: str, **values: Any) -> int:
    mid = _message_id(engine, pmid)
    with engine.begin() as conn:
        cid = conn.execute(select(t.message.c.community_id).where(t.message.c.id == mid)).scalar()
        conn.execute(t.message_label.insert().values(message_id=mid, community_id=cid, **values))
    return mid


@pytest.fixture
def inbox(store) -> Inbox:
    """Newest data 2026-03-20. Group A: a newcomer, a waiting question, two voices of one
    feedback; group B: a newcomer and a waiting question."""
    a, b = store.group("AI 交流群"), store.group("跑步群")
    acc = {n: store.person(n) for n in ("张三", "李四", "孙八", "吴十", "赵六")}
    for name in ("李四", "孙八", "吴十"):
        store.member(a, acc[name], joined=at("2026-01-05 09:00"))
    store.member(a, acc["张三"], joined=at("2026-03-19 10:00"))
    store.member(b, acc["赵六"], joined=at("2026-03-19 11:00"))
    store.say(a, acc["孙八"], at("2026-03-20 08:55"), "早上好", msg_id="hello")
    store.say(a, acc["李四"], at("2026-03-20 09:00"), "怎么导出数据？", msg_id="qa")
    store.say(b, acc["赵六"], at("2026-03-20 07:00"), "周六几点集合？", msg_id="qb")
    store.say(a, acc["孙八"], at("2026-03-10 10:00"), "闪退了", msg_id="f1")
    store.say(a, acc["吴十"], at("2026-03-12 10:00"), "闪退了", msg_id="f2")
    engine = store.engine
    for pmid in ("f1", "f2"):
        _label(engine, pmid, feedback="defect", feedback_confidence=0.9)
    people = {n: store.person_of(aid) for n, aid in acc.items()}
    hello, qa, qb = (_message_id(engine, m) for m in ("hello", "qa", "qb"))
    context = [
        {"message_id": hello, "sent_at": "2026-03-20T08:55:00+00:00", "display_name": "孙八",
         "text": "早上好"},
        {"message_id": qa, "sent_at": "2026-03-20T09:00:00+00:00", "display_name": "李四",
         "text": "怎么导出数据？"},
    ]  # fmt: skip
    question = {"sent_at": at("2026-03-20 09:00")}
    source = Source(date(2026, 3, 20))
    source.tables["unanswered_questions"] = [
        question | {"message_id": qa, "community_id": a, "account_id": acc["李四"],
                    "person_id": people["李四"], "display_name": "李四",
                    "context": json.dumps(context, ensure_ascii=False)},
        question | {"message_id": qb, "community_id": b, "account_id": acc["赵六"],
                    "person_id": people["赵六"], "display_name": "赵六", "context": "[]"},
    ]  # fmt: skip
    assert sync_tasks(engine, source)["created"] == 5
    made = {(v.kind, v.community_id): v.id for v in list_tasks(engine, groups=None)}
    tasks = {
        "welcome_a": made["welcome", a],
        "welcome_b": made["welcome", b],
        "answer_a": made["answer", a],
        "answer_b": made["answer", b],
        "feedback_a": made["feedback", a],
    }
    users = {
        "admin": make_user(engine, "admin", username="admin"),
        "operator": make_user(engine, "operator", username="op"),
        "leader": make_user(engine, "leader", groups=[a], username="lead-a"),
        "leader2": make_user(engine, "leader", groups=[a], username="lead-a2"),
        "leader_b": make_user(engine, "leader", groups=[b], username="lead-b"),
        "viewer": make_user(engine, "viewer", username="view"),
        "zh": make_user(engine, "operator", username="zh-op", lang="zh"),
    }
    return Inbox(engine, make_app(engine), a, b, tasks, people, users)


def shown(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'id="task-(\d+)"', html)}


def status_of(inbox: Inbox, name: str) -> str:
    return inbox.api("admin").get(f"/api/v1/tasks/{inbox.tasks[name]}").json()["task"]["status"]


def test_each_role_sees_the_tasks_of_its_groups(inbox):
    everything = set(inbox.tasks.values())
    for role in ("admin", "operator", "viewer"):
        page = inbox.client(role).get("/inbox")
        assert page.status_code == 200 and shown(page.text) == everything, role
        assert "5 tasks" in page.text
    of_a = {inbox.tasks[n] for n in ("welcome_a", "answer_a", "feedback_a")}
    leader = inbox.client("leader").get("/inbox")
    assert shown(leader.text) == of_a and "跑步群" not in leader.text and "3 tasks" in leader.text
    api = inbox.api("leader").get("/api/v1/tasks").json()
    assert {x["id"] for x in api["tasks"]} == of_a and api["total"] == 3
    assert api["has_more"] is False and api["page"] == 1
    viewer = inbox.client("viewer").get("/inbox").text
    assert "data-action=" not in viewer and "Read-only account" in viewer
    assert 'data-action="done"' in inbox.client("operator").get("/inbox").text


def test_titles_groups_and_member_links_in_both_languages(inbox):
    zh = inbox.client("zh").get("/inbox").text
    assert "欢迎新成员 张三（AI 交流群）" in zh and "回答 李四 的提问（AI 交流群）" in zh
    assert "反馈·缺陷：「闪退了」2 条（AI 交流群）" in zh and "待处理" in zh
    en = inbox.client("operator").get("/inbox").text
    assert (
        "Welcome new member 张三 (AI 交流群)" in en and "Answer 赵六&#39;s question (跑步群)" in en
    )
    assert f'href="/people/{inbox.people["张三"]}"' in en


def test_filters_kind_status_group_mine_and_pages(inbox):
    api = inbox.api("admin")
    answers = api.get("/api/v1/tasks?kind=answer").json()["tasks"]
    assert {x["id"] for x in answers} == {inbox.tasks["answer_a"], inbox.tasks["answer_b"]}
    of_b = api.get(f"/api/v1/tasks?group={inbox.b}").json()["tasks"]
    assert {x["id"] for x in of_b} == {inbox.tasks["welcome_b"], inbox.tasks["answer_b"]}
    assert api.get("/api/v1/tasks?status=done").json()["tasks"] == []
    api.post(f"/api/v1/tasks/{inbox.tasks['answer_b']}/done")
    done = api.get("/api/v1/tasks?status=done").json()["tasks"]
    assert [x["id"] for x in done] == [inbox.tasks["answer_b"]]
    assert len(api.get("/api/v1/tasks?status=all").json()["tasks"]) == 5
    admin = inbox.users["admin"]
    api.post(f"/api/v1/tasks/{inbox.tasks['welcome_a']}/assign", json={"assignee_id": admin.id})
    mine = api.get("/api/v1/tasks?mine=true").json()
    assert [x["id"] for x in mine["tasks"]] == [inbox.tasks["welcome_a"]] and mine["total"] is None
    page = inbox.client("admin").get("/inbox?mine=1&kind=welcome")
    assert shown(page.text) == {inbox.tasks["welcome_a"]}
    assert api.get("/api/v1/tasks?page=2").json() == {
        "tasks": [],
        "page": 2,
        "has_more": False,
        "total": 4,
    }
    bad = api.get("/api/v1/tasks?kind=party")
    assert bad.status_code == 400 and "kind" in bad.json()["message"]
    assert inbox.client("admin").get("/inbox?status=closed").status_code == 400


def test_every_action_from_the_page(inbox):
    client, tid = inbox.client("operator"), inbox.tasks["welcome_a"]
    done = client.post(f"/inbox/{tid}/done", data={"csrf_token": client.csrf}, headers=HX)
    assert done.status_code == 200 and f'id="task-{tid}" data-status="done"' in done.text
    assert done.text.lstrip().startswith("<article")  # only the row, to swap in
    reopened = client.post(f"/inbox/{tid}/reopen", data={"csrf_token": client.csrf}, headers=HX)
    assert 'data-status="open"' in reopened.text
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    snoozed = client.post(
        f"/inbox/{tid}/snooze", data={"csrf_token": client.csrf, "until": tomorrow}, headers=HX
    )
    assert 'data-status="snoozed"' in snoozed.text and "until" in snoozed.text
    past = client.post(
        f"/inbox/{tid}/snooze", data={"csrf_token": client.csrf, "until": "2020-01-01"}, headers=HX
    )
    assert past.status_code == 200 and 'role="alert"' in past.text and "until" in past.text
    plain = client.form(f"/inbox/{tid}/snooze", {"until": "2020-01-01"})
    assert plain.status_code == 400
    op = inbox.users["operator"]
    mine = client.form(f"/inbox/{tid}/assign", {"assignee_id": op.id}, headers=HX)
    assert '<span class="task-assignee">op</span>' in mine.text
    gone = client.form(f"/inbox/{tid}/assign", {}, headers=HX)
    assert '<span class="task-assignee">unassigned</span>' in gone.text
    noted = client.form(f"/inbox/{tid}/note", {"note": "打过招呼了"}, headers=HX)
    assert noted.status_code == 200
    dismissed = client.form(f"/inbox/{tid}/dismiss", {"next": "/inbox?kind=welcome"},
                            follow_redirects=False)  # fmt: skip
    assert dismissed.status_code == 303 and dismissed.headers["location"] == "/inbox?kind=welcome"
    history = client.get(f"/inbox/{tid}/detail").text
    actions = re.findall(r"<td>(created|done|reopened|snoozed|assigned|note|dismissed)</td>",
                         history)  # fmt: skip
    assert actions == [
        "created", "done", "reopened", "snoozed", "assigned", "assigned", "note", "dismissed"
    ]  # fmt: skip
    assert "打过招呼了" in history and "the data (sync)" in history
    assert status_of(inbox, "welcome_a") == "dismissed"


def test_every_action_through_the_api(inbox):
    api, tid = inbox.api("operator"), inbox.tasks["answer_a"]
    url = f"/api/v1/tasks/{tid}"
    assert api.post(f"{url}/done").json()["status"] == "done"
    assert api.post(f"{url}/reopen").json()["status"] == "open"
    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    snoozed = api.post(f"{url}/snooze", json={"until": until.isoformat()}).json()
    assert snoozed["status"] == "snoozed"
    assert datetime.fromisoformat(snoozed["snoozed_until"]) == until
    missing = api.post(f"{url}/snooze", json={})
    assert missing.status_code == 400 and "'until'" in missing.json()["message"]
    assert api.post(f"{url}/dismiss").json()["status"] == "dismissed"
    leader = inbox.users["leader"]
    given = api.post(f"{url}/assign", json={"assignee_id": leader.id}).json()
    assert (given["assignee_id"], given["assignee_name"]) == (leader.id, "lead-a")
    assert api.post(f"{url}/note", json={"note": "问过产品了"}).status_code == 200
    assert api.post(f"{url}/note", json={}).status_code == 400
    assert api.post(f"{url}/read").status_code == 200
    assert api.post(f"{url}/explode").status_code == 400
    assert api.post("/api/v1/tasks/99999/done").status_code == 404
    detail = api.get(url).json()
    assert [e["action"] for e in detail["history"]] == [
        "created", "done", "reopened", "snoozed", "dismissed", "assigned", "note", "read"
    ]  # fmt: skip
    assert detail["history"][0]["user_name"] is None
    assert detail["history"][-1]["user_name"] == "op"


def test_answer_task_shows_the_question_in_its_conversation(inbox):
    detail = inbox.client("operator").get(f"/inbox/{inbox.tasks['answer_a']}/detail").text
    assert re.search(r"早上好.*怎么导出数据？", detail, re.S)
    assert re.search(
        r'class="hit question">[^<]*<span[^>]*>[^<]*李四</span> 怎么导出数据？', detail
    )
    api = inbox.api("operator").get(f"/api/v1/tasks/{inbox.tasks['answer_a']}").json()
    assert [(x["text"], x["is_question"]) for x in api["conversation"]] == [
        ("早上好", False),
        ("怎么导出数据？", True),
    ]
    # no context in the task and no snapshot: the question alone
    only = inbox.client("operator").get(f"/inbox/{inbox.tasks['answer_b']}").text
    assert 'class="hit question"' in only and "周六几点集合？" in only


def test_feedback_task_shows_voices_people_and_counts_as_read(inbox):
    tid = inbox.tasks["feedback_a"]
    operator = inbox.client("operator")
    page = operator.get(f"/inbox/{tid}")
    assert "2 voices from 2 people" in page.text
    assert page.text.count("闪退了") >= 3  # the title and both voices
    for name in ("孙八", "吴十"):
        assert f'href="/people/{inbox.people[name]}"' in page.text
    operator.get(f"/inbox/{tid}/detail")  # opened again the same month: one read
    inbox.client("viewer").get(f"/inbox/{tid}")  # viewers' reads are not recorded
    inbox.api("admin").get(f"/api/v1/tasks/{tid}")  # nor a script fetching it
    month = f"{datetime.now(UTC):%Y-%m}"
    reads = inbox.api("viewer").get(f"/api/v1/tasks/feedback-read?month={month}").json()
    assert reads["month"] == month
    counts = {u["username"]: u["read"] for u in reads["users"]}
    assert counts == {
        "op": 1, "admin": 0, "lead-a": 0, "lead-a2": 0, "lead-b": 0, "view": 0, "zh-op": 0
    }  # fmt: skip
    assert reads["users"][0]["goal"] == 1000 and reads["users"][0]["share"] == 0.001
    events = inbox.api("admin").get(f"/api/v1/tasks/{tid}").json()["history"]
    assert [e["action"] for e in events] == ["created", "read"]
    before = inbox.api("admin").get("/api/v1/tasks/feedback-read?month=2020-01").json()
    assert all(u["read"] == 0 for u in before["users"])
    assert inbox.api("admin").get("/api/v1/tasks/feedback-read?month=jan").status_code == 400
    board = inbox.client("operator").get("/inbox").text
    assert re.search(r'id="feedback-reads".*<td>op</td><td class="num">1</td>', board, re.S)


def test_leader_is_kept_to_their_groups_on_every_route(inbox):
    client, api = inbox.client("leader"), inbox.api("leader")
    for name in ("welcome_b", "answer_b"):
        tid = inbox.tasks[name]
        assert client.get(f"/inbox/{tid}").status_code == 403
        assert client.get(f"/inbox/{tid}/detail").status_code == 403
        for action in ("done", "dismiss", "reopen", "note", "read"):
            assert client.form(f"/inbox/{tid}/{action}", {"note": "x"}).status_code == 403
            assert api.post(f"/api/v1/tasks/{tid}/{action}", json={"note": "x"}).status_code == 403
        assert api.get(f"/api/v1/tasks/{tid}").status_code == 403
    assert client.get(f"/inbox?group={inbox.b}").status_code == 403
    assert api.get(f"/api/v1/tasks?group={inbox.b}").status_code == 403
    assert api.get(f"/api/v1/tasks?group={inbox.b}&format=csv").status_code == 403
    csv = client.get("/inbox?format=csv&status=all").text
    assert "跑步群" not in csv and csv.count("\n") == 4  # the header and A's three tasks
    assert status_of(inbox, "welcome_b") == "open" and status_of(inbox, "answer_b") == "open"
    own = inbox.tasks["welcome_a"]
    assert client.form(f"/inbox/{own}/done", follow_redirects=False).status_code == 303


def test_who_a_task_may_be_assigned_to(inbox):
    api, tid = inbox.api("leader"), inbox.tasks["welcome_a"]
    url = f"/api/v1/tasks/{tid}/assign"
    for name in ("leader", "leader2", "operator", "admin"):
        given = api.post(url, json={"assignee_id": inbox.users[name].id})
        assert given.status_code == 200 and given.json()["assignee_id"] == inbox.users[name].id
    for name in ("leader_b", "viewer"):
        assert api.post(url, json={"assignee_id": inbox.users[name].id}).status_code == 403
    assert api.post(url, json={"assignee_id": None}).json()["assignee_id"] is None
    choices = api.get(f"/api/v1/tasks/{tid}").json()["assignees"]
    assert sorted(c["name"] for c in choices) == ["admin", "lead-a", "lead-a2", "op", "zh-op"]
    of_b = inbox.api("admin").get(f"/api/v1/tasks/{inbox.tasks['welcome_b']}").json()
    assert sorted(c["name"] for c in of_b["assignees"]) == ["admin", "lead-b", "op", "zh-op"]


def test_viewers_read_but_cannot_act(inbox):
    client, api, tid = inbox.client("viewer"), inbox.api("viewer"), inbox.tasks["welcome_a"]
    assert client.get(f"/inbox/{tid}").status_code == 200
    assert client.form(f"/inbox/{tid}/done", headers=HX).status_code == 403
    assert client.form(f"/inbox/{tid}/done").status_code == 403
    assert api.post(f"/api/v1/tasks/{tid}/done").status_code == 403
    assert api.get("/api/v1/tasks").status_code == 200
    assert status_of(inbox, "welcome_a") == "open"


def test_actions_need_the_csrf_token(inbox):
    client, tid = inbox.client("admin"), inbox.tasks["welcome_a"]
    assert client.post(f"/inbox/{tid}/done", data={}).status_code == 403
    assert client.post(f"/inbox/{tid}/done", data={"csrf_token": "forged"}).status_code == 403
    assert client.post(f"/inbox/{tid}/done", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert status_of(inbox, "welcome_a") == "open"
    sent = client.post(f"/inbox/{tid}/done", headers={**HX, "X-CSRF-Token": client.csrf})
    assert sent.status_code == 200 and status_of(inbox, "welcome_a") == "done"


def test_csv_exports_the_task_list(inbox):
    csv = inbox.client("admin").get("/inbox?format=csv&kind=answer")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.lstrip("\ufeff").splitlines()
    assert lines[0] == (
        "id,kind,title,group,community_id,person_id,status,assignee,created_at,snoozed_until,"
        "closed_at"
    )
    assert sorted(line.split(",")[2] for line in lines[1:]) == [
        "Answer 李四's question (AI 交流群)",
        "Answer 赵六's question (跑步群)",
    ]
    api_csv = inbox.api("zh").get("/api/v1/tasks?format=csv&kind=welcome").text
    assert "欢迎新成员 张三（AI 交流群）" in api_csv


def test_signed_out_and_unknown_tasks(inbox):
    plain = TestClient(inbox.app)
    assert plain.get("/inbox", follow_redirects=False).status_code == 303
    assert plain.get("/api/v1/tasks").status_code == 401
    assert plain.post("/api/v1/tasks/1/done").status_code in (401, 403)
    assert inbox.client("admin").get("/inbox/99999").status_code == 404
    assert inbox.api("admin").get("/api/v1/tasks/99999").status_code == 404
