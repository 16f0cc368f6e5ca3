"""`shequn role set/list`, in process (typer's CliRunner) on a SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from analytics_builder import StoreBuilder, at
from shequn.cli import app
from shequn.config import get_settings
from shequn.errors import InputError
from shequn.store import schema as t
from shequn.store.db import open_store


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """读书会 with 小鹿 (the assistant), two members both shown as "Ann", and 跑步群 with Ann 1."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(get_settings(), "database_url", url)  # restored after the test
    engine = open_store(url)
    s = StoreBuilder(engine)
    book, run = s.group("读书会"), s.group("跑步群")
    ids = {name: s.person(name) for name in ("小鹿", "ann1", "ann2")}
    with engine.begin() as conn:
        conn.execute(
            update(t.account)
            .where(t.account.c.id.in_([ids["ann1"], ids["ann2"]]))
            .values(display_name="Ann")
        )
    for name, acc in ids.items():
        s.member(book, acc, joined=at("2026-03-01 10:00"))
        if name == "ann1":
            s.member(run, acc, joined=at("2026-03-01 10:00"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env={"SHEQUN_DATABASE_URL": url})

    return invoke, engine, ids


def _roles(engine) -> list[tuple[str, str]]:
    a, m = t.account.c, t.membership.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.platform_id, m.role).join_from(t.membership, t.account, a.id == m.account_id)
        )
        return sorted((pid, role) for pid, role in rows)


def test_set_by_display_name_then_list(cli):
    invoke, engine, ids = cli
    done = invoke("role", "set", "读书会", "小鹿", "operator")
    assert done.exit_code == 0, done.output
    assert "小鹿 is now operator" in done.stdout and "角色已设为 operator" in done.stdout
    assert _roles(engine) == [
        ("ann1", "member"),
        ("ann1", "member"),
        ("ann2", "member"),
        ("小鹿", "operator"),
    ]
    listed = invoke("role", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert len(rows) == 1
    when = rows[0].pop("updated_at")
    assert when.endswith("+00:00")
    assert rows == [
        {
            "community_id": 1,
            "community": "读书会",
            "account_id": ids["小鹿"],
            "platform_id": "小鹿",
            "display_name": "小鹿",
            "role": "operator",
            "source": "operator",
        }
    ]
    table = invoke("role", "list", "读书会")
    assert table.exit_code == 0 and "operator" in table.stdout


def test_ambiguous_name_lists_candidates_and_platform_id_settles_it(cli):
    invoke, engine, _ = cli
    two = invoke("role", "set", "读书会", "Ann", "admin")
    assert isinstance(two.exception, InputError)
    assert two.exception.field == "member"
    assert "ann1 (Ann)" in two.exception.message and "ann2 (Ann)" in two.exception.message
    # in 跑步群 only ann1 is a member: the name is unique there
    assert invoke("role", "set", "跑步群", "Ann", "admin").exit_code == 0
    assert invoke("role", "set", "读书会", "ann2", "owner").exit_code == 0
    assert _roles(engine) == [
        ("ann1", "admin"),  # 跑步群
        ("ann1", "member"),  # 读书会
        ("ann2", "owner"),
        ("小鹿", "member"),
    ]


def test_bad_role_unknown_member_and_empty_list(cli):
    invoke, engine, _ = cli
    bad = invoke("role", "set", "读书会", "小鹿", "boss")
    assert isinstance(bad.exception, InputError) and bad.exception.field == "role"
    nobody = invoke("role", "set", "读书会", "Zed", "admin")
    assert isinstance(nobody.exception, InputError) and nobody.exception.field == "member"
    empty = invoke("role", "list")
    assert empty.exit_code == 0 and "no roles stored" in empty.stdout
    assert invoke("role", "list", "--json").stdout.strip() == "[]"
    assert {role for _, role in _roles(engine)} == {"member"}
