"""Questions and their responses: who answered, how fast, and which questions still wait.

Built on the enrichment labels (message_label.is_question, text/enrich.py). The rule, exactly as
docs/text-answers.md states it: a question is answered by
(a) the first reply to it (message.reply_to = its platform_msg_id, same group), at any time, from
    a human account other than the asker; or else
(b) the first message strictly after it in the same group, within the window, from a human
    account other than the asker, that is neither a system notice nor a reply to another message.
Bots never ask (their questions are left out) and never answer.

The window is each group's stored `community.answer_window` (minutes; DEFAULT_WINDOW_MINUTES when
unset) unless the caller passes `window_minutes`, which then holds for every group.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import (
    ColumnElement,
    Connection,
    DateTime,
    Engine,
    Integer,
    Interval,
    Select,
    Text,
    cast,
    false,
    func,
    literal,
    select,
    true,
    tuple_,
    type_coerce,
)

from shequn.errors import InputError
from shequn.store import schema as t
from shequn.store.roles import OPERATOR_ROLES

CONTEXT = 3  # messages shown before and after an unanswered question
DEFAULT_WINDOW_MINUTES = 30  # a group whose answer_window is unset

RESPONSES_SCHEMA = pa.schema(
    [
        ("message_id", pa.int64()),
        ("community_id", pa.int64()),
        ("account_id", pa.int64()),
        ("person_id", pa.int64()),
        ("display_name", pa.string()),
        ("sent_at", pa.timestamp("us", tz="UTC")),
        ("answered", pa.bool_()),
        ("answer_message_id", pa.int64()),
        ("answered_by_account_id", pa.int64()),
        ("answered_by_operator", pa.bool_()),
        ("response_seconds", pa.float64()),
        ("how", pa.string()),
    ]
)
SUMMARY_SCHEMA = pa.schema(
    [
        ("community_id", pa.int64()),
        ("questions", pa.int64()),
        ("answered", pa.int64()),
        ("unanswered_share", pa.float64()),
        ("median_response_s", pa.float64()),
        ("p90_response_s", pa.float64()),
        ("answered_by_members", pa.int64()),
        ("answered_by_operators", pa.int64()),
    ]
)
UNANSWERED_SCHEMA = pa.schema(
    [
        *[RESPONSES_SCHEMA.field(n) for n in ("message_id", "community_id", "account_id")],
        *[RESPONSES_SCHEMA.field(n) for n in ("person_id", "display_name", "sent_at")],
        ("text", pa.string()),
        ("context", pa.string()),
    ]
)


def question_responses(
    store: Engine,
    *,
    groups: Collection[int] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    window_minutes: int | None = None,
) -> pa.Table:
    """One row per question asked in [since, until) in `groups` (all when None), oldest first,
    with whether, how, by whom and how fast it was answered (RESPONSES_SCHEMA).

    `window_minutes` None: each group's stored answer window (DEFAULT_WINDOW_MINUTES when
    unset); an int holds for every group. Answers are looked for past `until`: a question asked
    just before it may be answered after. A question whose window is still open reads as
    unanswered (yet).
    """
    _check(since, until, window_minutes)
    with store.connect() as conn:
        questions = conn.execute(_questions_query(conn, groups, since, until, window_minutes))
        rows = [r._asdict() for r in questions]
        replies = _first_replies(conn, groups, since, until)
        window_ids = [r["window_id"] for r in rows if r["window_id"] and r["id"] not in replies]
        window = _messages(conn, window_ids)
        operators = _operators(conn, groups)
    out = [_response(r, replies, window, operators) for r in rows]
    return pa.Table.from_pylist(out, schema=RESPONSES_SCHEMA)


def _check(since: datetime | None, until: datetime | None, window_minutes: int | None) -> None:
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise InputError("give an aware datetime (UTC inside)", field=name)
    if window_minutes is not None and window_minutes < 0:
        raise InputError("the window cannot be negative", field="window_minutes")


def _questions_query(
    conn: Connection,
    groups: Collection[int] | None,
    since: datetime | None,
    until: datetime | None,
    window_minutes: int | None,
) -> Select[Any]:
    """The questions, each with its window in minutes and the id of its first window message
    (rule b) from an indexed LIMIT 1 subquery on (community_id, sent_at)."""
    q, label, asker, who = t.message.alias("q"), t.message_label, t.account.alias("asker"), t.person
    w, wa, group = t.message.alias("w"), t.account.alias("wa"), t.community
    minutes = _window_of(group, window_minutes)
    window_id = (
        select(w.c.id)
        .join(wa, wa.c.id == w.c.account_id)
        .where(
            w.c.community_id == q.c.community_id,
            w.c.sent_at > q.c.sent_at,
            w.c.sent_at <= _plus_minutes(conn, q.c.sent_at, minutes),
            w.c.account_id != q.c.account_id,
            wa.c.is_bot == false(),
            w.c.kind != "system",
            w.c.reply_to.is_(None),
        )
        .order_by(w.c.sent_at, w.c.id)
        .limit(1)
        .correlate(q, group)
        .scalar_subquery()
    )
    query = (
        select(
            q.c.id,
            q.c.community_id,
            q.c.account_id,
            asker.c.person_id,
            func.coalesce(asker.c.display_name, who.c.display_name).label("display_name"),
            q.c.sent_at,
            window_id.label("window_id"),
            minutes.label("window_minutes"),
        )
        .select_from(label)
        .join(q, q.c.id == label.c.message_id)
        .join(group, group.c.id == q.c.community_id)
        .join(asker, asker.c.id == q.c.account_id)
        .join(who, who.c.id == asker.c.person_id)
        .where(label.c.is_question == true(), asker.c.is_bot == false())
        .order_by(q.c.sent_at, q.c.id)
    )
    return _scope(query, q, groups, since, until)


def _scope(
    query: Select[Any],
    q: Any,
    groups: Collection[int] | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    if groups is not None:
        query = query.where(q.c.community_id.in_(list(groups)))
    if since is not None:
        query = query.where(q.c.sent_at >= since)
    if until is not None:
        query = query.where(q.c.sent_at < until)
    return query


def _window_of(group: Any, window_minutes: int | None) -> ColumnElement[Any]:
    """The window in minutes as SQL: the caller's for every group, else the group's own."""
    if window_minutes is not None:
        return literal(int(window_minutes), Integer())
    return func.coalesce(group.c.answer_window, DEFAULT_WINDOW_MINUTES)


def _plus_minutes(conn: Connection, column: Any, minutes: ColumnElement[Any]) -> ColumnElement[Any]:
    """`column` + `minutes` (an SQL integer), computed by the database so the bound stays per
    question and per group."""
    if conn.dialect.name == "postgresql":
        moved = type_coerce(column, DateTime(timezone=True))
        step = literal(timedelta(minutes=1), Interval())
        return moved + type_coerce(step * minutes, Interval())
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff"; strftime's %f has milliseconds only, so the
    # last three digits of the microseconds are carried over to compare like for like.
    modifier = literal("+").concat(cast(minutes, Text())).concat(" minutes")
    shifted = func.strftime("%Y-%m-%d %H:%M:%f", column, modifier)
    return shifted.concat(func.substr(column, 24, 3))


def _first_replies(
    conn: Connection,
    groups: Collection[int] | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[int, tuple[int, int, datetime]]:
    """question id -> (reply id, reply account, reply time) of its first human reply (rule a).

    Driven from the questions (their labels): each question finds its replies through the
    (community_id, reply_to) index, so the cost follows the questions in the period, not every
    reply in the history.
    """
    q, r, ra, label = (
        t.message.alias("q"),
        t.message.alias("r"),
        t.account.alias("ra"),
        t.message_label,
    )
    query = (
        select(q.c.id, r.c.id.label("rid"), r.c.account_id, r.c.sent_at)
        .select_from(label)
        .join(q, q.c.id == label.c.message_id)
        .join(r, (r.c.community_id == q.c.community_id) & (r.c.reply_to == q.c.platform_msg_id))
        .join(ra, ra.c.id == r.c.account_id)
        .where(
            label.c.is_question == true(),
            r.c.account_id != q.c.account_id,
            ra.c.is_bot == false(),
            r.c.kind != "system",
        )
        .order_by(q.c.id, r.c.sent_at, r.c.id)
    )
    query = _scope(query, q, groups, since, until)
    first: dict[int, tuple[int, int, datetime]] = {}
    for qid, rid, account, sent_at in conn.execute(query):
        first.setdefault(qid, (rid, account, sent_at))
    return first


def _messages(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, datetime]]:
    """id -> (account, sent_at) of the given messages, read 500 at a time."""
    m = t.message.c
    out: dict[int, tuple[int, datetime]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        for mid, account, sent_at in conn.execute(
            select(m.id, m.account_id, m.sent_at).where(m.id.in_(chunk))
        ):
            out[mid] = (account, sent_at)
    return out


def _operators(conn: Connection, groups: Collection[int] | None) -> set[tuple[int, int]]:
    """(community_id, account_id) of everyone who holds an operator role in a group."""
    ms = t.membership.c
    query = select(ms.community_id, ms.account_id).where(ms.role.in_(OPERATOR_ROLES))
    if groups is not None:
        query = query.where(ms.community_id.in_(list(groups)))
    return {(cid, aid) for cid, aid in conn.execute(query)}


def _response(
    row: dict[str, Any],
    replies: dict[int, tuple[int, int, datetime]],
    window: dict[int, tuple[int, datetime]],
    operators: set[tuple[int, int]],
) -> dict[str, Any]:
    out = {
        "message_id": row["id"],
        "community_id": row["community_id"],
        "account_id": row["account_id"],
        "person_id": row["person_id"],
        "display_name": row["display_name"],
        "sent_at": row["sent_at"],
        "answered": False,
    }
    answer, how = replies.get(row["id"]), "reply"
    if answer is None and row["window_id"] in window:
        answer, how = (row["window_id"], *window[row["window_id"]]), "window"
        if answer[2] - row["sent_at"] > timedelta(minutes=row["window_minutes"]):
            answer = None  # past the window by less than SQLite's millisecond rounding
    if answer is None:
        return out
    mid, account, sent_at = answer
    return out | {
        "answered": True,
        "answer_message_id": mid,
        "answered_by_account_id": account,
        "answered_by_operator": (row["community_id"], account) in operators,
        # a reply stamped before its question (clock skew in an export) counts as instant
        "response_seconds": max(0.0, (sent_at - row["sent_at"]).total_seconds()),
        "how": how,
    }


def response_summary(table: pa.Table) -> pa.Table:
    """Per group, from question_responses: questions, answered, unanswered_share (4 dp), the
    median and nearest-rank p90 of response_seconds over answered questions (null when none),
    and how many were answered by members and by operators (SUMMARY_SCHEMA)."""
    groups: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in table.select(
        ["community_id", "answered", "answered_by_operator", "response_seconds"]
    ).to_pylist():
        groups[row["community_id"]].append(row)
    out = []
    for cid in sorted(groups):
        rows = groups[cid]
        answered = [r for r in rows if r["answered"]]
        times = sorted(r["response_seconds"] for r in answered)
        by_operators = sum(1 for r in answered if r["answered_by_operator"])
        out.append(
            {
                "community_id": cid,
                "questions": len(rows),
                "answered": len(answered),
                "unanswered_share": round(1 - len(answered) / len(rows), 4),
                "median_response_s": median(times),
                "p90_response_s": nearest_rank(times, 90),
                "answered_by_members": len(answered) - by_operators,
                "answered_by_operators": by_operators,
            }
        )
    return pa.Table.from_pylist(out, schema=SUMMARY_SCHEMA)


def median(ordered: Sequence[float]) -> float | None:
    """The middle value of sorted values, the mean of the two middle ones for an even count."""
    n = len(ordered)
    if n == 0:
        return None
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def nearest_rank(ordered: Sequence[float], percent: float) -> float | None:
    """The nearest-rank percentile of sorted values: the value at rank ceil(percent/100 × n)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return float(ordered[rank - 1])


def unanswered_questions(
    store: Engine,
    *,
    groups: Collection[int] | None = None,
    now: datetime,
    window_minutes: int | None = None,
    limit_per_group: int | None = None,
    since: datetime | None = None,
) -> pa.Table:
    """Questions without an answer whose window has passed by `now` (sent_at + window < now),
    newest first, at most `limit_per_group` per group, each with its text and `context`: a JSON
    list of the messages around it, up to CONTEXT before, the question itself, up to CONTEXT
    after ([{message_id, sent_at, display_name, text}], oldest first) (UNANSWERED_SCHEMA).
    The window is as in `question_responses`: per group unless `window_minutes` is given."""
    if now.tzinfo is None:
        raise InputError("give an aware datetime (UTC inside)", field="now")
    _check(since, None, window_minutes)
    windows = answer_windows(store, groups=groups)
    if window_minutes is not None:
        windows = dict.fromkeys(windows, window_minutes)
    # the shortest window bounds the query; each group's own bound is applied to its rows
    shortest = min(windows.values(), default=DEFAULT_WINDOW_MINUTES)
    table = question_responses(
        store,
        groups=groups,
        since=since,
        until=now - timedelta(minutes=shortest),
        window_minutes=window_minutes,
    )
    waiting = [
        r
        for r in table.to_pylist()
        if not r["answered"]
        and r["sent_at"] < now - timedelta(minutes=windows.get(r["community_id"], shortest))
    ]
    waiting.sort(key=lambda r: (r["sent_at"], r["message_id"]), reverse=True)
    if limit_per_group is not None:
        waiting = _first_per_group(waiting, limit_per_group)
    with store.connect() as conn:
        for row in waiting:
            row["text"], row["context"] = _context(conn, row)
    names = UNANSWERED_SCHEMA.names
    return pa.Table.from_pylist([{n: r[n] for n in names} for r in waiting], UNANSWERED_SCHEMA)


def answer_windows(store: Engine, *, groups: Collection[int] | None = None) -> dict[int, int]:
    """group id -> its answer window in minutes (the stored one, else DEFAULT_WINDOW_MINUTES)."""
    c = t.community.c
    query = select(c.id, func.coalesce(c.answer_window, DEFAULT_WINDOW_MINUTES))
    if groups is not None:
        query = query.where(c.id.in_(list(groups)))
    with store.connect() as conn:
        return {int(cid): int(minutes) for cid, minutes in conn.execute(query)}


def _first_per_group(rows: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    seen: dict[int, int] = defaultdict(int)
    out = []
    for row in rows:
        if seen[row["community_id"]] < limit:
            seen[row["community_id"]] += 1
            out.append(row)
    return out


def _context(conn: Connection, row: dict[str, Any]) -> tuple[str, str]:
    """The question's text and the JSON of its conversation (two indexed LIMIT queries)."""
    m, a = t.message.c, t.account.c
    at, mid = row["sent_at"], row["message_id"]
    base = (
        select(m.id, m.sent_at, a.display_name, m.text, m.kind)
        .outerjoin(t.account, a.id == m.account_id)
        .where(m.community_id == row["community_id"])
    )
    before = conn.execute(
        base.where(m.sent_at <= at, tuple_(m.sent_at, m.id) < (at, mid))
        .order_by(m.sent_at.desc(), m.id.desc())
        .limit(CONTEXT)
    ).all()
    after = conn.execute(
        base.where(m.sent_at >= at, tuple_(m.sent_at, m.id) >= (at, mid))
        .order_by(m.sent_at, m.id)
        .limit(CONTEXT + 1)
    ).all()
    shown = [
        {
            "message_id": rid,
            "sent_at": sent_at.isoformat(),
            "display_name": name,
            "text": text or f"[{kind}]",
        }
        for rid, sent_at, name, text, kind in [*reversed(before), *after]
    ]
    question_text = next(s["text"] for s in shown if s["message_id"] == mid)
    return question_text, orjson.dumps(shown).decode()
