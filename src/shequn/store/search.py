"""The session archive (会话存档): word search over every message, Chinese included.

Text is segmented once, after import, into space-separated lower-case tokens: Chinese runs by
jieba (search mode, so 社群运营 is found by 社群 and by 运营), everything else by word. SQLite
keeps them in an FTS5 table, PostgreSQL in a GIN-indexed tsvector ('simple' configuration).
The index advances from the highest message id it has seen, so it never redoes work.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Connection, Engine, func, select, text

from shequn.store import schema as t
from shequn.store.search_workers import segment_in_workers

log = logging.getLogger(__name__)

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HAS_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


# Chat repeats its short phrases (收到, 好的, 谢谢分享, check-in templates): their words are
# kept, bounded, so that jieba, nearly all of the cost of indexing, runs once per phrase. Long
# runs seldom repeat and are not kept.
SHORT_RUN = 16


def _cut(run: str) -> tuple[str, ...]:
    return tuple(w for w in _jieba().cut_for_search(run) if w.strip())


@lru_cache(maxsize=1 << 16)
def _cut_short(run: str) -> tuple[str, ...]:
    return _cut(run)


def segment(text_: str) -> list[str]:
    """Search tokens of a text: jieba words for Chinese runs, lower-cased words otherwise."""
    if not text_:
        return []
    if not _HAS_CJK.search(text_):
        return _WORD.findall(text_.lower())
    tokens: list[str] = []
    pos = 0
    for m in _CJK.finditer(text_):
        tokens.extend(_WORD.findall(text_[pos : m.start()].lower()))
        run = m.group(0)
        tokens.extend(_cut_short(run) if len(run) <= SHORT_RUN else _cut(run))
        pos = m.end()
    tokens.extend(_WORD.findall(text_[pos:].lower()))
    return tokens


PARALLEL_FROM = 50_000  # pending messages; fewer are done here, sooner than processes start


def index_pending(
    engine: Engine,
    *,
    batch: int = 20000,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> int:
    """Add every message not yet in the search index; returns how many were added.

    Each batch commits on its own with the highest id it covers, so a stopped run resumes
    where it stopped. A large backlog (after a big import) is segmented by `workers`
    processes (default: one per core) while this one writes the index: jieba is nearly all
    of the cost and holds the GIL, so a thread would not help.
    """
    with engine.connect() as conn:
        last = _last_indexed(conn)
        pending = conn.execute(
            select(func.count()).select_from(t.message).where(t.message.c.id > last)
        ).scalar_one()
    if workers is None:
        workers = (os.cpu_count() or 1) if pending >= PARALLEL_FROM else 0
    batches = _unindexed(engine, last, batch)
    if workers < 2:
        return _write_index(
            engine, last, ((ids, segment_all(txt)) for ids, txt in batches), progress
        )
    return _write_index(engine, last, segment_in_workers(batches, workers), progress)


def segment_all(texts: list[str]) -> list[str]:
    """The index text of each message: its search tokens joined by spaces."""
    return [" ".join(segment(txt)) for txt in texts]


def _unindexed(engine: Engine, after: int, batch: int) -> Iterator[tuple[list[int], list[str]]]:
    """(ids, texts) of the messages after `after`, in id order, `batch` at a time."""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(t.message.c.id, t.message.c.text)
                .where(t.message.c.id > after)
                .order_by(t.message.c.id)
                .limit(batch)
            ).all()
        if not rows:
            return
        after = rows[-1][0]
        yield [r[0] for r in rows], [r[1] for r in rows]


def _write_index(
    engine: Engine,
    last: int,
    segmented: Iterable[tuple[list[int], list[str]]],
    progress: Callable[[int], None] | None,
) -> int:
    total = 0
    for ids, tokens in segmented:
        with engine.begin() as conn:
            if _last_indexed(conn) != last:
                log.info("another run is indexing the same messages; leaving them to it")
                return total
            _store_tokens(conn, list(zip(ids, tokens, strict=True)))
            _set_last_indexed(conn, ids[-1])
        last = ids[-1]
        total += len(ids)
        if progress is not None:
            progress(len(ids))
    return total


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        last = _last_indexed(conn)
        return int(
            conn.execute(
                select(func.count()).select_from(t.message).where(t.message.c.id > last)
            ).scalar_one()
        )


def _last_indexed(conn: Connection) -> int:
    value = conn.execute(
        select(t.search_state.c.last_message_id).where(t.search_state.c.name == "message")
    ).scalar()
    return int(value or 0)


def _set_last_indexed(conn: Connection, last: int) -> None:
    done = conn.execute(
        t.search_state.update()
        .where(t.search_state.c.name == "message")
        .values(last_message_id=last)
    )
    if done.rowcount == 0:
        conn.execute(t.search_state.insert().values(name="message", last_message_id=last))


def _store_tokens(conn: Connection, rows: list[tuple[int, str]]) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO message_fts(rowid, tokens) VALUES (?, ?)", rows)
    else:
        conn.exec_driver_sql(
            "INSERT INTO message_search(message_id, tokens) VALUES (%s, to_tsvector('simple', %s))"
            " ON CONFLICT (message_id) DO NOTHING",
            rows,
        )


@dataclass
class Hit:
    message_id: int
    community: str
    platform: str
    sender: str | None
    sent_at: datetime
    text: str
    context: list[tuple[datetime, str | None, str, bool]]  # (time, sender, text, is_hit)


def search(
    engine: Engine,
    query: str,
    *,
    group: str | None = None,
    sender: str | None = None,
    since: datetime | None = None,
    limit: int = 20,
    context: int = 2,
) -> list[Hit]:
    """Messages matching every word of `query`, newest first, each with its neighbours."""
    tokens = [tok for tok in segment(query) if tok.strip()]
    if not tokens:
        return []
    with engine.connect() as conn:
        matched = matching_ids(conn, tokens)
        m, c, a = t.message.c, t.community.c, t.account.c
        q = (
            select(m.id, m.community_id, c.name, c.platform, a.display_name, m.sent_at, m.text)
            .join(matched, matched.c.id == m.id)
            .join(t.community, t.community.c.id == m.community_id)
            .outerjoin(t.account, t.account.c.id == m.account_id)
        )
        if group:
            q = q.where((c.name == group) | (c.platform_id == group))
        if sender:
            q = q.where(
                (a.display_name == sender) | (a.platform_id == sender) | (a.username == sender)
            )
        if since is not None:
            q = q.where(m.sent_at >= since)
        rows = conn.execute(q.order_by(m.sent_at.desc()).limit(limit)).all()
        return [
            Hit(
                mid,
                cname,
                plat,
                who,
                at,
                txt,
                neighbours(conn, cid, at, mid, context) if context else [],
            )
            for mid, cid, cname, plat, who, at, txt in rows
        ]


def matching_ids(conn: Connection, tokens: list[str]) -> Any:
    """A subquery of the ids of messages holding every token."""
    if conn.dialect.name == "sqlite":
        fts = " AND ".join('"' + tok.replace('"', '""') + '"' for tok in tokens)
        sql = text("SELECT rowid AS id FROM message_fts WHERE message_fts MATCH :q")
    else:
        fts = " & ".join(_pg_lexeme(tok) for tok in tokens)
        sql = text(
            "SELECT message_id AS id FROM message_search WHERE tokens @@ to_tsquery('simple', :q)"
        )
    return sql.bindparams(q=fts).columns(id=BigInteger).subquery("matched")


def _pg_lexeme(token: str) -> str:
    return "'" + token.replace("'", "''").replace("\\", "\\\\") + "'"


def neighbours(
    conn: Connection, cid: int, at: datetime, mid: int, n: int
) -> list[tuple[datetime, str | None, str, bool]]:
    m, a = t.message.c, t.account.c
    base = (
        select(m.id, m.sent_at, a.display_name, m.text, m.kind)
        .outerjoin(t.account, t.account.c.id == m.account_id)
        .where(m.community_id == cid)
    )
    before = conn.execute(
        base.where((m.sent_at < at) | ((m.sent_at == at) & (m.id < mid)))
        .order_by(m.sent_at.desc(), m.id.desc())
        .limit(n)
    ).all()
    after = conn.execute(
        base.where((m.sent_at > at) | ((m.sent_at == at) & (m.id >= mid)))
        .order_by(m.sent_at, m.id)
        .limit(n + 1)
    ).all()
    rows = list(reversed(before)) + list(after)
    return [(r_at, who, txt or f"[{kind}]", rid == mid) for rid, r_at, who, txt, kind in rows]
