"""What the demo's operator does after importing: roles, zones, themes, windows, product data.

Done through the same functions the operator's commands call (`shequn role set`, `shequn group
set --timezone --theme`, `shequn windows set`, `shequn import-attributes`), so the demo's numbers
show operators kept out of UGC and core members, theme fit against each group's stated purpose,
attendance per discussion session, and core users and the funnel's 付费 step by product data.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from shequn.analytics.attributes import import_attributes
from shequn.analytics.windows import EN_DAYS, hhmm, set_windows
from shequn.demo.generate import OPERATORS
from shequn.demo.generate_themes import pick_themes
from shequn.demo.model import DemoChat, DemoMessage
from shequn.group_settings import update_group_settings
from shequn.store import schema as t
from shequn.store.roles import set_role

PRODUCT_FILE = "product-data.csv"
_PRICES = (29, 99, 199, 399, 999)
_PRICE_WEIGHTS = (30, 35, 18, 12, 5)


@dataclass(frozen=True)
class Operated:
    """What `operate_program` did, for the demo's summary line."""

    operators: int  # (group, assistant) pairs set as operators
    windows: int  # groups given discussion windows
    product_rows: int  # members in the product-data file
    paying: int  # of them, members who paid

    def describe(self) -> str:
        return (
            f"operator: assistants in {self.operators} groups; discussion windows in "
            f"{self.windows} groups; product data for {self.product_rows} members "
            f"({self.paying} paying) / 运营：{self.operators} 个群的助手设为运营，"
            f"{self.windows} 个群设讨论时段，{self.product_rows} 人导入产品数据"
            f"（{self.paying} 人付费）"
        )


def operate_program(
    engine: Engine, program: list[tuple[str, DemoChat]], *, out_dir: Path, seed: int
) -> Operated:
    """Act as the program's operator on the imported demo `program` (the same for one seed)."""
    groups = _group_ids(engine, program)
    themes = pick_themes(len(program))  # generate_program's themes, in program order
    operators = windows = 0
    for (platform, chat), theme, cid in zip(program, themes, groups, strict=True):
        # windows are local to the zone; the theme is what the operator says the group is for
        update_group_settings(engine, cid, {"timezone": chat.timezone, "theme": theme.topic})
        operators += _mark_assistant(engine, platform, chat, cid)
        if theme.window is not None:
            set_windows(engine, cid, window_spec(theme.window))
            windows += 1
    path = out_dir / PRODUCT_FILE
    rows = product_rows(engine, program, seed=seed)
    write_product_csv(path, rows)
    import_attributes(engine, path)
    paying = sum(1 for r in rows if r[3] > 0)
    return Operated(operators, windows, len(rows), paying)


def window_spec(window: tuple[tuple[int, ...], int, int]) -> str:
    """A theme's window as the operator types it: "Mon,Tue,Wed,Thu,Fri 19:20-20:00"."""
    days, start, minutes = window
    names = ",".join(EN_DAYS[d].capitalize() for d in days)
    return f"{names} {hhmm(start)}-{hhmm(start + minutes)}"


def _group_ids(engine: Engine, program: list[tuple[str, DemoChat]]) -> list[int]:
    c = t.community.c
    query = select(c.id, c.platform, c.platform_id).where(c.platform.in_({p for p, _ in program}))
    with engine.connect() as conn:
        found = {(p, pid): cid for cid, p, pid in conn.execute(query)}
    # a MemoTrace CSV has no chatroom id: its reader names the group "wechat:<name>"
    return [
        found.get((p, chat.platform_id)) or found[(p, f"{p}:{chat.name}")] for p, chat in program
    ]


def _mark_assistant(engine: Engine, platform: str, chat: DemoChat, community_id: int) -> int:
    """Make the program's assistant an operator of the group, if it is in it (1) or not (0)."""
    name = OPERATORS[platform][0]
    user = next((u for u in chat.users if u.name == name), None)
    if user is None:
        return 0
    a = t.account.c
    with engine.connect() as conn:
        account = conn.execute(
            select(a.id).where(a.platform == platform, a.platform_id == user.id)
        ).scalar()
    if account is None:  # in the roster but never seen in the export
        return 0
    set_role(engine, community_id=community_id, account_id=account, role="operator")
    return 1


def product_rows(
    engine: Engine, program: list[tuple[str, DemoChat]], *, seed: int
) -> list[tuple[str, float, int, int, int]]:
    """(account, uses per week, minutes per week, paid, orders) for about 40% of the members.

    Who uses the product, how much and whether they pay rises with how much they talk, as it
    does in a real program; the assistants are staff and have no row. Seeded.
    """
    talk: Counter[str] = Counter()
    staff = {f"{p}:{u.id}" for p, chat in program for u in chat.users if u.name == OPERATORS[p][0]}
    for platform, chat in program:
        for item in chat.items:
            if isinstance(item, DemoMessage):
                talk[f"{platform}:{item.sender.id}"] += 1
    keys = sorted(_stored_accounts(engine, program) - staff)
    rng = random.Random(seed * 1_000_003 + 17)
    rows = []
    for key in keys:
        heat = min(1.0, math.log1p(talk[key]) / math.log(200))  # 0 silent .. 1 very active
        if rng.random() >= 0.25 + 0.45 * heat:
            continue
        uses = round(rng.uniform(0.3, 2.0) * (1 + 6 * heat), 1)
        minutes = round(uses * rng.uniform(6, 35))
        paid = rng.random() < 0.15 + 0.45 * heat
        price = rng.choices(_PRICES, _PRICE_WEIGHTS)[0] if paid else 0
        orders = rng.randint(1, 2 + round(4 * heat)) if paid else 0
        rows.append((key, uses, minutes, price * orders if paid else 0, orders))
    return rows


def _stored_accounts(engine: Engine, program: list[tuple[str, DemoChat]]) -> set[str]:
    """platform:platform_id of the program's accounts that the import created (real ids)."""
    wanted = {(p, u.id) for p, chat in program for u in chat.users if not u.is_bot}
    a = t.account.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.platform, a.platform_id).where(
                a.platform.in_({p for p, _ in wanted}), a.is_bot.is_(False)
            )
        ).all()
    return {f"{p}:{pid}" for p, pid in rows if (p, pid) in wanted}


def write_product_csv(path: Path, rows: list[tuple[str, float, int, int, int]]) -> None:
    """The product-data file in the documented columns (docs/attributes.md)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["account", "usage_frequency", "usage_minutes", "payments", "orders"])
        out.writerows(rows)
