"""The insights snapshot for the workspace's requests: one open snapshot per app.

Every page and API route that reads metrics takes `InsightsDep`; it is None before the first
refresh (pages then say so).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from shequn.analytics.snapshot import Insights


class SharedInsights:
    """One open snapshot per app, shared by its requests and reopened after a refresh.

    Opening a snapshot costs tens of milliseconds (a DuckDB view per table), a third of a page's
    budget, so the app keeps one. A request that started on the previous generation finishes on
    it: a replaced snapshot is closed when its last request releases it."""

    def __init__(self, store: Engine) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._current: Insights | None = None
        self._users: dict[int, int] = {}
        self._retired: dict[int, Insights] = {}

    def acquire(self) -> Insights | None:
        """The current snapshot (None before the first refresh); `release` it after use."""
        with self._lock:
            if self._current is None or self._current.stale():
                self._replace(Insights.open(self._store))
            current = self._current
            if current is not None:
                self._users[id(current)] = self._users.get(id(current), 0) + 1
            return current

    def _replace(self, fresh: Insights | None) -> None:
        old, self._current = self._current, fresh
        if old is None:
            return
        if self._users.get(id(old), 0) == 0:
            self._users.pop(id(old), None)
            old.close()
        else:
            self._retired[id(old)] = old

    def release(self, insights: Insights) -> None:
        with self._lock:
            left = self._users[id(insights)] = self._users[id(insights)] - 1
            if left == 0 and id(insights) in self._retired:
                del self._retired[id(insights)], self._users[id(insights)]
                insights.close()


_holders_lock = threading.Lock()


def open_insights(request: Request) -> Iterator[Insights | None]:
    """The app's shared snapshot for one request (see SharedInsights), or None before the
    first refresh."""
    state = request.app.state
    with _holders_lock:
        holder = getattr(state, "groups_insights", None)
        if holder is None:
            holder = state.groups_insights = SharedInsights(state.store)
    insights = holder.acquire()
    try:
        yield insights
    finally:
        if insights is not None:
            holder.release(insights)


InsightsDep = Annotated[Insights | None, Depends(open_insights)]
