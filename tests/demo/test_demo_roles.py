"""The demo acts as its operator after importing: assistants are operators (and so not core
members), two groups have discussion windows in their own zone, and product data is imported.

One small demo (4,000 messages, as the browser tests use) for the whole module.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from analytics_builder import StoreBuilder, rows, run
from shequn.analytics.windows import list_windows
from shequn.demo.generate import OPERATORS, generate_program
from shequn.demo.operate import PRODUCT_FILE, product_rows
from shequn.demo.run import run_demo
from shequn.store import schema as t
from shequn.store.db import make_engine, upgrade

MESSAGES = 4000


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo_roles")
    engine = make_engine(f"sqlite:///{work / 'shequn.db'}")
    upgrade(engine)
    out = io.StringIO()
    run_demo(
        engine, out_dir=work / "exports", messages=MESSAGES, console=Console(file=out, width=1000)
    )
    yield engine, work / "exports", out.getvalue()
    engine.dispose()


def _assistants(engine) -> dict[int, tuple[str, int]]:
    """account id -> (name, messages) of the program's assistants, as imported."""
    a, m = t.account.c, t.message.c
    names = [name for name, _ in OPERATORS.values()]
    query = (
        select(a.id, a.display_name, func.count(m.id))
        .join_from(t.account, t.message, m.account_id == a.id, isouter=True)
        .where(a.display_name.in_(names))
        .group_by(a.id, a.display_name)
    )
    with engine.connect() as conn:
        return {acc: (name, n) for acc, name, n in conn.execute(query)}


def test_assistants_are_operators_in_every_group_they_are_in(demo):
    engine, _, printed = demo
    assistants = _assistants(engine)
    assert {name for name, _ in assistants.values()} == {n for n, _ in OPERATORS.values()}
    mr, ms = t.member_role.c, t.membership.c
    with engine.connect() as conn:
        roles = conn.execute(select(mr.account_id, mr.role, mr.source)).all()
        spells = conn.execute(
            select(ms.role, func.count()).where(ms.account_id.in_(assistants)).group_by(ms.role)
        ).all()
    assert roles and all(
        acc in assistants and (role, source) == ("operator", "operator")
        for acc, role, source in roles
    )
    assert dict(spells) == {"operator": len(roles)}  # every spell of theirs, nothing else
    assert f"assistants in {len(roles)} groups" in printed


def test_assistants_are_not_core_members(demo):
    engine, _, _ = demo
    assistants = _assistants(engine)
    assert sum(n for _, n in assistants.values()) > 0  # they do talk: the check can fail
    result = run(StoreBuilder(engine), "core_members", since="2026-05-01", until="2026-11-01")
    core = {acc for (acc,) in rows(result, "account_id")}
    assert core and not core & set(assistants)


def test_windows_in_the_groups_own_zone(demo):
    engine, _, printed = demo
    with engine.connect() as conn:
        groups = dict(conn.execute(select(t.community.c.name, t.community.c.id)).all())
        zones = dict(conn.execute(select(t.community.c.name, t.community.c.timezone)).all())
    got = [(w.community_id, w.describe("en")) for w in list_windows(engine)]
    assert got == [
        (groups["读书会·每晚共读"], "Mon-Fri 19:20-20:00"),
        (groups["design-critique"], "Thu 18:00-19:00"),
    ]
    assert zones["读书会·每晚共读"] == "Asia/Shanghai"
    assert zones["design-critique"] == "Europe/London"
    assert "discussion windows in 2 groups" in printed


def test_product_data_written_and_imported(demo):
    engine, exports, printed = demo
    path = Path(exports) / PRODUCT_FILE
    with path.open(encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["account", "usage_frequency", "usage_minutes", "payments", "orders"]
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.product_attribute)).scalar()
        members = conn.execute(select(func.count()).select_from(t.account)).scalar()
        paying = conn.execute(
            select(func.count()).where(t.product_attribute.c.payments > 0)
        ).scalar()
    assert stored == len(table)
    assert 0.2 * members < stored < 0.6 * members  # "a realistic share"
    assert 0 < paying < stored
    assert f"product data for {stored} members ({paying} paying)" in printed
    assert not any(OPERATORS[r["account"].split(":")[0]][0] in r["account"] for r in table)
    # seeded: the same program and seed give the same file
    program = generate_program(messages=MESSAGES)
    again = [
        (k, str(u), str(m), str(p), str(o))
        for k, u, m, p, o in product_rows(engine, program, seed=7)
    ]
    assert again == [tuple(r.values()) for r in table]


def test_every_group_has_its_stated_theme(demo):
    """The operator states what each group is for (its theme's topic), so theme fit is scored
    against that rather than the group's name."""
    from shequn.demo.generate_themes import pick_themes

    engine, _, _ = demo
    c = t.community.c
    with engine.connect() as conn:
        stored = dict(conn.execute(select(c.name, c.theme)).all())
    expected = {th.name: th.topic for th in pick_themes(len(stored))}
    assert stored == expected
