"""Segmenting message texts for the search index in worker processes, one per core.

The caller keeps reading batches and writing the index; the workers run jieba, which holds
the GIL. Batches come back in the order they went out. A worker whose caller is gone (killed
with -9) notices within a second and exits, so no process is left behind.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from shequn.errors import ShequnError

AHEAD = 2  # batches in flight per worker: enough to keep each busy, memory stays bounded


def _segmenter(tasks: Any, results: Any, parent: int) -> None:
    from shequn.store.search import segment_all

    # A watchdog, not a check between batches: a caller killed while it was writing a batch
    # leaves half of it in the pipe, and the read of it would wait forever.
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    while True:
        n, texts = tasks.get()
        results.put((n, segment_all(texts)))


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _context() -> Any:
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def segment_in_workers(
    batches: Iterable[tuple[list[int], list[str]]], workers: int
) -> Iterator[tuple[list[int], list[str]]]:
    """(ids, index texts) for each (ids, texts) of `batches`, in order, segmented by `workers`
    processes. Raises ShequnError if a worker dies."""
    from shequn.store.search import _jieba

    _jieba()  # loaded once, before the fork, so that the workers share the dictionary
    mpc = _context()
    tasks, results = mpc.Queue(), mpc.Queue()
    procs = [
        mpc.Process(
            target=_segmenter,
            name="shequn-segment",
            daemon=True,
            args=(tasks, results, os.getpid()),
        )
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    try:
        yield from _in_order(batches, tasks, results, procs, workers * AHEAD)
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
        for q in (tasks, results):
            q.cancel_join_thread()
            q.close()


def _in_order(
    batches: Iterable[tuple[list[int], list[str]]],
    tasks: Any,
    results: Any,
    procs: list[Any],
    ahead: int,
) -> Iterator[tuple[list[int], list[str]]]:
    ids_of: dict[int, list[int]] = {}
    done: dict[int, list[str]] = {}
    source = iter(batches)
    sent = got = 0
    more = True
    while True:
        while more and sent - got < ahead:
            item = next(source, None)
            if item is None:
                more = False
                break
            ids_of[sent] = item[0]
            tasks.put((sent, item[1]))
            sent += 1
        if got == sent:
            return
        while got not in done:
            n, tokens = _result(results, procs)
            done[n] = tokens
        yield ids_of.pop(got), done.pop(got)
        got += 1


def _result(results: Any, procs: list[Any]) -> Any:
    while True:
        try:
            return results.get(timeout=1.0)
        except queue.Empty:
            dead = [p for p in procs if not p.is_alive()]
            if dead:
                raise ShequnError(
                    f"a search-index process ended unexpectedly (exit code {dead[0].exitcode})"
                ) from None
