"""Deriving inbox tasks from the insights (issue 5; R10–R13, R17): one rule per task kind.

A rule reads the insights (the snapshot, or a small in-memory source in tests) and the store and
says two things: the situations that exist now (each is one task: kind + key) and which of the
live (open or snoozed) tasks of its kind are over because their situation resolved. A live task
that is neither — its situation has only aged out of the look-back window — stays as it is: the
operator still has to handle it. `shequn.ops.tasks.sync_tasks` writes what the rules say.

Rules are registered in `RULES` (a registry, like the metrics): adding a kind is adding a function.
Every window ends at `as_of`, the end of the newest day of data (`source.until`), so an imported
old history still gets an inbox. Exact rules per kind: docs/inbox.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, select

from shequn.analytics.zones import day_date, day_number
from shequn.store import schema as t
from shequn.store.roles import OPERATOR_ROLES

SNIPPET = 280  # characters of a message kept in a task's detail
MAX_LISTED = 200  # members / people listed in one task's detail (the count is always whole)


class InsightSource(Protocol):
    """What the rules read: `shequn.analytics.snapshot.Insights`, or an in-memory stand-in."""

    @property
    def until(self) -> date: ...

    def rows(
        self,
        name: str,
        *,
        groups: Collection[int] | None = None,
        where: Mapping[str, Any] | None = None,
        order_by: Sequence[str] | None = None,
        desc: bool = False,
        limit: int | None = None,
        offset: int = 0,
        lang: str = "en",
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class InboxRules:
    """The look-back windows (days ending on the newest day of data); defaults from issue 5."""

    welcome_days: int = 3
    followup_days: int = 14
    offtopic_days: int = 7
    feedback_days: int = 30
    # slipping members quiet for longer than this are no longer nudged (they are prune material)
    nudge_max_quiet_days: int = 60


@dataclass(frozen=True)
class Situation:
    """One thing the operator should do; becomes (or updates) the task (kind, key)."""

    kind: str
    key: str
    community_id: int | None
    detail: dict[str, Any]
    person_id: int | None = None
    account_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class LiveTask:
    """A stored task that is open or snoozed (what a rule may declare over)."""

    id: int
    key: str
    status: str
    community_id: int | None
    detail: dict[str, Any]


@dataclass
class Outcome:
    """What a rule found: situations now, and keys of live tasks whose situation resolved."""

    present: list[Situation] = field(default_factory=list)
    gone: set[str] = field(default_factory=set)


@dataclass
class Context:
    """What every rule reads: the store connection, the insights and the windows."""

    conn: Connection
    source: InsightSource
    rules: InboxRules
    _names: dict[int, str] | None = None

    @property
    def until(self) -> date:
        return self.source.until

    @property
    def as_of(self) -> datetime:
        """The end of the newest day of data (exclusive)."""
        return datetime.combine(self.until + timedelta(days=1), time(), tzinfo=UTC)

    def has(self, name: str) -> bool:
        """Whether the source has the table; a source without `has` is assumed complete."""
        has = getattr(self.source, "has", None)
        return bool(has(name)) if callable(has) else True

    def group_name(self, community_id: int) -> str:
        if self._names is None:
            rows = self.conn.execute(select(t.community.c.id, t.community.c.name))
            self._names = {r.id: r.name for r in rows}
        return self._names.get(community_id, str(community_id))


Rule = Callable[[Context, Sequence[LiveTask]], Outcome | None]
RULES: dict[str, Rule] = {}


def rule(kind: str) -> Callable[[Rule], Rule]:
    """Register the rule that derives tasks of `kind` (None from a rule: its data is missing)."""

    def add(fn: Rule) -> Rule:
        RULES[kind] = fn
        return fn

    return add


# -- helpers ------------------------------------------------------------------------------------


def chunks(items: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """`items` in slices small enough for an IN list on every backend."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def iso(value: Any) -> str | None:
    """A datetime (as UTC), a date or a string as ISO text; None stays None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _day_iso(day: Any) -> str | None:
    return None if day is None else day_date(int(day)).isoformat()


def _in_group_now(conn: Connection, pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (community_id, account_id) pairs that have an open membership spell."""
    pairs = sorted(set(pairs))
    m, found = t.membership, set()
    for part in chunks(pairs):
        accounts = {a for _, a in part}
        q = select(m.c.community_id, m.c.account_id).where(
            m.c.account_id.in_(accounts), m.c.left_at.is_(None)
        )
        found |= {(r.community_id, r.account_id) for r in conn.execute(q)} & set(part)
    return found


def alive_messages(conn: Connection, ids: Collection[int]) -> set[int]:
    """The ids among `ids` of messages that exist and are not deleted."""
    msg, alive = t.message, set()
    for part in chunks(sorted(ids)):
        q = select(msg.c.id).where(msg.c.id.in_(part), msg.c.deleted.is_(False))
        alive |= {r.id for r in conn.execute(q)}
    return alive


def _snippets(conn: Connection, ids: Collection[int | None]) -> dict[int, str]:
    """Message texts (cut to SNIPPET characters) by id."""
    msg, out = t.message, {}
    for part in chunks(sorted({i for i in ids if i is not None})):
        for r in conn.execute(select(msg.c.id, msg.c.text).where(msg.c.id.in_(part))):
            out[r.id] = r.text[:SNIPPET]
    return out


def recent(ctx: Context, days: int) -> list[ColumnElement[bool]]:
    """Conditions on `message` for the last `days` days of data. The group condition is always
    true; it lets the (community_id, sent_at) index serve the range group by group instead of a
    scan of every message (measured on SQLite; PostgreSQL plans it the same way)."""
    msg = t.message
    return [
        msg.c.community_id.in_(select(t.community.c.id)),
        msg.c.sent_at >= ctx.as_of - timedelta(days=days),
        msg.c.sent_at < ctx.as_of,
    ]


def _account_of(key: str) -> int:
    """The account id in a key "c12:a345:…"."""
    return int(key.split(":")[1][1:])


def _whys(
    ctx: Context, name: str, where: Mapping[str, Any], keys: Sequence[str]
) -> dict[tuple[Any, ...], Any]:
    """Chinese `why` of each row of `name`, by the values of `keys` (the English comes inline)."""
    rows = ctx.source.rows(name, where=where, lang="zh")
    return {tuple(r[k] for k in keys): r.get("why") for r in rows}


# -- welcome (R10) ------------------------------------------------------------------------------


def _welcome_key(community_id: int, account_id: int, joined: datetime) -> str:
    return f"c{community_id}:a{account_id}:{joined.astimezone(UTC):%Y%m%dT%H%M%S}"


@rule("welcome")
def welcome(ctx: Context, live: Sequence[LiveTask]) -> Outcome:
    """Members (not bots, not operators) who joined in the last `welcome_days` and are still in."""
    m, a, c = t.membership, t.account, t.community
    inviter = t.account.alias("inviter")
    q = (
        select(
            m.c.community_id,
            m.c.account_id,
            m.c.joined_at,
            m.c.join_source,
            a.c.person_id,
            a.c.display_name,
            c.c.name.label("group"),
            inviter.c.display_name.label("inviter"),
        )
        .join(a, a.c.id == m.c.account_id)
        .join(c, c.c.id == m.c.community_id)
        .outerjoin(inviter, inviter.c.id == m.c.inviter_account_id)
        .where(m.c.joined_at >= ctx.as_of - timedelta(days=ctx.rules.welcome_days))
        .where(m.c.joined_at < ctx.as_of, m.c.left_at.is_(None), a.c.is_bot.is_(False))
        .where(m.c.role.not_in(OPERATOR_ROLES))
    )
    out = Outcome()
    for r in ctx.conn.execute(q):
        detail = {
            "name": r.display_name,
            "group": r.group,
            "joined_at": iso(r.joined_at),
            "join_source": r.join_source,
            "inviter": r.inviter,
        }
        key = _welcome_key(r.community_id, r.account_id, r.joined_at)
        out.present.append(
            Situation("welcome", key, r.community_id, detail, r.person_id, r.account_id)
        )
    # over when the spell they joined with has ended (they left)
    pairs = {(task.community_id, _account_of(task.key)) for task in live}
    open_keys = set()
    for part in chunks(sorted(pairs)):
        q2 = select(m.c.community_id, m.c.account_id, m.c.joined_at).where(
            m.c.account_id.in_({acc for _, acc in part}),
            m.c.left_at.is_(None),
            m.c.joined_at.is_not(None),
        )
        open_keys |= {_welcome_key(*r) for r in ctx.conn.execute(q2)}
    out.gone = {task.key for task in live if task.key not in open_keys}
    return out


# -- follow up a leaver (R10) -------------------------------------------------------------------


@rule("follow_up")
def follow_up(ctx: Context, live: Sequence[LiveTask]) -> Outcome | None:
    """Rows of `leavers` who left in the last `followup_days` and have not come back."""
    if not ctx.has("leavers"):
        return None
    last = day_number(ctx.until)
    where = {"left_day": list(range(last - ctx.rules.followup_days + 1, last + 1))}
    rows = ctx.source.rows("leavers", where=where, lang="en")
    keys = ("community_id", "account_id", "left_day")
    why_zh = _whys(ctx, "leavers", where, keys)
    back = _in_group_now(ctx.conn, ((r["community_id"], r["account_id"]) for r in rows))
    said = _snippets(ctx.conn, [r.get("last_message_id") for r in rows])
    out = Outcome()
    for r in rows:
        cid, aid = int(r["community_id"]), int(r["account_id"])
        if (cid, aid) in back:
            continue
        left = _day_iso(r["left_day"])
        detail = {
            "name": r["display_name"],
            "group": r["name"],
            "joined": _day_iso(r["joined_day"]),
            "left": left,
            "left_reason": r["left_reason"],
            "days_in_group": r["days_in_group"],
            "messages": r["messages_in_spell"],
            "last_active": _day_iso(r["last_active_day"]),
            "last_message_id": r.get("last_message_id"),
            "last_said": said.get(r.get("last_message_id") or -1),
            "why_en": r.get("why"),
            "why_zh": why_zh.get(tuple(r[k] for k in keys)),
        }
        out.present.append(
            Situation("follow_up", f"c{cid}:a{aid}:{left}", cid, detail, r["person_id"], aid)
        )
    pairs = {task.key: (task.community_id or 0, _account_of(task.key)) for task in live}
    back_now = _in_group_now(ctx.conn, pairs.values())
    out.gone = {key for key, pair in pairs.items() if pair in back_now}
    return out


# -- answer a waiting question (R10) ------------------------------------------------------------


@rule("answer")
def answer(ctx: Context, live: Sequence[LiveTask]) -> Outcome | None:
    """Every row of `unanswered_questions`; a task whose question left that list got answered."""
    if not ctx.has("unanswered_questions"):
        return None
    rows = ctx.source.rows("unanswered_questions")
    # the table carries the question's text; an older one without it is read from the store
    texts = _snippets(ctx.conn, [r["message_id"] for r in rows if r.get("text") is None])
    out = Outcome()
    for r in rows:
        mid, cid = int(r["message_id"]), int(r["community_id"])
        context = r.get("context")
        detail = {
            "name": r.get("display_name"),
            "group": ctx.group_name(cid),
            "sent_at": iso(r.get("sent_at")),
            "text": (r.get("text") or texts.get(mid) or "")[:SNIPPET],
            "context": json.loads(context) if isinstance(context, str) else context,
        }
        out.present.append(
            Situation(
                "answer", f"m{mid}", cid, detail, r.get("person_id"), r.get("account_id"), mid
            )
        )
    now = {s.key for s in out.present}
    out.gone = {task.key for task in live if task.key not in now}
    return out


# -- review off-topic posts (R8) ----------------------------------------------------------------


@rule("offtopic")
def offtopic(ctx: Context, live: Sequence[LiveTask]) -> Outcome:
    """Messages labelled off-topic in the last `offtopic_days`; over when the message is deleted."""
    label, msg, a = t.message_label, t.message, t.account
    q = (
        select(
            msg.c.id,
            msg.c.community_id,
            msg.c.account_id,
            msg.c.sent_at,
            msg.c.text,
            label.c.offtopic,
            a.c.person_id,
            a.c.display_name,
        )
        .join(label, label.c.message_id == msg.c.id)
        .outerjoin(a, a.c.id == msg.c.account_id)
        .where(label.c.offtopic.is_not(None), msg.c.deleted.is_(False))
        .where(*recent(ctx, ctx.rules.offtopic_days))
    )
    out = Outcome()
    for r in ctx.conn.execute(q):
        detail = {
            "name": r.display_name,
            "group": ctx.group_name(r.community_id),
            "sent_at": iso(r.sent_at),
            "reason": r.offtopic,
            "text": r.text[:SNIPPET],
        }
        out.present.append(
            Situation(
                "offtopic", f"m{r.id}", r.community_id, detail, r.person_id, r.account_id, r.id
            )
        )
    alive = alive_messages(ctx.conn, [int(task.key[1:]) for task in live])
    out.gone = {task.key for task in live if int(task.key[1:]) not in alive}
    return out


# The rules on group lists and on feedback live in their own modules; importing registers them.
from shequn.ops import task_feedback, task_groups  # noqa: E402, F401
