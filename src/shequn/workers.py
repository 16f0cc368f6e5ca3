"""CPU work on batches in worker processes, one per core, results in the order sent.

The caller keeps reading and writing the store while the workers run code that holds the GIL
(jieba segmentation for the search index, the text rules for enrichment). At most `AHEAD`
batches per worker are in flight, so memory stays bounded. A worker whose caller is gone (killed
with -9) notices within a second and exits, so no process is left behind; an error in a worker
is raised in the caller.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from shequn.errors import ShequnError

AHEAD = 2  # batches in flight per worker: enough to keep each busy, memory stays bounded

K = TypeVar("K")
P = TypeVar("P")
R = TypeVar("R")


def _serve(work: Callable[[Any], Any], tasks: Any, results: Any, parent: int) -> None:
    # A watchdog, not a check between batches: a caller killed while it was writing a batch
    # leaves half of it in the pipe, and the read of it would wait forever.
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    while True:
        n, payload = tasks.get()
        try:
            results.put((n, work(payload), None))
        except Exception as exc:  # reported to the caller, which raises
            results.put((n, None, f"{type(exc).__name__}: {exc}"))


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def map_in_order(
    items: Iterable[tuple[K, P]],
    work: Callable[[P], R],
    *,
    workers: int,
    what: str,
) -> Iterator[tuple[K, R]]:
    """(key, work(payload)) for each (key, payload) of `items`, in order, computed by `workers`
    processes; only the payload crosses to them. `work` must be a module-level function (it is
    pickled where processes are spawned). `what` names the work in errors ("enrichment")."""
    methods = mp.get_all_start_methods()
    mpc: Any = mp.get_context("fork" if "fork" in methods else "spawn")
    tasks, results = mpc.Queue(), mpc.Queue()
    procs = [
        mpc.Process(
            target=_serve,
            name=f"shequn-{what}",
            daemon=True,
            args=(work, tasks, results, os.getpid()),
        )
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    try:
        yield from _in_order(items, tasks, results, procs, workers * AHEAD, what)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
        for q in (tasks, results):
            q.cancel_join_thread()
            q.close()


def _in_order(
    items: Iterable[tuple[K, P]],
    tasks: Any,
    results: Any,
    procs: list[Any],
    ahead: int,
    what: str,
) -> Iterator[tuple[K, Any]]:
    keys: dict[int, K] = {}
    done: dict[int, Any] = {}
    source = iter(items)
    sent = got = 0
    while True:
        while sent - got < ahead and (item := next(source, None)) is not None:
            keys[sent] = item[0]
            tasks.put((sent, item[1]))
            sent += 1
        if got == sent:
            return
        while got not in done:
            n, value = _result(results, procs, what)
            done[n] = value
        yield keys.pop(got), done.pop(got)
        got += 1


def _result(results: Any, procs: list[Any], what: str) -> tuple[int, Any]:
    while True:
        try:
            n, value, error = results.get(timeout=1.0)
        except queue.Empty:
            dead = [p for p in procs if not p.is_alive()]
            if dead:
                raise ShequnError(
                    f"a {what} process ended unexpectedly (exit code {dead[0].exitcode})"
                ) from None
            continue
        if error is not None:
            raise ShequnError(f"a {what} process failed: {error}")
        return n, value
