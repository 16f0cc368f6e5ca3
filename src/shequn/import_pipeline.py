"""Parsing in a second process while this one stores, so that an import uses both cores.

The producer runs the parser and sends batches of records (messages already in the compact
form the writer takes) through a pipe; the pipe holds one batch at a time, so memory stays
bounded. Bad records, warnings and errors come back with the batches; if this process stops
reading (an error, a kill), the producer is terminated or dies of the broken pipe.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import pickle
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any
from zoneinfo import ZoneInfo

from shequn.errors import InputError, ShequnError
from shequn.model.records import Message
from shequn.platforms.base import ParseContext, Source, get_parser
from shequn.store.writer import encode_message

log = logging.getLogger(__name__)
BATCH = 2000


def _produce(
    out: Connection, fmt: str, path: str, tz: str, tz_explicit: bool, skip_bad: bool, sqlite: bool
) -> None:
    """The producer process: parse `path` and send ("batch", items, bytes_read) messages."""
    read = [0]

    def progress(n: int) -> None:
        read[0] += n

    try:
        source = Source(path)
        ctx = ParseContext(
            tz=ZoneInfo(tz), tz_explicit=tz_explicit, skip_bad=skip_bad, on_progress=progress
        )
        batch: list[Any] = []
        for rec in get_parser(fmt)().parse(source, ctx):
            batch.append(encode_message(rec, sqlite=sqlite) if type(rec) is Message else rec)
            if len(batch) >= BATCH:
                out.send_bytes(pickle.dumps(("batch", batch, read[0]), protocol=5))
                batch, read[0] = [], 0
        out.send_bytes(pickle.dumps(("batch", batch, read[0]), protocol=5))
        out.send_bytes(pickle.dumps(("done", ctx.skipped, ctx.warnings), protocol=5))
    except InputError as exc:
        out.send_bytes(pickle.dumps(("error", exc), protocol=5))
    except BrokenPipeError:  # the importing process is gone
        pass
    except BaseException as exc:  # a bug in a parser: report it, with where
        out.send_bytes(
            pickle.dumps(
                ("crash", f"{type(exc).__name__}: {exc}", traceback.format_exc()), protocol=5
            )
        )
    finally:
        out.close()


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def parse_in_worker(
    fmt: str, path: str, ctx: ParseContext, tz_name: str, *, sqlite: bool
) -> Iterator[Any]:
    """Records (and encoded messages) of `path`, parsed in a worker process.

    Fills `ctx.skipped` and `ctx.warnings` when done and calls `ctx.advance` as it goes;
    raises the worker's InputError, or ShequnError if the parser crashed.
    """
    mpc = _context()
    receive, send = mpc.Pipe(duplex=False)
    proc = mpc.Process(
        target=_produce,
        name="shequn-parse",
        daemon=True,
        args=(send, fmt, path, tz_name, ctx.tz_explicit, ctx.skip_bad, sqlite),
    )
    proc.start()
    send.close()
    try:
        while True:
            try:
                msg = pickle.loads(receive.recv_bytes())
            except EOFError:
                raise ShequnError(
                    f"the parsing process ended unexpectedly (exit code {proc.exitcode})"
                ) from None
            if msg[0] == "batch":
                ctx.advance(msg[2])
                yield from msg[1]
            elif msg[0] == "done":
                ctx.skipped.extend(msg[1])
                ctx.warnings.extend(msg[2])
                return
            elif msg[0] == "error":
                raise msg[1]
            else:
                log.debug("parser crash: %s", msg[2])
                raise ShequnError(f"the {fmt} reader failed: {msg[1]}")
    finally:
        receive.close()
        if proc.is_alive():
            proc.terminate()
        proc.join()
