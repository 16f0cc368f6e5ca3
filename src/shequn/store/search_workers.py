"""Segmenting message texts for the search index in worker processes, one per core.

The caller keeps reading batches and writing the index; the workers run jieba, which holds
the GIL (the process pool is shequn.workers.map_in_order).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shequn.workers import map_in_order


def _segment(texts: list[str]) -> list[str]:
    from shequn.store.search import segment_all

    return segment_all(texts)


def segment_in_workers(
    batches: Iterable[tuple[list[int], list[str]]], workers: int
) -> Iterator[tuple[list[int], list[str]]]:
    """(ids, index texts) for each (ids, texts) of `batches`, in order, segmented by `workers`
    processes. Raises ShequnError if a worker dies."""
    from shequn.store.search import _jieba

    _jieba()  # loaded once, before the fork, so that the workers share the dictionary
    return map_in_order(batches, _segment, workers=workers, what="search-index")
