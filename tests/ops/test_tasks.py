"""The inbox: tasks derived from the insights, made once, closed by the data or the operator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from analytics_builder import StoreBuilder, at
from shequn.analytics.zones import day_number
from shequn.errors import InputError, NotFound
from shequn.ops.tasks import (
    act,
    count_tasks,
    describe,
    feedback_read_counts,
    get_task,
    list_tasks,
    open_counts,
    sync_tasks,
    task_history,
)
from shequn.store import schema as t

NONE = {"created": 0, "updated": 0, "resolved": 0, "reopened": 0}


@dataclass
class FakeInsights:
    """An in-memory source with the snapshot's `rows` contract (equality / IN filters)."""

    until: date
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.tables

    def rows(
        self,
        name,
        *,
        groups=None,
        where=None,
        order_by=None,
        desc=False,
        limit=None,
        offset=0,
        lang="en",
    ):
        out = []
        for row in self.tables[name]:
            ok = all(
                row[k] in v if isinstance(v, list) else row[k] == v
                for k, v in (where or {}).items()
            )
            if ok and (groups is None or row["community_id"] in groups):
                r = {k: v for k, v in row.items() if k not in ("why_zh", "why_en")}
                out.append(r | {"why": row.get(f"why_{lang}", "")})
        return out


def d(text: str) -> int:
    return day_number(date.fromisoformat(text))


@dataclass
class World:
    store: StoreBuilder
    source: FakeInsights
    ids: dict[str, int]

    def label(self, pmid: str, **values: Any) -> int:
        with self.store.engine.begin() as c:
            mid, cid = c.execute(
                select(t.message.c.id, t.message.c.community_id).where(
                    t.message.c.platform_msg_id == pmid
                )
            ).one()
            c.execute(t.message_label.insert().values(message_id=mid, community_id=cid, **values))
        return mid

    def user(self, name: str, *, disabled: bool = False) -> int:
        with self.store.engine.begin() as c:
            return c.execute(
                t.app_user.insert().values(
                    username=name,
                    display_name=name.title(),
                    password_hash="x",
                    role="operator",
                    disabled=disabled,
                )
            ).inserted_primary_key[0]

    def tasks(self, status=("open",)) -> set[tuple[str, str]]:
        return {
            (v.kind, v.key)
            for v in list_tasks(self.store.engine, groups=None, status=status, limit=500)
        }

    def task(self, kind: str, key: str):
        return next(
            v
            for v in list_tasks(
                self.store.engine,
                groups=None,
                status=("open", "snoozed", "done", "dismissed", "resolved"),
                kind=kind,
                limit=500,
            )
            if v.key == key
        )


def leaver(w: World, cid: int, name: str, left: str, **extra: Any) -> dict[str, Any]:
    aid = w.ids[name]
    return {
        "community_id": cid,
        "name": "AI 交流群",
        "account_id": aid,
        "person_id": w.store.person_of(aid),
        "display_name": name,
        "joined_day": d("2026-01-05"),
        "left_day": d(left),
        "left_reason": "leave",
        "days_in_group": d(left) - d("2026-01-05"),
        "messages_in_spell": 4,
        "last_active_day": d("2026-03-10"),
        "last_message_id": None,
        "inviter_account_id": None,
        "spell_id": 1,
        "why_en": "left on their own",
        "why_zh": "主动退出",
        **extra,
    }


def member_row(w: World, cid: int, name: str, **extra: Any) -> dict[str, Any]:
    aid = w.ids[name]
    return {
        "community_id": cid,
        "name": "?",
        "account_id": aid,
        "person_id": w.store.person_of(aid),
        "display_name": name,
        **extra,
    }


@pytest.fixture
def world(store: StoreBuilder) -> World:
    return build_world(store)


def build_world(store: StoreBuilder) -> World:
    """Newest data 2026-03-20. g1 AI 交流群, g2 跑步群; everything the seven kinds look at."""
    g1, g2 = store.group("AI 交流群"), store.group("跑步群")
    ids = {"g1": g1, "g2": g2}
    for name in [
        "张三",
        "李四",
        "王五",
        "钱七",
        "孙八",
        "周九",
        "吴十",
        "郑一",
        "冯二",
        "陈三",
        "群主",
    ]:
        ids[name] = store.person(name)
    ids["bot"] = store.person("bot", bot=True)
    store.member(g1, ids["李四"], joined=at("2026-01-05 09:00"))
    store.member(g1, ids["张三"], joined=at("2026-03-19 10:00"), source="link", inviter=ids["李四"])
    store.member(g1, ids["bot"], joined=at("2026-03-19 11:00"))
    store.member(g1, ids["群主"], joined=at("2026-03-19 12:00"), role="admin")
    store.member(g1, ids["周九"], joined=at("2026-03-17 23:59"))  # before the 3 days
    store.member(g1, ids["王五"], joined=at("2026-01-05 09:00"), left=at("2026-03-15 08:00"))
    store.member(g1, ids["钱七"], joined=at("2026-01-05 09:00"), left=at("2026-03-12 08:00"))
    store.member(g1, ids["钱七"], joined=at("2026-03-13 08:00"))  # came back
    w = World(store, FakeInsights(date(2026, 3, 20)), ids)
    for name in ["孙八", "周九", "吴十", "郑一", "冯二", "陈三"]:
        store.member(g1, ids[name], joined=at("2026-01-05 09:00"))
    # messages: two questions, off-topic posts, feedback
    store.say(g1, ids["李四"], at("2026-03-20 09:00"), "怎么导出数据？", msg_id="q1")
    store.say(g1, ids["孙八"], at("2026-03-19 09:00"), "有人知道配置吗？", msg_id="q2")
    store.say(g1, ids["李四"], at("2026-03-18 12:00"), "[红包]恭喜发财", msg_id="o1")
    store.say(g1, ids["李四"], at("2026-03-13 23:00"), "扫码领券", msg_id="o_old")
    for n, (who, when, text) in enumerate(
        [
            ("孙八", "2026-03-02 10:00", "闪退了"),
            ("周九", "2026-03-05 10:00", "又闪退了！！"),
            ("吴十", "2026-03-06 10:00", "闪退了"),
            ("郑一", "2026-03-07 10:00", "希望加个夜间模式"),
            ("冯二", "2026-02-10 10:00", "闪退了"),  # older than 30 days
        ]
    ):
        store.say(g1, ids[who], at(when), text, msg_id=f"f{n}")
    ids["q1"] = w.label("q1", is_question=True)
    ids["q2"] = w.label("q2", is_question=True)
    ids["o1"] = w.label("o1", offtopic="red_packet")
    ids["o_old"] = w.label("o_old", offtopic="qr_code")
    for n, lab in enumerate(["defect", "defect", "defect", "feature", "defect"]):
        ids[f"f{n}"] = w.label(f"f{n}", feedback=lab, feedback_confidence=0.9)
    question = {
        "community_id": g1,
        "account_id": ids["李四"],
        "display_name": "李四",
        "person_id": store.person_of(ids["李四"]),
        "sent_at": at("2026-03-20 09:00"),
        "context": json.dumps([{"message_id": ids["q1"], "text": "怎么导出数据？"}]),
    }
    w.source.tables = {
        "unanswered_questions": [
            question | {"message_id": ids["q1"]},
            question
            | {
                "message_id": ids["q2"],
                "account_id": ids["孙八"],
                "display_name": "孙八",
                "person_id": store.person_of(ids["孙八"]),
                "context": "[]",
                "sent_at": at("2026-03-19 09:00"),
            },
        ],
        "leavers": [
            leaver(w, g1, "王五", "2026-03-15"),
            leaver(w, g1, "钱七", "2026-03-12"),  # came back: no task
            leaver(w, g1, "吴十", "2026-03-06"),  # 15 days before the newest day: too old
        ],
        "slipping_members": [
            member_row(w, g1, "孙八", days_quiet=20),
            member_row(w, g1, "周九", days_quiet=15),
            member_row(w, g1, "吴十", days_quiet=90),  # gone too long: prune material
        ],
        "silent_members": [
            member_row(w, g1, "郑一", silent_in_last_session=True, days_since_last_message=8),
            member_row(w, g1, "冯二", silent_in_last_session=False, days_since_last_message=9),
        ],
        "prune_candidates": [
            member_row(w, g1, "陈三", month="2026-03", missed=3, opportunities=3),
            member_row(w, g1, "冯二", month="2026-03", missed=4, opportunities=4),
            member_row(w, g1, "吴十", month="2026-02", missed=4, opportunities=4),  # older
            member_row(w, g2, "周九", month="2026-02", missed=3, opportunities=4),
            member_row(w, g2, "李四", month="2026-01", missed=3, opportunities=4),  # too old
        ],
    }
    return w


def expected_keys(w: World) -> set[tuple[str, str]]:
    i, g1, g2 = w.ids, w.ids["g1"], w.ids["g2"]
    return {
        ("welcome", f"c{g1}:a{i['张三']}:20260319T100000"),
        ("follow_up", f"c{g1}:a{i['王五']}:2026-03-15"),
        ("answer", f"m{i['q1']}"),
        ("answer", f"m{i['q2']}"),
        ("offtopic", f"m{i['o1']}"),
        ("feedback", f"m{i['f0']}"),
        ("feedback", f"m{i['f3']}"),
        ("nudge", f"c{g1}:2026-W12"),
        ("prune", f"c{g1}:2026-03"),
        ("prune", f"c{g2}:2026-02"),
    }


def test_each_kind_is_made_once(world: World) -> None:
    engine = world.store.engine
    assert sync_tasks(engine, world.source) == NONE | {"created": 10}
    assert world.tasks() == expected_keys(world)
    assert sync_tasks(engine, world.source) == NONE
    assert world.tasks() == expected_keys(world)
    history = task_history(engine, world.task("answer", f"m{world.ids['q1']}").id)
    assert [(e.action, e.user_name) for e in history] == [("created", None)]


def test_details_say_who_what_and_when(world: World) -> None:
    sync_tasks(world.store.engine, world.source)
    i, g1 = world.ids, world.ids["g1"]
    welcome = world.task("welcome", f"c{g1}:a{i['张三']}:20260319T100000")
    assert (welcome.community_name, welcome.account_id, welcome.person_id) == (
        "AI 交流群",
        i["张三"],
        world.store.person_of(i["张三"]),
    )
    assert welcome.detail == {
        "name": "张三",
        "group": "AI 交流群",
        "joined_at": "2026-03-19T10:00:00+00:00",
        "join_source": "link",
        "inviter": "李四",
    }
    follow = world.task("follow_up", f"c{g1}:a{i['王五']}:2026-03-15")
    assert follow.detail == {
        "name": "王五",
        "group": "AI 交流群",
        "joined": "2026-01-05",
        "left": "2026-03-15",
        "left_reason": "leave",
        "days_in_group": 69,
        "messages": 4,
        "last_active": "2026-03-10",
        "last_message_id": None,
        "last_said": None,
        "why_en": "left on their own",
        "why_zh": "主动退出",
    }
    crash = world.task("feedback", f"m{i['f0']}")
    people = [world.store.person_of(i[n]) for n in ("孙八", "周九", "吴十")]
    assert crash.message_id == i["f0"]
    assert crash.detail == {
        "group": "AI 交流群",
        "text": "闪退了",
        "feedback": "defect",
        "labels": {"defect": 3},
        "voices": 3,
        "people_count": 3,
        "message_ids": [i["f0"], i["f1"], i["f2"]],
        "person_ids": sorted(people),
        "first_at": "2026-03-02T10:00:00+00:00",
        "last_at": "2026-03-06T10:00:00+00:00",
        "people": [
            {"person_id": p, "name": n}
            for p, n in sorted(
                zip(people, ("孙八", "周九", "吴十"), strict=True), key=lambda x: x[1]
            )
        ],
    }
    nudge = world.task("nudge", f"c{g1}:2026-W12")
    assert [(m["name"], m["reason"], m["days_quiet"]) for m in nudge.detail["members"]] == sorted(
        [("孙八", "slipping", 20), ("周九", "slipping", 15), ("郑一", "silent_in_session", 8)]
    )
    assert nudge.detail["count"] == 3
    prune = world.task("prune", f"c{g1}:2026-03")
    assert [(m["name"], m["missed"]) for m in prune.detail["members"]] == sorted(
        [("陈三", 3), ("冯二", 4)]
    )
    offtopic = world.task("offtopic", f"m{i['o1']}")
    assert offtopic.detail == {
        "name": "李四",
        "group": "AI 交流群",
        "reason": "red_packet",
        "sent_at": "2026-03-18T12:00:00+00:00",
        "text": "[红包]恭喜发财",
    }
    question = world.task("answer", f"m{i['q1']}")
    assert question.detail["text"] == "怎么导出数据？"
    assert question.detail["context"] == [{"message_id": i["q1"], "text": "怎么导出数据？"}]


def test_answered_question_closes_itself(world: World) -> None:
    engine = world.store.engine
    sync_tasks(engine, world.source)
    q1 = f"m{world.ids['q1']}"
    world.source.tables["unanswered_questions"].pop(0)  # someone answered it
    assert sync_tasks(engine, world.source) == NONE | {"resolved": 1}
    task = world.task("answer", q1)
    assert task.status == "resolved" and task.closed_at is not None
    assert [(e.action, e.user_id) for e in task_history(engine, task.id)] == [
        ("created", None),
        ("resolved", None),
    ]
    assert ("answer", q1) not in world.tasks()
    # an operator who reopens it disagrees with the data: the next sync leaves it open
    act(engine, task.id, user_id=world.user("alice"), action="reopen")
    assert sync_tasks(engine, world.source) == NONE
    assert world.task("answer", q1).status == "open"
    # a table the source lacks closes nothing: no data is not "answered"
    del world.source.tables["unanswered_questions"]
    assert sync_tasks(engine, world.source) == NONE
    assert ("answer", f"m{world.ids['q2']}") in world.tasks()


def test_situations_resolve_by_the_data(world: World) -> None:
    engine, i, g1 = world.store.engine, world.ids, world.ids["g1"]
    sync_tasks(engine, world.source)
    with engine.begin() as c:  # 张三 leaves, 王五 comes back, the red packet is deleted
        c.execute(
            update(t.membership)
            .where(t.membership.c.account_id == i["张三"])
            .values(left_at=at("2026-03-20 18:00"), left_reason="leave")
        )
        c.execute(t.message.update().where(t.message.c.id == i["o1"]).values(deleted=True))
    world.store.member(g1, i["王五"], joined=at("2026-03-20 10:00"))
    world.source.tables["slipping_members"] = []
    world.source.tables["silent_members"] = []
    # 王五 is welcomed back
    assert sync_tasks(engine, world.source) == NONE | {"created": 1, "resolved": 4}
    assert ("welcome", f"c{g1}:a{i['王五']}:20260320T100000") in world.tasks()
    assert world.tasks(status=("resolved",)) == {
        ("welcome", f"c{g1}:a{i['张三']}:20260319T100000"),
        ("follow_up", f"c{g1}:a{i['王五']}:2026-03-15"),
        ("offtopic", f"m{i['o1']}"),
        ("nudge", f"c{g1}:2026-W12"),
    }
    # a resolved nudge comes back when its list does
    world.source.tables["slipping_members"] = [member_row(world, g1, "孙八", days_quiet=20)]
    assert sync_tasks(engine, world.source) == NONE | {"reopened": 1}
    assert world.task("nudge", f"c{g1}:2026-W12").detail["count"] == 1


def test_aging_out_of_the_window_closes_nothing(world: World) -> None:
    engine, g1, g2 = world.store.engine, world.ids["g1"], world.ids["g2"]
    sync_tasks(engine, world.source)
    # every window has passed: the newcomer, leaver, post and feedback tasks still wait for the
    # operator; only the group lists, which are empty now, are over
    world.source.until = date(2026, 4, 30)
    for name in ("prune_candidates", "slipping_members", "silent_members"):
        world.source.tables[name] = []
    assert sync_tasks(engine, world.source) == NONE | {"resolved": 3}
    assert world.tasks() == expected_keys(world) - {
        ("prune", f"c{g1}:2026-03"),
        ("prune", f"c{g2}:2026-02"),
        ("nudge", f"c{g1}:2026-W12"),
    }


def test_newer_prune_month_replaces_the_older(world: World) -> None:
    engine, g2 = world.store.engine, world.ids["g2"]
    sync_tasks(engine, world.source)
    world.source.tables["prune_candidates"].append(
        member_row(world, g2, "李四", month="2026-03", missed=3, opportunities=3)
    )
    assert sync_tasks(engine, world.source) == NONE | {"created": 1, "resolved": 1}
    assert world.task("prune", f"c{g2}:2026-02").status == "resolved"
    assert world.task("prune", f"c{g2}:2026-03").detail["count"] == 1


def test_done_task_is_not_made_again(world: World) -> None:
    engine, op = world.store.engine, world.user("alice")
    sync_tasks(engine, world.source)
    q1 = world.task("answer", f"m{world.ids['q1']}")
    done = act(engine, q1.id, user_id=op, action="done", note="answered in private")
    assert (done.status, done.closed_at is not None) == ("done", True)
    dismissed = act(
        engine, world.task("prune", f"c{world.ids['g1']}:2026-03").id, user_id=op, action="dismiss"
    )
    assert dismissed.status == "dismissed"
    assert sync_tasks(engine, world.source) == NONE
    assert world.task("answer", q1.key).status == "done"
    assert count_tasks(engine, groups=None) == 8
    reopened = act(engine, q1.id, user_id=op, action="reopen")
    assert (reopened.status, reopened.closed_at) == ("open", None)


def test_snoozed_task_wakes_after_its_time(world: World) -> None:
    engine, op = world.store.engine, world.user("alice")
    sync_tasks(engine, world.source)
    task = world.task("welcome", f"c{world.ids['g1']}:a{world.ids['张三']}:20260319T100000")
    wake = datetime.now(UTC) + timedelta(hours=1)
    snoozed = act(engine, task.id, user_id=op, action="snooze", until=wake)
    assert (snoozed.status, snoozed.snoozed_until) == ("snoozed", wake)
    assert sync_tasks(engine, world.source, now=wake - timedelta(minutes=1)) == NONE
    assert sync_tasks(engine, world.source, now=wake) == NONE | {"reopened": 1}
    woke = get_task(engine, task.id)
    assert (woke.status, woke.snoozed_until) == ("open", None)
    assert [e.action for e in task_history(engine, task.id)] == ["created", "snoozed", "reopened"]


def test_feedback_cluster_grows_instead_of_multiplying(world: World) -> None:
    engine, i, g1 = world.store.engine, world.ids, world.ids["g1"]
    sync_tasks(engine, world.source)
    for n, (who, when) in enumerate([("陈三", "2026-03-19 08:00"), ("孙八", "2026-03-20 08:00")]):
        world.store.say(g1, i[who], at(when), "app crashed again", msg_id=f"n{n}")
        i[f"n{n}"] = world.label(f"n{n}", feedback="defect", feedback_confidence=0.9)
    assert sync_tasks(engine, world.source) == NONE | {"updated": 1}
    crash = world.task("feedback", f"m{i['f0']}")
    assert (crash.detail["voices"], crash.detail["people_count"]) == (5, 4)  # 孙八 spoke twice
    assert crash.detail["message_ids"] == [i["f0"], i["f1"], i["f2"], i["n0"], i["n1"]]
    assert crash.detail["last_at"] == "2026-03-20T08:00:00+00:00"
    # a month on, the first voices are out of the window; a new one still joins the same task
    world.source.until = date(2026, 4, 10)
    world.store.say(g1, i["李四"], at("2026-04-10 08:00"), "又闪退", msg_id="n2")
    i["n2"] = world.label("n2", feedback="defect", feedback_confidence=0.9)
    world.source.tables.update(prune_candidates=[], slipping_members=[], silent_members=[])
    assert sync_tasks(engine, world.source)["created"] == 0
    assert world.task("feedback", f"m{i['f0']}").detail["voices"] == 6


def test_closed_feedback_takes_no_new_voices(world: World) -> None:
    engine, i, g1, op = world.store.engine, world.ids, world.ids["g1"], world.user("alice")
    sync_tasks(engine, world.source)
    act(engine, world.task("feedback", f"m{i['f0']}").id, user_id=op, action="done")
    world.store.say(g1, i["陈三"], at("2026-03-20 08:00"), "闪退了", msg_id="n0")
    i["n0"] = world.label("n0", feedback="defect", feedback_confidence=0.9)
    assert sync_tasks(engine, world.source) == NONE | {"created": 1}
    assert world.task("feedback", f"m{i['n0']}").detail["message_ids"] == [i["n0"]]
    assert world.task("feedback", f"m{i['f0']}").detail["voices"] == 3


def test_assign_note_and_history(world: World) -> None:
    engine = world.store.engine
    alice, bob = world.user("alice"), world.user("bob")
    sync_tasks(engine, world.source)
    task = world.task("follow_up", f"c{world.ids['g1']}:a{world.ids['王五']}:2026-03-15")
    assigned = act(engine, task.id, user_id=alice, action="assign", assignee_id=bob)
    assert (assigned.assignee_id, assigned.assignee_name) == (bob, "Bob")
    assert [v.id for v in list_tasks(engine, groups=None, assignee_id=bob)] == [task.id]
    act(engine, task.id, user_id=bob, action="note", note="  asked on WeChat ")
    unassigned = act(engine, task.id, user_id=bob, action="assign", assignee_id=None)
    assert (unassigned.assignee_id, unassigned.assignee_name) == (None, None)
    history = task_history(engine, task.id)
    assert [(e.user_name, e.action, e.detail) for e in history] == [
        (None, "created", {}),
        ("Alice", "assigned", {"assignee_id": bob}),
        ("Bob", "note", {"note": "asked on WeChat"}),
        ("Bob", "assigned", {"assignee_id": None}),
    ]
    assert all(e.at.tzinfo is not None for e in history)


def test_feedback_read_counts_per_month(world: World) -> None:
    engine, i = world.store.engine, world.ids
    alice, bob = world.user("alice"), world.user("bob")
    world.user("carol", disabled=True)
    sync_tasks(engine, world.source)
    crash, wish = world.task("feedback", f"m{i['f0']}"), world.task("feedback", f"m{i['f3']}")
    act(engine, crash.id, user_id=alice, action="read")
    act(engine, crash.id, user_id=alice, action="read")  # the same item twice counts once
    act(engine, wish.id, user_id=alice, action="done")
    act(engine, world.task("answer", f"m{i['q1']}").id, user_id=bob, action="read")  # no feedback
    with engine.begin() as c:  # bob read one in January 2020
        c.execute(
            t.task_event.insert().values(
                task_id=crash.id,
                user_id=bob,
                action="read",
                at=datetime(2020, 1, 31, 23, 59, tzinfo=UTC),
            )
        )
    this_month = datetime.now(UTC).date()
    assert feedback_read_counts(engine, month=this_month) == [
        {"user_id": alice, "username": "alice", "display_name": "Alice", "read": 2},
        {"user_id": bob, "username": "bob", "display_name": "Bob", "read": 0},
    ]
    assert feedback_read_counts(engine, month=date(2020, 1, 1)) == [
        {"user_id": bob, "username": "bob", "display_name": "Bob", "read": 1},
        {"user_id": alice, "username": "alice", "display_name": "Alice", "read": 0},
    ]
    assert [r["read"] for r in feedback_read_counts(engine, month=date(2020, 2, 1))] == [0, 0]


def test_bad_input_names_the_field(world: World) -> None:
    engine, op = world.store.engine, world.user("alice")
    world.user("gone", disabled=True)
    sync_tasks(engine, world.source)
    tid = world.task("answer", f"m{world.ids['q1']}").id
    past = datetime.now(UTC) - timedelta(minutes=1)
    cases = [
        ({"action": "finish"}, "action"),
        ({"action": "snooze"}, "until"),
        ({"action": "snooze", "until": past}, "until"),
        ({"action": "snooze", "until": datetime(2099, 1, 1)}, "until"),
        ({"action": "note", "note": " "}, "note"),
        ({"action": "assign", "assignee_id": 999}, "assignee_id"),
        ({"action": "assign", "assignee_id": op + 1}, "assignee_id"),  # disabled
    ]
    for kwargs, name in cases:
        with pytest.raises(InputError) as err:
            act(engine, tid, user_id=op, **kwargs)
        assert err.value.field == name, kwargs
    with pytest.raises(InputError) as err:
        act(engine, tid, user_id=999, action="read")
    assert err.value.field == "user_id"
    with pytest.raises(InputError) as err:
        list_tasks(engine, groups=None, status=("closed",))
    assert err.value.field == "status"
    with pytest.raises(InputError) as err:
        count_tasks(engine, groups=None, kind="chores")
    assert err.value.field == "kind"
    with pytest.raises(NotFound):
        get_task(engine, 999)
    with pytest.raises(NotFound):
        act(engine, 999, user_id=op, action="done")
    assert [e.action for e in task_history(engine, tid)] == ["created"]  # nothing half-done


def test_lists_counts_and_titles(world: World) -> None:
    engine, g1, g2 = world.store.engine, world.ids["g1"], world.ids["g2"]
    sync_tasks(engine, world.source)
    assert open_counts(engine) == {g1: 9, g2: 1}
    assert open_counts(engine, groups=[g2]) == {g2: 1}
    assert count_tasks(engine, groups=[g2]) == 1
    assert count_tasks(engine, groups=[], status=("open", "done")) == 0
    assert count_tasks(engine, groups=[g1], kind="answer") == 2
    page = list_tasks(engine, groups=[g1], limit=4, offset=8)
    assert len(page) == 1 and page[0].id == min(v.id for v in list_tasks(engine, groups=[g1]))
    i = world.ids
    titles = {
        ("welcome", f"c{g1}:a{i['张三']}:20260319T100000"): (
            "欢迎新成员 张三（AI 交流群）",
            "Welcome new member 张三 (AI 交流群)",
        ),
        ("follow_up", f"c{g1}:a{i['王五']}:2026-03-15"): (
            "回访退群成员 王五（AI 交流群）",
            "Follow up with 王五, who left (AI 交流群)",
        ),
        ("answer", f"m{i['q2']}"): (
            "回答 孙八 的提问（AI 交流群）",
            "Answer 孙八's question (AI 交流群)",
        ),
        ("nudge", f"c{g1}:2026-W12"): (
            "提醒 3 位渐冷/沉默成员（AI 交流群）",
            "Nudge 3 quiet members (AI 交流群)",
        ),
        ("prune", f"c{g2}:2026-02"): (
            "确认 2026-02 待清理名单：1 人（跑步群）",
            "Confirm the 2026-02 prune list: 1 member (跑步群)",
        ),
        ("offtopic", f"m{i['o1']}"): (
            "审核 李四 的偏题消息：红包（AI 交流群）",
            "Review 李四's off-topic post: red packet (AI 交流群)",
        ),
        ("feedback", f"m{i['f0']}"): (
            "反馈·缺陷：「闪退了」3 条（AI 交流群）",
            "Feedback (defect): “闪退了”, 3 voices (AI 交流群)",
        ),
    }
    for (kind, key), (zh, en) in titles.items():
        task = world.task(kind, key)
        assert (describe(task, "zh"), describe(task, "en")) == (zh, en)


def test_create_sync_act_cycle_on_every_store(engine) -> None:
    """The whole cycle on SQLite and on PostgreSQL (marker postgres, via the `engine` fixture)."""
    w = build_world(StoreBuilder(engine))
    op = w.user("alice")
    assert sync_tasks(engine, w.source) == NONE | {"created": 10}
    assert sync_tasks(engine, w.source) == NONE
    q1 = w.task("answer", f"m{w.ids['q1']}")
    act(engine, q1.id, user_id=op, action="assign", assignee_id=op)
    wake = datetime.now(UTC) + timedelta(hours=1)
    act(engine, q1.id, user_id=op, action="snooze", until=wake)
    w.source.tables["unanswered_questions"].pop(0)
    assert sync_tasks(engine, w.source, now=wake) == NONE | {"reopened": 1, "resolved": 1}
    assert [e.action for e in task_history(engine, q1.id)] == [
        "created",
        "assigned",
        "snoozed",
        "reopened",
        "resolved",
    ]
    act(engine, w.task("feedback", f"m{w.ids['f0']}").id, user_id=op, action="read")
    assert feedback_read_counts(engine, month=datetime.now(UTC).date())[0]["read"] == 1
    assert open_counts(engine) == {w.ids["g1"]: 8, w.ids["g2"]: 1}


def test_tasks_from_the_real_insights_snapshot(store: StoreBuilder) -> None:
    """sync_tasks over `shequn.analytics.snapshot.Insights` built from a real refresh."""
    snapshot = pytest.importorskip(
        "shequn.analytics.snapshot", reason="shequn.analytics.snapshot (Insights) not written yet"
    )
    import pyarrow as pa

    g = store.group("AI 交流群")
    ann, bea, cy = store.person("Ann"), store.person("Bea"), store.person("Cy")
    store.member(g, ann, joined=at("2026-01-05 09:00"), left=at("2026-03-15 08:00"))
    store.member(g, bea, joined=at("2026-01-05 09:00"))
    store.member(g, cy, joined=at("2026-03-19 10:00"))
    store.say(g, ann, at("2026-03-10 09:00"), "see you")
    store.say(g, bea, at("2026-03-20 09:00"), "how do I export?", msg_id="q")
    with store.engine.connect() as c:
        qid = c.execute(select(t.message.c.id).where(t.message.c.platform_msg_id == "q")).one()[0]
    waiting = pa.table(
        {
            "message_id": [qid],
            "community_id": [g],
            "account_id": [bea],
            "person_id": [store.person_of(bea)],
            "display_name": ["Bea"],
            "sent_at": [at("2026-03-20 09:00")],
            "text": ["how do I export?"],
            "context": ["[]"],
        }
    )
    snapshot.refresh_snapshot(store.engine, extra={"unanswered_questions": waiting})
    insights = snapshot.Insights.open(store.engine)
    assert insights is not None
    try:
        assert insights.until == date(2026, 3, 20)
        assert sync_tasks(store.engine, insights)["created"] == 3
    finally:
        insights.close()
    made = {v.kind: v for v in list_tasks(store.engine, groups=[g])}
    assert set(made) == {"welcome", "follow_up", "answer"}
    assert made["welcome"].key == f"c{g}:a{cy}:20260319T100000"
    with store.engine.connect() as c:
        said = c.execute(select(t.message.c.id).where(t.message.c.account_id == ann)).one()[0]
    assert made["follow_up"].detail == {
        "name": "Ann",
        "group": "AI 交流群",
        "joined": "2026-01-05",
        "left": "2026-03-15",
        "left_reason": "leave",
        "days_in_group": 69,
        "messages": 1,
        "last_active": "2026-03-10",
        "last_message_id": said,
        "last_said": "see you",
        "why_en": "left on their own after 69 days; last spoke 5 days before",
        "why_zh": "入群 69 天后主动退出，最后发言在 5 天前",
    }
    assert made["answer"].detail["text"] == "how do I export?"
