"""Bringing the workspace up to date after new data: labels, insights, inbox.

One function runs the three steps in order, each incremental or atomic:
1. text enrichment labels only the messages not labelled yet, and their @mentions are resolved
   to accounts (`text.mentions`), both once per message;
2. the insights snapshot (every metric, plus questions and responses) is written as a new
   generation and switched in at once, so pages never see half a refresh;
3. the inbox is synced from the new snapshot: new situations become tasks, resolved ones close.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)


# Response times describe how the groups are answered lately, not over their whole history; an
# answer task is only worth making for a question still fresh enough to answer.
RESPONSE_DAYS = 28
UNANSWERED_DAYS = 7


def question_tables(store: Engine, *, now: datetime) -> dict[str, Any]:
    """The questions-and-responses tables the snapshot carries beside the metrics."""
    from shequn.text.answers import question_responses, response_summary, unanswered_questions

    responses = question_responses(store, since=now - timedelta(days=RESPONSE_DAYS), until=now)
    return {
        "question_response": response_summary(responses),
        "unanswered_questions": unanswered_questions(
            store, now=now, since=now - timedelta(days=UNANSWERED_DAYS)
        ),
    }


def data_now(store: Engine) -> datetime:
    """'Now' for an imported history: the newest message's time, but never after the clock."""
    from sqlalchemy import func, select

    from shequn.store import schema as t

    with store.connect() as conn:
        newest = conn.execute(select(func.max(t.message.c.sent_at))).scalar()
    clock = datetime.now(UTC)
    if newest is None:
        return clock
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return min(clock, datetime.combine(newest.date(), dtime.max, tzinfo=UTC))


def refresh_workspace(
    store: Engine,
    *,
    engine_kind: str = "auto",
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Label new messages and resolve their @mentions, recompute the insights, sync the
    inbox; returns the snapshot folder."""
    from shequn.analytics.snapshot import Insights, refresh_snapshot
    from shequn.ops.tasks import sync_tasks
    from shequn.text.enrich import enrich_pending
    from shequn.text.mentions import resolve_pending

    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    labelled = enrich_pending(store)
    say(f"labelled {labelled:,} new messages / 已标注新消息 {labelled:,} 条")
    mentions = resolve_pending(store)
    say(f"resolved {mentions:,} new @mentions / 已识别新的 @提及 {mentions:,} 个")
    extra = question_tables(store, now=data_now(store))
    t1 = time.perf_counter()
    # one line per metric is for the log; the operator gets the total
    path = refresh_snapshot(store, engine_kind=engine_kind, extra=extra, progress=log.debug)
    seconds = time.perf_counter() - t1
    say(f"insights computed in {seconds:.0f} s / 分析结果已更新（{seconds:.0f} 秒）")
    insights = Insights.open(store)
    if insights is None:  # pragma: no cover - refresh_snapshot just wrote one
        raise RuntimeError("the snapshot just written cannot be opened")
    try:
        counts = sync_tasks(store, insights)
    finally:
        insights.close()
    new, gone = counts.get("created", 0), counts.get("resolved", 0)
    say(f"inbox / 待办: {new} new 新建, {gone} resolved 已解决")
    log.info("workspace refreshed in %.1f s", time.perf_counter() - t0)
    return path
