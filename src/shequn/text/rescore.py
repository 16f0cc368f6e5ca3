"""Re-scoring: a group's labelled messages after its theme or keywords changed.

Enrichment (text/enrich.py) labels each message once, with the group's theme of that moment. When
the operator sets a new theme description or new keywords, the two theme-dependent labels of the
messages already labelled go stale: `theme_score` (ThemeModel) and `offtopic` (detect_offtopic
judges gossip and outside links against the keywords). This step recomputes them with
enrichment's own `label_rows` and the group's theme as enrichment reads it, and updates only
the rows whose values changed.

No row appears or vanishes: whether a message gets a row depends on its kind and on its text
being blank, never on the theme. Messages past the enrichment watermark have no row yet and are
left to enrichment, which reads the new theme. Each batch is its own transaction, so a run that
is stopped leaves every row either old or new, and running again finishes the job (rows already
new are not written again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, func, select, tuple_

from shequn.errors import InputError, NotFound
from shequn.store import schema as t
from shequn.text.enrich import LABEL_COLUMNS, Theme, group_themes, label_rows

log = logging.getLogger(__name__)

OFFTOPIC, THEME_SCORE = LABEL_COLUMNS.index("offtopic"), LABEL_COLUMNS.index("theme_score")

Change = dict[str, Any]  # bind values of one UPDATE


def rescore_group(
    store: Engine,
    community_id: int,
    *,
    batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute theme_score and offtopic of the group's labelled messages with its stored theme;
    returns how many rows changed. `progress` gets (done, total) after each batch, over the
    group's labelled messages.

    Reads in (sent_at, id) order on the (community_id, sent_at) index, `batch` at a time.
    """
    if batch < 1:
        raise InputError("batch must be at least 1", field="batch")
    with store.connect() as conn:
        theme = _theme(conn, community_id)
        total = _labelled(conn, community_id)
    done = changed = 0
    after: tuple[datetime, int] | None = None
    while True:
        with store.connect() as conn:
            rows = _read(conn, community_id, after, batch)
        if not rows:
            break
        updates = _changes(rows, theme)
        if updates:
            with store.begin() as conn:
                _write(conn, updates)
        after = (rows[-1].sent_at, rows[-1].id)
        done += len(rows)
        changed += len(updates)
        if progress is not None:
            progress(done, total)
    log.info("group %d re-scored: %d labelled messages, %d changed", community_id, done, changed)
    return changed


def _theme(conn: Connection, community_id: int) -> Theme:
    # enrichment's own reading (description else name; keywords as a JSON array), so that a
    # re-scored message and a newly enriched one get the same labels
    found = group_themes(conn, [community_id])
    if community_id not in found:
        raise NotFound(f"no group {community_id} (see `shequn groups`)")
    return found[community_id]


def _labelled(conn: Connection, community_id: int) -> int:
    query = select(func.count()).where(t.message_label.c.community_id == community_id)
    return int(conn.execute(query).scalar_one())


def _read(
    conn: Connection, community_id: int, after: tuple[datetime, int] | None, size: int
) -> Sequence[Any]:
    """The next `size` labelled messages of the group after `after` (sent_at, id)."""
    m, label = t.message.c, t.message_label.c
    query = (
        select(m.id, m.sent_at, m.kind, m.text, label.offtopic, label.theme_score)
        .join(t.message_label, label.message_id == m.id)
        .where(m.community_id == community_id)
        .order_by(m.sent_at, m.id)
        .limit(size)
    )
    if after is not None:
        query = query.where(tuple_(m.sent_at, m.id) > after)
    return conn.execute(query).all()


def _changes(rows: Sequence[Any], theme: Theme) -> list[Change]:
    """The bind values for rows whose theme-dependent labels differ from what is stored."""
    # label_rows, rule by rule over the batch as enrichment labels (0 stands for the group)
    labels = {
        label[0]: label
        for label in label_rows([(r.id, 0, r.kind, r.text or "") for r in rows], {0: theme})
    }
    out: list[Change] = []
    for row in rows:
        label = labels.get(row.id)
        if label is None:  # cannot happen for a labelled row, unless its text was blanked since
            continue
        offtopic, score = label[OFFTOPIC], label[THEME_SCORE]
        if (offtopic, score) != (row.offtopic, row.theme_score):
            out.append({"b_id": row.id, "b_offtopic": offtopic, "b_score": score})
    return out


def _write(conn: Connection, updates: list[Change]) -> None:
    label = t.message_label
    statement = (
        label.update()
        .where(label.c.message_id == bindparam("b_id"))
        .values(offtopic=bindparam("b_offtopic"), theme_score=bindparam("b_score"))
    )
    conn.execute(statement, updates)
