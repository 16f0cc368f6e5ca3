"""Parsing in a second process while this one stores, so that an import uses both cores.

The producer runs the parser and puts batches of records (messages already in the compact
form the writer takes) on a bounded queue, so memory stays bounded while parsing runs a few
batches ahead of storing. Bad records, warnings and errors come back through the same queue;
if this process stops reading (an error, a kill), the producer is terminated or dies with it.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import os
import queue
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from shequn.errors import InputError, ShequnError
from shequn.model.records import Community, Message
from shequn.platforms.base import ParseContext, Source, get_parser
from shequn.store.message_rows import encode_message, saw, sender_fields
from shequn.store.writer import ImportWriter

log = logging.getLogger(__name__)
BATCH = 2000
QUEUED = 8  # batches in flight


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the objects alive now (modules, the engine) out of the cycle collector's scans.

    The storing process holds a large heap of imported modules; the rows it keeps alive until
    a flush get promoted and set off full collections that walk all of it. Frozen, those walk
    only what the import made (storing a million messages: about a quarter less CPU).
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _produce(
    out: Any,
    fmt: str,
    path: str,
    tz: str,
    tz_explicit: bool,
    skip_bad: bool,
    sqlite: bool,
    run_id: int | None,
) -> None:
    """The producer process: parse `path` and put batches on `out`.

    A batch is ("batch", messages, new senders, other records, bytes read); the last message
    is ("done", skipped, warnings, names seen).
    """
    read = [0]
    parent = os.getppid()

    def progress(n: int) -> None:
        read[0] += n

    def put(item: Any) -> None:
        while True:  # a parent killed with -9 never reads again: then stop, do not hang
            try:
                out.put(item, timeout=1.0)
                return
            except queue.Full:
                if os.getppid() != parent:
                    os._exit(1)

    try:
        source = Source(path)
        ctx = ParseContext(
            tz=ZoneInfo(tz), tz_explicit=tz_explicit, skip_bad=skip_bad, on_progress=progress
        )
        seen: set[str] = set()
        names: dict[tuple[str, str, str], list[Any]] = {}
        messages: list[Any] = []
        senders: dict[str, tuple[Any, ...]] = {}
        others: list[Any] = []
        for rec in get_parser(fmt)().parse(source, ctx):
            if type(rec) is not Message:
                others.append(rec)
                # the writer takes a batch's messages before its other records: a group must
                # end its batch, so that no message of the batch comes before the group itself
                if type(rec) is Community or len(others) >= BATCH:
                    put(("batch", messages, senders, others, read[0]))
                    messages, senders, others, read[0] = [], {}, [], 0
                continue
            enc = encode_message(rec, sqlite=sqlite, run_id=run_id)
            messages.append(enc)
            s = rec.sender
            if s is not None:
                if s.platform_id not in seen:
                    seen.add(s.platform_id)
                    senders[s.platform_id] = sender_fields(s)
                if s.name:
                    saw(names, (enc[0], s.platform_id, s.name), enc[2][1])
            if len(messages) >= BATCH:
                put(("batch", messages, senders, others, read[0]))
                messages, senders, others, read[0] = [], {}, [], 0
        put(("batch", messages, senders, others, read[0]))
        put(("done", ctx.skipped, ctx.warnings, names))
    except InputError as exc:
        put(("error", exc))
    except BaseException as exc:  # a bug in a parser: report it, with where
        put(("crash", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        out.close()
        out.join_thread()  # all that was put is sent before the process ends


def _next(batches: Any, proc: Any) -> Any:
    """The next message from the worker; an error if it died without a word."""
    while True:
        try:
            return batches.get(timeout=1.0)
        except queue.Empty:
            if not proc.is_alive():
                raise ShequnError(
                    f"the parsing process ended unexpectedly (exit code {proc.exitcode})"
                ) from None


def _consume(writer: ImportWriter, batches: Any, proc: Any, ctx: ParseContext, fmt: str) -> None:
    """Feed the worker's batches to `writer` until it is done (or reports an error)."""
    while True:
        msg = _next(batches, proc)
        if msg[0] == "batch":
            writer.add_batch(msg[1], msg[2])
            for record in msg[3]:
                writer.write(record)
            ctx.advance(msg[4])
        elif msg[0] == "done":
            ctx.skipped.extend(msg[1])
            ctx.warnings.extend(msg[2])
            writer.add_names(msg[3])
            return
        elif msg[0] == "error":
            raise msg[1]
        else:
            log.debug("parser crash: %s", msg[2])
            raise ShequnError(f"the {fmt} reader failed: {msg[1]}")


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def import_in_worker(
    writer: ImportWriter, fmt: str, path: str, ctx: ParseContext, tz_name: str
) -> None:
    """Parse `path` in a worker process and feed what it finds to `writer`.

    Fills `ctx.skipped` and `ctx.warnings` when done and calls `ctx.advance` as it goes;
    raises the worker's InputError, or ShequnError if the parser crashed.
    """
    mpc = _context()
    batches = mpc.Queue(maxsize=QUEUED)
    args = (
        batches,
        fmt,
        path,
        tz_name,
        ctx.tz_explicit,
        ctx.skip_bad,
        writer.dialect == "sqlite",
        writer.run_id,
    )
    proc = mpc.Process(target=_produce, name="shequn-parse", daemon=True, args=args)
    proc.start()
    try:
        with _frozen_heap():
            _consume(writer, batches, proc, ctx, fmt)
    finally:
        batches.cancel_join_thread()
        if proc.is_alive():
            proc.terminate()
        proc.join()
        batches.close()
