"""The store: idempotent writes, name resolution, membership spells, rollback, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shequn.errors import InputError
from shequn.model.records import AccountRef, Community, MembershipEvent, Message, Reaction
from shequn.store import schema as t
from shequn.store.writer import ImportWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALICE = AccountRef("u1", name="Alice 李")
BOB = AccountRef("u2", name="Bob")


def _records(n: int = 10, start: int = 0):
    yield Community(platform="telegram", platform_id="g1", name="跑步群")
    for i in range(start, start + n):
        sender = ALICE if i % 2 == 0 else BOB
        yield Message(
            "g1",
            str(i),
            T0 + timedelta(minutes=i),
            sender,
            f"消息 {i} 🏃",
            reply_to=str(i - 1) if i else None,
        )


def _write(engine, records, run_id=None):
    with engine.begin() as conn:
        w = ImportWriter(conn, import_run_id=run_id, batch_size=3)
        for r in records:
            w.write(r)
        return w.finish()


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_messages_round_trip_in_utc(engine):
    _write(engine, _records(4))
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.message.c.platform_msg_id,
                t.message.c.sent_at,
                t.message.c.text,
                t.message.c.reply_to,
            ).order_by(t.message.c.sent_at)
        ).all()
    assert [r.platform_msg_id for r in rows] == ["0", "1", "2", "3"]
    assert rows[1].sent_at == T0 + timedelta(minutes=1)
    assert rows[1].sent_at.tzinfo is not None
    assert rows[3].text == "消息 3 🏃"
    assert rows[2].reply_to == "1"


def test_same_records_twice_add_nothing(engine):
    _write(engine, _records(10))
    before = (_count(engine, t.message), _count(engine, t.account), _count(engine, t.person))
    _write(engine, _records(10))
    assert (
        (_count(engine, t.message), _count(engine, t.account), _count(engine, t.person))
        == before
        == (10, 2, 2)
    )


def test_overlapping_exports_merge(engine):
    _write(engine, _records(10, start=0))
    _write(engine, _records(10, start=5))
    assert _count(engine, t.message) == 15


def test_bad_record_rolls_back_everything(engine):
    def bad():
        yield from _records(7)
        raise InputError("bad time", file="x.json", record="8", field="date")

    with pytest.raises(InputError):
        _write(engine, bad())
    assert _count(engine, t.message) == 0
    assert _count(engine, t.community) == 0


def test_record_before_its_group_is_an_input_error(engine):
    with pytest.raises(InputError) as exc:
        _write(engine, [Message("nope", "1", T0, ALICE, "hi")])
    assert exc.value.field == "community_id"


def test_names_only_members_are_matched_to_accounts(engine):
    recs = [
        Community(platform="telegram", platform_id="g1", name="g"),
        MembershipEvent(
            "g1",
            AccountRef("Alice 李", name="Alice 李", by_name=True),
            "join",
            T0 - timedelta(days=1),
            actor=BOB,
            source="invite",
        ),
        MembershipEvent(
            "g1",
            AccountRef("Ghost", name="Ghost", by_name=True),
            "join",
            T0 - timedelta(days=1),
            actor=BOB,
            source="invite",
        ),
        Message("g1", "1", T0, ALICE, "hello"),
        Message("g1", "2", T0, BOB, "welcome"),
    ]
    counts = _write(engine, recs)
    assert counts.names_unmatched == 1
    with engine.connect() as conn:
        alice = conn.execute(
            select(t.account.c.id).where(t.account.c.platform_id == "u1")
        ).scalar_one()
        bob = conn.execute(
            select(t.account.c.id).where(t.account.c.platform_id == "u2")
        ).scalar_one()
        ev = conn.execute(
            select(t.membership_event.c.account_id, t.membership_event.c.actor_account_id).order_by(
                t.membership_event.c.id
            )
        ).all()
        ghost = conn.execute(
            select(t.account.c.name_only).where(t.account.c.platform_id == "name:Ghost")
        ).scalar_one()
        spell = conn.execute(
            select(
                t.membership.c.joined_at,
                t.membership.c.inviter_account_id,
                t.membership.c.join_source,
            ).where(t.membership.c.account_id == alice)
        ).one()
    assert (alice, bob) in [tuple(e) for e in ev]
    assert ghost is True
    assert spell == (T0 - timedelta(days=1), bob, "invite")


def test_membership_spells_leave_and_rejoin(engine):
    recs = [
        Community(platform="slack", platform_id="C1", name="general"),
        MembershipEvent("C1", ALICE, "join", T0, source="link"),
        MembershipEvent("C1", ALICE, "leave", T0 + timedelta(days=3)),
        MembershipEvent("C1", ALICE, "join", T0 + timedelta(days=9), actor=BOB, source="invite"),
        MembershipEvent("C1", BOB, "remove", T0 + timedelta(days=2), actor=ALICE),
        Message("C1", "1.0", T0 + timedelta(hours=1), AccountRef("u3", name="Carol"), "hi"),
    ]
    _write(engine, recs)
    _write(engine, recs)  # idempotent
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.account.c.platform_id,
                t.membership.c.joined_at,
                t.membership.c.left_at,
                t.membership.c.left_reason,
            )
            .join(t.account, t.account.c.id == t.membership.c.account_id)
            .order_by(t.account.c.platform_id, t.membership.c.joined_at)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("u1", T0, T0 + timedelta(days=3), "leave"),
        ("u1", T0 + timedelta(days=9), None, None),
        ("u2", None, T0 + timedelta(days=2), "remove"),
        ("u3", None, None, None),
    ]


def test_reactions_dedupe_and_display_names_follow_the_newest(engine):
    renamed = AccountRef("u1", name="Alice Li")
    recs = [
        *_records(2),
        Message("g1", "9", T0 + timedelta(days=1), renamed, "new name"),
        Reaction("g1", "0", "👍", reactor=BOB),
        Reaction("g1", "0", "👍", reactor=BOB),
        Reaction("g1", "1", "❤", reactor=None, count=3),
    ]
    _write(engine, recs)
    _write(engine, recs)
    assert _count(engine, t.reaction) == 2
    with engine.connect() as conn:
        name = conn.execute(
            select(t.account.c.display_name).where(t.account.c.platform_id == "u1")
        ).scalar_one()
        names = conn.execute(select(func.count()).select_from(t.account_name)).scalar_one()
    assert name == "Alice Li"
    assert names == 3  # Alice 李, Bob, Alice Li


def test_naive_time_from_a_reader_is_refused(engine):
    with pytest.raises(InputError):
        _write(
            engine,
            [
                Community(platform="x", platform_id="g", name="g"),
                Message("g", "1", datetime(2026, 1, 1), ALICE, "naive"),
            ],
        )
