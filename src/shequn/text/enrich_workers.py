"""Enrichment in worker processes that read their own messages from the store.

The calling process hands each worker an id range, (after, last], never the texts: the worker
reads that range itself (SQLite in WAL mode lets readers run beside the one writer; PostgreSQL
has no such limit), applies the rules and sends back only the label rows. The caller keeps
writing those rows and the watermark in order (enrich.py's `_write`), so the guarantees of the
step are unchanged: one transaction per batch, resumable after kill -9, one run at a time.

Sending texts through a pipe cost the caller a pickling of every message and the workers an
unpickling of it, on the same two cores that label them; the range costs two integers.

The workers are forked: they inherit the store's engine (closed in the caller just before, so
no connection crosses the fork) and drop any pooled connection left (SQLAlchemy's recipe for
engines across fork) before opening their own. Where fork is missing,
or the store lives only in this process's memory, enrich.py sends the texts as before.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator

from sqlalchemy import Engine, func, select

from shequn.store import schema as t
from shequn.text.enrich import (
    Batch,
    Label,
    Labelled,
    Theme,
    group_themes,
    label_rows,
    read_rows,
    warm,
)
from shequn.workers import map_in_order

# What a forked worker reads: set in the caller just before the fork, so every worker has it.
_store: Engine | None = None
_store_pid = 0  # the process whose connections _store's pool holds
_themes: dict[int, Theme] = {}  # each group's theme, read once per worker and run


def reads_in_workers(store: Engine) -> bool:
    """Whether workers can read `store` themselves: they are forked, and the store is reachable
    from another process (a file or a server, not SQLite's :memory:)."""
    if "fork" not in mp.get_all_start_methods():
        return False
    if store.dialect.name != "sqlite":
        return True
    return store.url.database not in (None, "", ":memory:")


def label_ranges_in_workers(store: Engine, *, after: int, size: int, workers: int) -> Labelled:
    """(batch, its label rows) for the messages after `after`, `size` at a time in id order,
    each batch read and labelled by one of `workers` forked processes."""
    global _store, _store_pid
    warm()
    # No connection of this process open across the fork: SQLite keeps per-process lock state
    # for each open file, which a child would inherit without the locks themselves.
    store.dispose()
    _store, _store_pid = store, os.getpid()
    _themes.clear()
    try:
        ranges = ((last, (first, last)) for first, last in _ranges(store, after, size))
        for last, (messages, labels) in map_in_order(
            ranges, _label_range, workers=workers, what="enrichment"
        ):
            yield Batch(last, messages, [], {}), labels
    finally:
        _store = None


def _ranges(store: Engine, after: int, size: int) -> Iterator[tuple[int, int]]:
    """(after, last) id ranges holding `size` messages each (the last one fewer), in order:
    the `size`-th id after `after` is one index probe, not a read of the messages."""
    m = t.message.c
    while True:
        with store.connect() as conn:
            last = conn.execute(
                select(m.id).where(m.id > after).order_by(m.id).offset(size - 1).limit(1)
            ).scalar()
            if last is None:
                last = conn.execute(select(func.max(m.id)).where(m.id > after)).scalar()
        if last is None:
            return
        yield after, last
        after = last


def _label_range(bounds: tuple[int, int]) -> tuple[int, list[Label]]:
    """In a worker: (how many messages, their label rows) for the ids in (first, last]."""
    global _store_pid
    store = _store
    if store is None:  # a spawned worker: reads_in_workers said no fork, so never here
        raise RuntimeError("the enrichment store was not handed to this process")
    if _store_pid != os.getpid():
        store.dispose(close=False)  # the caller's connections stay the caller's
        _store_pid = os.getpid()
    first, last = bounds
    with store.connect() as conn:
        rows = read_rows(conn, after=first, last=last)
        wanted = {row[1] for row in rows} - _themes.keys()
        if wanted:
            _themes.update(group_themes(conn, wanted))
    return len(rows), label_rows(rows, _themes)
