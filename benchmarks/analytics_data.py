"""Seeded program data for `benchmarks/analytics.py`, written straight into a fresh SQLite store.

The store is made by shequn itself (`make_engine` + `upgrade`: the real schema); rows go in with
the plain sqlite3 module, `executemany` in big transactions, one day of messages at a time, so
memory stays bounded whatever the message count. Shapes an operator would recognise: group
sizes and per-member activity are heavy-tailed (Zipf-like), a third of the members never speak,
joins are spread over the year, about 15% of memberships end (leave or remove) and some of those
rejoin, some members go quiet, about 20% of messages reply to an earlier one in the same group,
a few are check-ins ("打卡 第12天"), mentions or links, media, files or stickers.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

START = int(datetime(2025, 6, 2, tzinfo=UTC).timestamp())  # a Monday
DAY = 86400
ZONES = (("Asia/Shanghai", 8), ("UTC", 0), ("Europe/Berlin", 1), (None, 8))
ZONE_P = (0.78, 0.10, 0.10, 0.02)  # None: the group has no zone, the default (Shanghai) applies
PHRASES = (
    "大家好！",
    "有没有人知道怎么导出数据？",
    "这个问题我也遇到过，重启一下就好",
    "新版本又闪退了！！能不能修一下？",
    "Does anyone know how to reset the password?",
    "谢谢分享👍",
    "Meeting moved to 8pm",
    "明天见～",
    "价格是 ¥199，包邮",
    "收到",
    "ok",
    "同意楼上",
    "今天的直播几点开始？",
    "I think the second option is better",
    "哈哈哈哈",
    "有人一起吗",
    "学到了，感谢群主",
    "这个链接打不开",
    "已经提交了作业",
    "晚安",
)
MEDIA_TEXT = {"media": "[图片]", "file": "[文件] notes.pdf", "sticker": "[表情]"}
# Local hour of day weights: quiet nights, a lunch bump, the evening peak.
HOURS = np.array([1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 10, 12, 9, 8, 8, 8, 9, 11, 14, 16, 14, 9, 4.0])


@dataclass(frozen=True)
class Shape:
    messages: int
    members: int
    groups: int
    days: int
    seed: int = 7


@dataclass
class Plan:
    """Everything but the messages, drawn from the seed: groups, accounts, membership spells.

    Spell arrays are indexed by membership id - 1; days count from START.
    """

    zone: np.ndarray  # index into ZONES, per group
    platform: np.ndarray
    person: np.ndarray  # person id per account (index = account id - 1)
    is_bot: np.ndarray
    group: np.ndarray
    account: np.ndarray
    before: np.ndarray  # member before the history starts (no join time)
    start: np.ndarray  # first day the member may speak (join day, 0 if member before history)
    end: np.ndarray  # day of leaving, or `days`
    quiet: np.ndarray  # the member stops speaking from this day on
    joined_s: np.ndarray  # second of the join day the member joined (0 for before history)
    weight: np.ndarray  # relative activity; 0 = never speaks
    offset_h: np.ndarray  # the group's (rough) UTC offset in hours, per group


def _sqlite(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB
    con.execute("PRAGMA foreign_keys=OFF")
    return con


def _insert(con: sqlite3.Connection, table: str, cols: str, rows: list[tuple]) -> None:
    marks = ",".join("?" * len(cols.split(",")))
    con.executemany(f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({marks})", rows)


def _stamp(seconds: np.ndarray) -> list[str]:
    """The store's SQLite time text, 'YYYY-MM-DD HH:MM:SS.ffffff' (naive UTC)."""
    ts = pa.array(seconds.astype("int64"), pa.timestamp("us"))
    return ts.cast(pa.string()).to_pylist()


def _stamp_or_none(seconds: np.ndarray, present: np.ndarray) -> list[str | None]:
    text = _stamp(np.where(present, seconds, 0))
    return [t if p else None for t, p in zip(text, present.tolist(), strict=True)]


def make_plan(shape: Shape) -> Plan:
    """Groups, accounts (1% linked to another account's person, 0.3% bots) and spells:
    heavy-tailed group sizes, joins over the year, leaves, rejoins, members going quiet."""
    rng = np.random.default_rng(shape.seed)
    n, days = shape.members, shape.days
    zone = rng.choice(len(ZONES), size=shape.groups, p=ZONE_P)
    platform = np.array(["wechat", "telegram", "slack", "whatsapp"])[
        rng.choice(4, size=shape.groups, p=(0.7, 0.15, 0.1, 0.05))
    ]
    person = np.arange(1, n + 1)
    linked = rng.random(n) < 0.01
    person[linked] = rng.integers(1, n + 1, size=int(linked.sum()))
    person = np.unique(person, return_inverse=True)[1] + 1
    is_bot = rng.random(n) < 0.003
    popularity = 1.0 / np.arange(1, shape.groups + 1) ** 0.7
    popularity = rng.permutation(popularity / popularity.sum())
    per_member = rng.geometric(0.65, size=n) + np.where(is_bot, 10, 0)
    account = np.repeat(np.arange(1, n + 1), per_member)
    group = rng.choice(shape.groups, size=account.size, p=popularity) + 1
    pairs = np.unique(np.stack([group, account], axis=1), axis=0)
    group, account = pairs[:, 0], pairs[:, 1]
    m = group.size
    before = rng.random(m) < 0.3
    start = np.where(before, 0, rng.integers(0, days, size=m))
    end = start + 1 + (rng.random(m) * (days - start)).astype(int)
    end = np.where((rng.random(m) < 0.15) & (end < days), end, days)
    rejoin = (end < days - 1) & (rng.random(m) < 0.25)
    r_start = end[rejoin] + 1 + (rng.random(int(rejoin.sum())) * (days - 1 - end[rejoin]))
    r = r_start.size
    group = np.concatenate([group, group[rejoin]])
    account = np.concatenate([account, account[rejoin]])
    before = np.concatenate([before, np.zeros(r, dtype=bool)])
    start = np.concatenate([start, r_start.astype(int)])
    end = np.concatenate([end, np.full(r, days)])
    m = group.size
    joined_s = np.where(before, 0, rng.integers(0, DAY, size=m))
    activity = rng.pareto(1.2, size=n + 1) + 0.05  # per account, Zipf-like tail
    activity[rng.random(n + 1) < 0.35] = 0.0  # lurkers
    activity[1:][is_bot] = 3.0
    quiet = np.where(rng.random(m) < 0.25, rng.integers(0, days, size=m), days)
    offset_h = np.array([ZONES[z][1] for z in zone])
    return Plan(zone, platform, person, is_bot, group, account, before, start, end, quiet,
                joined_s, activity[account], offset_h)  # fmt: skip


def write_people(con: sqlite3.Connection, shape: Shape, plan: Plan) -> None:
    """community, person and account rows."""
    kinds = ("interest", "brand", "knowledge", "product", "learning")
    now = _stamp(np.array([START * 10**6]))[0]
    _insert(
        con,
        "community",
        "id,platform,platform_id,name,kind,timezone,created_at",
        [
            (g + 1, str(plan.platform[g]), f"g{g + 1}", f"群 {g + 1}", kinds[g % 5],
             ZONES[plan.zone[g]][0], now)
            for g in range(shape.groups)
        ],
    )  # fmt: skip
    persons = range(1, int(plan.person.max()) + 1)
    _insert(con, "person", "id,display_name,created_at", [(p, f"成员{p}", now) for p in persons])
    _insert(
        con,
        "account",
        "id,platform,platform_id,person_id,display_name,is_bot,name_only,created_at",
        [
            (a, "wechat", f"u{a}", p, f"成员{a}", b, 0, now)
            for a, (p, b) in enumerate(
                zip(plan.person.tolist(), plan.is_bot.astype(int).tolist(), strict=True), 1
            )
        ],
    )


def write_memberships(con: sqlite3.Connection, shape: Shape, plan: Plan) -> None:
    """Membership rows; the first spell of each group is its owner, 1% are admins."""
    rng = np.random.default_rng(shape.seed + 1)
    m = plan.group.size
    first = np.zeros(m, dtype=bool)
    first[np.unique(plan.group, return_index=True)[1]] = True
    role = np.where(first, "owner", np.where(rng.random(m) < 0.01, "admin", "member"))
    left = plan.end < shape.days
    us = 10**6
    joined = (START + plan.start.astype("int64") * DAY + plan.joined_s) * us
    left_at = (START + plan.end.astype("int64") * DAY + rng.integers(0, DAY, size=m)) * us
    reason = np.where(rng.random(m) < 0.75, "leave", "remove")
    source = np.array(["invite", "link", "qr", None], dtype=object)[rng.integers(0, 4, size=m)]
    inviter = np.where(source == "invite", rng.integers(1, shape.members + 1, size=m), 0)
    rows = zip(
        range(1, m + 1),
        plan.group.tolist(),
        plan.account.tolist(),
        _stamp_or_none(joined, ~plan.before),
        _stamp_or_none(left_at, left),
        [r if lf else None for r, lf in zip(reason.tolist(), left.tolist(), strict=True)],
        [i or None for i in inviter.tolist()],
        source.tolist(),
        role.tolist(),
        strict=True,
    )
    cols = "id,community_id,account_id,joined_at,left_at,left_reason,inviter_account_id"
    _insert(con, "membership", cols + ",join_source,role", list(rows))


def write_extras(con: sqlite3.Connection, shape: Shape, plan: Plan) -> None:
    """Product attributes for 10% of persons, discussion windows for 10% of groups."""
    rng = np.random.default_rng(shape.seed + 2)
    now = _stamp(np.array([START * 10**6]))[0]
    persons = np.flatnonzero(rng.random(int(plan.person.max())) < 0.1) + 1
    _insert(
        con,
        "product_attribute",
        "person_id,usage_frequency,usage_minutes,payments,orders,updated_at",
        [
            (int(p), float(rng.integers(0, 30)), float(rng.integers(0, 600)),
             float(rng.integers(0, 2000)), int(rng.integers(0, 20)), now)
            for p in persons
        ],
    )  # fmt: skip
    groups = np.flatnonzero(rng.random(shape.groups) < 0.1) + 1
    rows = [(int(g), "0,1,2,3,4", 19 * 60 + 20, 20 * 60) for g in groups]
    _insert(con, "discussion_window", "community_id,weekdays,start_minute,end_minute", rows)


def _group_seq(group: np.ndarray, seq_base: np.ndarray) -> np.ndarray:
    """Per-group running message number of time-sorted messages, continuing from `seq_base`."""
    order = np.argsort(group, kind="stable")
    g = group[order]
    first = np.unique(g, return_index=True)[1]
    counts = np.diff(np.append(first, g.size))
    within = np.arange(g.size) - np.repeat(first, counts)
    seq = np.empty_like(group)
    seq[order] = seq_base[g] + within + 1
    seq_base += np.bincount(group, minlength=seq_base.size)
    return seq


def _texts(rng: np.random.Generator, kind: np.ndarray, ids: np.ndarray, n_accounts: int):
    """Text, mentions and links: 3% check-ins, 5% mentions and 3% links among text messages."""
    n = kind.size
    text = np.array(PHRASES, dtype=object)[rng.integers(0, len(PHRASES), size=n)]
    for k, label in MEDIA_TEXT.items():
        text[kind == k] = label
    is_text = kind == "text"
    roll = rng.random(n)
    checkin = np.flatnonzero(is_text & (roll < 0.03))
    text[checkin] = [f"打卡 第{d}天" for d in rng.integers(1, 60, size=checkin.size).tolist()]
    mentions = np.full(n, None, dtype=object)
    at = np.flatnonzero(is_text & (roll >= 0.03) & (roll < 0.08))
    who = rng.integers(1, n_accounts + 1, size=at.size).tolist()
    mentions[at] = [f'["u{w}"]' for w in who]
    text[at] = [f"@成员{w} {t}" for w, t in zip(who, text[at].tolist(), strict=True)]
    links = np.full(n, None, dtype=object)
    ln = np.flatnonzero(is_text & (roll >= 0.08) & (roll < 0.11))
    urls = [f"https://example.com/p/{i}" for i in ids[ln].tolist()]
    links[ln] = [f'["{u}"]' for u in urls]
    text[ln] = [f"看看这个 {u}" for u in urls]
    return text.tolist(), mentions.tolist(), links.tolist()


def day_messages(
    plan: Plan, shape: Shape, d: int, n: int, state: dict, rng, shift: int = 0
) -> list[tuple]:
    """`n` message rows by the members of day `d` (sent `shift` days later), in time order, ids
    and per-group numbers continuing from `state`."""
    alive = (plan.start <= d) & (d < plan.end) & (d < plan.quiet)
    cum = np.cumsum(plan.weight * alive)
    if n == 0 or cum[-1] == 0:
        return []
    spell = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    group, account = plan.group[spell], plan.account[spell]
    local = rng.choice(24, size=n, p=HOURS / HOURS.sum()) * 3600 + rng.integers(0, 3600, size=n)
    t = (local - plan.offset_h[group - 1] * 3600) % DAY
    joined_today = ~plan.before[spell] & (plan.start[spell] == d)
    js = plan.joined_s[spell]
    t = np.where(joined_today, js + t * (DAY - js) // DAY, t)
    us = (START + (d + shift) * DAY + t) * 10**6 + rng.integers(0, 10**6, size=n)
    order = np.argsort(us, kind="stable")
    group, account, us = group[order], account[order], us[order]
    ids = state["next_id"] + np.arange(n)
    state["next_id"] += n
    seq = _group_seq(group, state["seq"])
    back = np.minimum(seq - 1, rng.geometric(0.25, size=n))
    reply = (rng.random(n) < 0.2) & (back > 0)
    reply_to = [str(s - b) if r else None for s, b, r in zip(seq, back, reply, strict=True)]
    kind = np.array(["text", "media", "sticker", "file"])[
        rng.choice(4, size=n, p=(0.85, 0.07, 0.05, 0.03))
    ]
    text, mentions, links = _texts(rng, kind, ids, shape.members)
    deleted = (rng.random(n) < 0.002).astype(int)
    return list(
        zip(ids.tolist(), group.tolist(), seq.astype(str).tolist(), account.tolist(), _stamp(us),
            kind.tolist(), text, reply_to, mentions, links, deleted.tolist(), [0] * n,
            strict=True)
    )  # fmt: skip


MESSAGE_COLS = (
    "id,community_id,platform_msg_id,account_id,sent_at,kind,text,reply_to,mentions,links,"
    "deleted,forwarded"
)


def _reactions(rows: list[tuple], rng: np.random.Generator, n_accounts: int) -> list[tuple]:
    """1% of messages get a reaction from some account."""
    picked = np.flatnonzero(rng.random(len(rows)) < 0.01)
    who = rng.integers(1, n_accounts + 1, size=picked.size).tolist()
    emoji = rng.choice(["👍", "❤️", "😂"], size=picked.size).tolist()
    return [
        (rows[i][1], rows[i][2], w, str(w), e, 1, rows[i][4])
        for i, w, e in zip(picked.tolist(), who, emoji, strict=True)
    ]


def write_messages(con: sqlite3.Connection, shape: Shape, plan: Plan) -> int:
    """All messages, day by day (growing over the year, quieter on weekends); returns count."""
    rng = np.random.default_rng(shape.seed + 3)
    d = np.arange(shape.days)
    weekend = ((d + START // DAY + 3) % 7) >= 5
    f = (0.7 + 0.6 * d / max(shape.days - 1, 1)) * np.where(weekend, 0.8, 1.0)
    per_day = rng.multinomial(shape.messages, f / f.sum())
    state = {"next_id": 1, "seq": np.zeros(shape.groups + 1, dtype=np.int64)}
    pending = 0
    con.execute("BEGIN")
    for day, n in enumerate(per_day.tolist()):
        rows = day_messages(plan, shape, day, n, state, rng)
        _insert(con, "message", MESSAGE_COLS, rows)
        cols = "community_id,platform_msg_id,account_id,reactor_key,emoji,count,reacted_at"
        _insert(con, "reaction", cols, _reactions(rows, rng, shape.members))
        pending += len(rows)
        if pending >= 500_000:
            con.execute("COMMIT")
            con.execute("BEGIN")
            pending = 0
    con.execute("COMMIT")
    return state["next_id"] - 1


def generate(path: Path, shape: Shape) -> int:
    """A fresh store at `path` with the whole program; returns the number of messages."""
    from shequn.store.db import make_engine, upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    plan = make_plan(shape)
    con = _sqlite(path)
    con.execute("BEGIN")
    write_people(con, shape, plan)
    write_memberships(con, shape, plan)
    write_extras(con, shape, plan)
    con.execute("COMMIT")
    # Secondary indexes are built once at the end (as a bulk import does), not row by row.
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='message' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    count = write_messages(con, shape, plan)
    for _name, sql in indexes:
        con.execute(sql)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return count


def add_messages(path: Path, shape: Shape, n: int, first_id: int) -> None:
    """`n` new messages on the day after the history ends (the incremental refresh's input)."""
    plan = make_plan(shape)
    rng = np.random.default_rng(shape.seed + 4)
    state = {"next_id": first_id, "seq": np.zeros(shape.groups + 1, dtype=np.int64)}
    rows = day_messages(plan, shape, shape.days - 1, n, state, rng, shift=1)
    # New platform ids; their replies point at the groups' first messages.
    rows = [(r[0], r[1], f"new{r[0]}", *r[3:]) for r in rows]
    con = _sqlite(path)
    con.execute("BEGIN")
    _insert(con, "message", MESSAGE_COLS, rows)
    con.execute("COMMIT")
    con.close()


def remove_messages_after(path: Path, last_id: int) -> None:
    """Back to the generated store: drop messages added after it (by an earlier run too)."""
    con = _sqlite(path)
    con.execute("DELETE FROM message WHERE id > ?", (last_id,))
    con.close()
