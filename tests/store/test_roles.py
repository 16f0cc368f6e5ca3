"""Member roles on both backends: the operator's word wins, imports never override it, spells
rebuilt from events keep their roles, bots stay bots, and an interrupted import keeps none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from shequn.errors import InputError, NotFound
from shequn.model.records import AccountRef, Community, MemberRole, MembershipEvent, Message
from shequn.store import schema as t
from shequn.store.membership import rebuild_memberships
from shequn.store.roles import find_member, record_import_roles, roles_of, set_role
from shequn.store.writer import ImportWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALICE = AccountRef("u1", name="Alice")
BOB = AccountRef("u2", name="Bob")
CAROL = AccountRef("u3", name="Carol")
BOT = AccountRef("b1", name="Digest Bot", is_bot=True)


def _records(*roles: MemberRole):
    yield Community(platform="telegram", platform_id="g1", name="读书会")
    for i, who in enumerate((ALICE, BOB, BOT, ALICE)):
        yield Message("g1", str(i), T0 + timedelta(minutes=i), who, f"第{i}条")
    # Carol joins, leaves and comes back: two spells, both must carry her role
    yield MembershipEvent("g1", CAROL, "join", T0)
    yield MembershipEvent("g1", CAROL, "leave", T0 + timedelta(days=1))
    yield MembershipEvent("g1", CAROL, "join", T0 + timedelta(days=2))
    yield from roles


EXPORT_ROLES = (
    MemberRole("g1", ALICE, "member"),
    MemberRole("g1", ALICE, "admin"),  # the later record for Alice wins
    MemberRole("g1", CAROL, "owner"),
    MemberRole("g1", BOT, "admin"),
)


def _write(engine, records):
    with engine.begin() as conn:
        w = ImportWriter(conn, import_run_id=None, batch_size=3)
        for r in records:
            w.write(r)
        w.finish()


def _ids(engine) -> tuple[int, dict[str, int]]:
    with engine.connect() as conn:
        cid = conn.execute(select(t.community.c.id)).scalar_one()
        accs = dict(conn.execute(select(t.account.c.platform_id, t.account.c.id)).all())
    return cid, accs


def _spells(engine) -> list[tuple[str, str]]:
    """(platform id, role) of every membership row, sorted."""
    a, m = t.account.c, t.membership.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.platform_id, m.role).join_from(t.membership, t.account, a.id == m.account_id)
        )
        return sorted((pid, role) for pid, role in rows)


def _stored(engine) -> dict[str, tuple[str, str, datetime]]:
    """platform id -> (role, source, updated_at) of every member_role row."""
    a, r = t.account.c, t.member_role.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.platform_id, r.role, r.source, r.updated_at).join_from(
                t.member_role, t.account
            )
        )
        return {pid: (role, source, at) for pid, role, source, at in rows}


def test_import_roles_reach_the_spells_and_bots_stay_bots(engine):
    _write(engine, _records(*EXPORT_ROLES))
    # By hand: Alice's last record says admin; Carol's two spells are both owner; Bob has no
    # role (member); the bot is a bot although the export called it admin.
    assert _spells(engine) == [
        ("b1", "bot"),
        ("u1", "admin"),
        ("u2", "member"),
        ("u3", "owner"),
        ("u3", "owner"),
    ]
    assert {k: v[:2] for k, v in _stored(engine).items()} == {
        "u1": ("admin", "import"),
        "u3": ("owner", "import"),
        "b1": ("admin", "import"),
    }
    cid, accs = _ids(engine)
    with engine.connect() as conn:
        assert roles_of(conn, cid) == {
            accs["u1"]: "admin",
            accs["u3"]: "owner",
            accs["b1"]: "admin",
        }


def test_reimport_changes_nothing(engine):
    _write(engine, _records(*EXPORT_ROLES))
    before = _stored(engine), _spells(engine)
    _write(engine, _records(*EXPORT_ROLES))
    assert (_stored(engine), _spells(engine)) == before  # updated_at included


def test_operator_sets_a_role_at_once_and_imports_never_override_it(engine):
    _write(engine, _records(*EXPORT_ROLES))
    cid, accs = _ids(engine)
    set_role(engine, community_id=cid, account_id=accs["u2"], role="operator")
    # "member" from the operator: not an operator, whatever the export said
    set_role(engine, community_id=cid, account_id=accs["u1"], role="member")
    assert _spells(engine) == [
        ("b1", "bot"),
        ("u1", "member"),
        ("u2", "operator"),
        ("u3", "owner"),
        ("u3", "owner"),
    ]
    # a later export calls Alice owner again and Bob a member: the operator's word stays
    _write(engine, _records(MemberRole("g1", ALICE, "owner"), MemberRole("g1", BOB, "member")))
    with engine.begin() as conn:
        record_import_roles(conn, cid, {accs["u1"]: "owner", accs["u3"]: "admin"})
    stored = {k: v[:2] for k, v in _stored(engine).items()}
    assert stored == {
        "u1": ("member", "operator"),
        "u2": ("operator", "operator"),
        "u3": ("admin", "import"),  # an import may replace an import
        "b1": ("admin", "import"),
    }
    assert _spells(engine) == [
        ("b1", "bot"),
        ("u1", "member"),
        ("u2", "operator"),
        ("u3", "admin"),
        ("u3", "admin"),
    ]


def test_rebuild_keeps_roles(engine):
    _write(engine, _records(*EXPORT_ROLES))
    cid, accs = _ids(engine)
    set_role(engine, community_id=cid, account_id=accs["u2"], role="admin")
    before = _spells(engine)
    with engine.begin() as conn:
        rebuild_memberships(conn, cid)
    assert _spells(engine) == before
    assert ("u2", "admin") in before


def test_bad_role_unknown_account_and_group_write_nothing(engine):
    _write(engine, _records())
    cid, accs = _ids(engine)
    with pytest.raises(InputError) as bad:
        set_role(engine, community_id=cid, account_id=accs["u1"], role="boss")
    assert bad.value.field == "role"
    with pytest.raises(InputError):
        set_role(engine, community_id=cid, account_id=accs["u1"], role="admin", source="bot")
    with pytest.raises(NotFound):
        set_role(engine, community_id=cid, account_id=99999, role="admin")
    with pytest.raises(NotFound):
        set_role(engine, community_id=cid + 100, account_id=accs["u1"], role="admin")
    assert _stored(engine) == {}
    assert ("u1", "member") in _spells(engine)


def test_an_interrupted_import_keeps_no_roles(engine):
    _write(engine, _records())

    def broken():
        yield from _records(*EXPORT_ROLES)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        _write(engine, broken())
    assert _stored(engine) == {}
    assert ("u1", "member") in _spells(engine)


def test_find_member_by_id_or_unique_name(engine):
    twin = AccountRef("u9", name="Alice")
    _write(engine, [*_records(), Message("g1", "9", T0, twin, "我也叫 Alice")])
    cid, accs = _ids(engine)
    assert find_member(engine, community_id=cid, ref="u2") == accs["u2"]
    assert find_member(engine, community_id=cid, ref="Bob") == accs["u2"]
    assert find_member(engine, community_id=cid, ref="u3") == accs["u3"]  # events only
    with pytest.raises(InputError) as two:
        find_member(engine, community_id=cid, ref="Alice")
    assert two.value.field == "member"
    assert "u1 (Alice)" in two.value.message and "u9 (Alice)" in two.value.message
    with pytest.raises(InputError, match="no member 'Zed'"):
        find_member(engine, community_id=cid, ref="Zed")
