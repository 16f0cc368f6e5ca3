"""One person across platforms: suggestions by name, explicit link and unlink."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shequn.errors import InputError, NotFound
from shequn.model.records import AccountRef, Community, Message
from shequn.store.people import (
    find_account,
    link,
    normalise_name,
    person_accounts,
    suggestions,
    unlink,
)
from shequn.store.writer import ImportWriter

T0 = datetime(2026, 1, 5, tzinfo=UTC)


def _fill(engine):
    for platform, gid, acc in [
        ("telegram", "t1", AccountRef("user1", name="Lily 李")),
        ("wechat", "w1", AccountRef("wxid_a", name="lily李")),
        ("wechat", "w1", AccountRef("wxid_b", name="Tom")),
    ]:
        with engine.begin() as conn:
            w = ImportWriter(conn, import_run_id=None)
            w.write(Community(platform=platform, platform_id=gid, name=gid))
            w.write(Message(gid, acc.platform_id, T0, acc, "hi"))
            w.finish()


def test_normalise_name():
    assert normalise_name(" ~Lily 李 ") == normalise_name("lily李") == "lily李"
    assert normalise_name("ＬＩＬＹ") == "lily"


def test_suggest_link_unlink(engine):
    _fill(engine)
    (s,) = suggestions(engine)
    assert {a.platform_id for a in s.accounts} == {"user1", "wxid_a"}
    assert "telegram" in s.reason and "wechat" in s.reason
    # nothing was merged by suggesting
    assert (
        find_account(engine, "telegram:user1").person_id
        != find_account(engine, "wechat:wxid_a").person_id
    )

    person = link(engine, ["telegram:user1", "wechat:wxid_a"])
    assert {a.platform_id for a in person_accounts(engine, person)} == {"user1", "wxid_a"}
    assert suggestions(engine) == []

    new_person = unlink(engine, "wechat:wxid_a")
    assert new_person != person
    assert [a.platform_id for a in person_accounts(engine, person)] == ["user1"]
    assert unlink(engine, "wechat:wxid_a") == new_person  # already alone: unchanged


def test_bad_references(engine):
    _fill(engine)
    with pytest.raises(NotFound):
        find_account(engine, "telegram:nobody")
    with pytest.raises(InputError):
        find_account(engine, "just-a-name")
    with pytest.raises(InputError):
        link(engine, ["telegram:user1"])
