"""Slack owners and admins (workspace-wide in users.json) become roles in their channels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import realdata
from shequn.importing import import_path
from shequn.model.records import MemberRole
from shequn.platforms.base import ParseContext, Source, get_parser
from shequn.store import schema as t

HOUSTON = "slack/houstondatavis_2016_official_export"


def _user(uid: str, name: str, **flags: bool) -> dict:
    """A users.json entry in the shape Slack writes (flags absent on deleted users)."""
    return {
        "id": uid,
        "team_id": "T05SHEQUN1",
        "name": name,
        "deleted": False,
        "real_name": name.title(),
        "tz": "Asia/Shanghai",
        "profile": {"real_name": name.title(), "display_name": name, "team": "T05SHEQUN1"},
        "is_admin": flags.get("admin", False),
        "is_owner": flags.get("owner", False),
        "is_primary_owner": flags.get("primary", False),
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": flags.get("bot", False),
        "is_app_user": False,
    }


def _channel(cid: str, name: str, members: list[str]) -> dict:
    return {
        "id": cid,
        "name": name,
        "created": 1709000000,
        "creator": members[0],
        "is_archived": False,
        "is_general": name == "general",
        "members": members,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": name, "creator": members[0], "last_set": 1709000000},
    }


def _message(user: str, ts: str, text: str) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": ts}


def _workspace(root: Path) -> Path:
    """Primary owner P, owner O (not primary), admin A, member M, and a bot B that is admin.

    general has everyone; crit (private) has A and M; the DM is between P and M.
    """
    users = [
        _user("U0PRIMARY1", "pat", primary=True, owner=True, admin=True),
        _user("U0OWNER001", "olga", owner=True),
        _user("U0ADMIN001", "ada", admin=True),
        _user("U0MEMBER01", "max"),
        _user("B0BOT00001", "digest", admin=True, bot=True),
    ]
    everyone = [u["id"] for u in users]
    files = {
        "users.json": users,
        "channels.json": [_channel("C0GENERAL1", "general", everyone)],
        "groups.json": [_channel("G0CRIT0001", "crit", ["U0ADMIN001", "U0MEMBER01"])],
        "dms.json": [{"id": "D0PATMAX01", "created": 1709000000, "members": everyone[::3]}],
        "general/2024-03-01.json": [_message("U0MEMBER01", "1709280000.000100", "hi all")],
        "crit/2024-03-01.json": [_message("U0ADMIN001", "1709280100.000200", "crit at 6")],
        "D0PATMAX01/2024-03-01.json": [_message("U0PRIMARY1", "1709280200.000300", "hey")],
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return root


def _roles(path: Path) -> list[tuple[str, str, str]]:
    source = Source(path)
    try:
        records = list(get_parser("slack")().parse(source, ParseContext()))
    finally:
        source.close()
    return [
        (r.community_id, r.member.platform_id, r.role) for r in records if isinstance(r, MemberRole)
    ]


def test_owners_and_admins_in_the_channels_that_list_them(tmp_path):
    # By hand: P and O are owners, A and the bot admins, in every channel listing them;
    # the DM gets no roles; M has none.
    assert _roles(_workspace(tmp_path / "ws")) == [
        ("C0GENERAL1", "U0PRIMARY1", "owner"),
        ("C0GENERAL1", "U0OWNER001", "owner"),
        ("C0GENERAL1", "U0ADMIN001", "admin"),
        ("C0GENERAL1", "B0BOT00001", "admin"),
        ("G0CRIT0001", "U0ADMIN001", "admin"),
    ]


def test_import_stores_them_and_the_bot_stays_a_bot(tmp_path, engine):
    import_path(engine, _workspace(tmp_path / "ws"), fmt="slack", index=False)
    c, a, m, r = t.community.c, t.account.c, t.membership.c, t.member_role.c
    with engine.connect() as conn:
        stored = conn.execute(
            select(c.platform_id, a.platform_id, r.role, r.source)
            .join_from(t.member_role, t.account, a.id == r.account_id)
            .join(t.community, c.id == r.community_id)
        ).all()
        spells = conn.execute(
            select(c.platform_id, a.platform_id, m.role)
            .join_from(t.membership, t.account, a.id == m.account_id)
            .join(t.community, c.id == m.community_id)
        ).all()
    assert sorted(tuple(x) for x in stored) == [
        ("C0GENERAL1", "B0BOT00001", "admin", "import"),
        ("C0GENERAL1", "U0ADMIN001", "admin", "import"),
        ("C0GENERAL1", "U0OWNER001", "owner", "import"),
        ("C0GENERAL1", "U0PRIMARY1", "owner", "import"),
        ("G0CRIT0001", "U0ADMIN001", "admin", "import"),
    ]
    # spells exist only for who spoke (one message per conversation)
    assert sorted(tuple(x) for x in spells) == [
        ("C0GENERAL1", "U0MEMBER01", "member"),
        ("D0PATMAX01", "U0PRIMARY1", "member"),  # no roles in a DM
        ("G0CRIT0001", "U0ADMIN001", "admin"),
    ]


@pytest.mark.realdata
def test_real_workspace_export():
    # Read off the real users.json: javier is primary owner; amandashih, jkim, micahstubbs and
    # neerajt are admins; channels.json lists all five in datajam, general, get_feedback and
    # meetup-, javier alone of them in design-thinking, javier, jkim and neerajt in
    # organizations and sci; no other channel lists any of them.
    ids = {
        "U061A3E0G": "javier",
        "U064SRKPD": "amandashih",
        "U065ETZEC": "jkim",
        "U061A1R2R": "micahstubbs",
        "U061A5N1G": "neerajt",
    }
    got = _roles(realdata(HOUSTON))
    by_channel: dict[str, set[str]] = {}
    for channel, uid, role in got:
        assert role == ("owner" if ids[uid] == "javier" else "admin")
        by_channel.setdefault(channel, set()).add(ids[uid])
    five = set(ids.values())
    assert by_channel == {
        "C061A0WJG": five,  # datajam
        "C061A2UGJ": five,  # general
        "C16TQKMAQ": five,  # get_feedback
        "C061A3E0Y": five,  # meetup-
        "C1HB6SJS2": {"javier"},  # design-thinking
        "C13426QKC": {"javier", "jkim", "neerajt"},  # organizations
        "C0PNFE8NS": {"javier", "jkim", "neerajt"},  # sci
    }
    assert len(got) == 27
