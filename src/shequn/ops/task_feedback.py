"""The feedback rule of the inbox (R17): near-duplicate feedback becomes one task with many voices.

Messages labelled feedback (defect / feature / complaint / praise) in the last `feedback_days` are
grouped per group with `group_near_duplicates`, so fifty "闪退了" are one task listing fifty message
ids and the people behind them. A task's key is the earliest message id of its first cluster and
never changes: a message already in a task stays there, and new messages join an existing task
when they are near-duplicates of its text (the task's text is put into the grouping as one more
item). Tasks the operator closed (done / dismissed) take no new voices; a new cluster starts.
Grouping is per group, so a leader's inbox never shows another group's voices.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from shequn.ops.task_rules import (
    MAX_LISTED,
    SNIPPET,
    Context,
    LiveTask,
    Outcome,
    Situation,
    alive_messages,
    chunks,
    iso,
    recent,
    rule,
)
from shequn.store import schema as t
from shequn.text.dedup import group_near_duplicates
from shequn.text.feedback import LABELS

JOINABLE = ("open", "snoozed", "resolved")  # statuses whose task takes new voices


@dataclass(frozen=True)
class Voice:
    """One feedback message."""

    id: int
    community_id: int
    text: str
    sent_at: str
    label: str
    person_id: int | None
    name: str | None


def _voices(ctx: Context) -> list[Voice]:
    """Feedback-labelled messages of the window, not deleted, in id order."""
    label, msg, a = t.message_label, t.message, t.account
    q = (
        select(
            msg.c.id,
            msg.c.community_id,
            msg.c.sent_at,
            msg.c.text,
            label.c.feedback,
            a.c.person_id,
            a.c.display_name,
        )
        .join(label, label.c.message_id == msg.c.id)
        .outerjoin(a, a.c.id == msg.c.account_id)
        .where(label.c.feedback.is_not(None), msg.c.deleted.is_(False))
        .where(*recent(ctx, ctx.rules.feedback_days))
        .order_by(msg.c.id)
    )
    return [
        Voice(
            r.id,
            r.community_id,
            r.text,
            iso(r.sent_at) or "",
            r.feedback,
            r.person_id,
            r.display_name,
        )
        for r in ctx.conn.execute(q)
    ]


def _known(ctx: Context, communities: Sequence[int]) -> dict[int, list[LiveTask]]:
    """Every feedback task (any status) of the groups, per group, oldest first."""
    task = t.task
    out: dict[int, list[LiveTask]] = {}
    for part in chunks(sorted(communities)):
        q = (
            select(task.c.id, task.c.key, task.c.status, task.c.community_id, task.c.detail)
            .where(task.c.kind == "feedback", task.c.community_id.in_(part))
            .order_by(task.c.id)
        )
        for r in ctx.conn.execute(q):
            known = LiveTask(r.id, r.key, r.status, r.community_id, json.loads(r.detail or "{}"))
            out.setdefault(r.community_id, []).append(known)
    return out


def _top_label(labels: Counter[str]) -> str:
    """The most frequent label; ties go to the more actionable one (feedback.LABELS order)."""
    return min(labels, key=lambda lab: (-labels[lab], LABELS.index(lab) if lab in LABELS else 9))


def _situation(
    ctx: Context, cid: int, base: LiveTask | None, voices: list[Voice], text: str
) -> Situation:
    """The task of a cluster: the existing task `base` with `voices` added, or a new one."""
    old = base.detail if base else {}
    ids = sorted(set(old.get("message_ids", [])) | {v.id for v in voices})
    labels = Counter(old.get("labels", {}))
    labels.update(v.label for v in voices)
    people = {p["person_id"]: p for p in old.get("people", [])}
    for v in voices:
        if v.person_id is not None:
            people.setdefault(v.person_id, {"person_id": v.person_id, "name": v.name})
    person_ids = sorted(set(old.get("person_ids", [])) | set(people))
    times = [v.sent_at for v in voices] + [old[k] for k in ("first_at", "last_at") if k in old]
    detail: dict[str, Any] = {
        "group": ctx.group_name(cid),
        "text": old.get("text") or text[:SNIPPET],
        "feedback": _top_label(labels),
        "labels": dict(sorted(labels.items())),
        "voices": len(ids),
        "people_count": len(person_ids),
        "message_ids": ids,
        "person_ids": person_ids,
        "first_at": min(times),
        "last_at": max(times),
        "people": sorted(people.values(), key=lambda p: (str(p["name"]), p["person_id"]))[
            :MAX_LISTED
        ],
    }
    key = base.key if base else f"m{ids[0]}"
    return Situation("feedback", key, cid, detail, message_id=int(key[1:]))


def _group_situations(
    ctx: Context, cid: int, voices: list[Voice], tasks: list[LiveTask]
) -> list[Situation]:
    """New voices of one group, clustered with the texts of the tasks they may join."""
    owned = {mid for task in tasks for mid in task.detail.get("message_ids", [])}
    new = {v.id: v for v in voices if v.id not in owned}
    if not new:
        return []
    cutoff = iso(ctx.as_of - timedelta(days=ctx.rules.feedback_days)) or ""
    anchors = [
        task
        for task in tasks
        if task.status in JOINABLE and task.detail.get("last_at", "") >= cutoff
    ]
    items: list[tuple[tuple[str, int], str]] = [
        (("t", i), task.detail.get("text", "")) for i, task in enumerate(anchors)
    ]
    items += [(("m", v.id), v.text) for v in new.values()]
    out = []
    for group in group_near_duplicates(items):
        mine = [new[k] for kind, k in group.keys if kind == "m"]
        if not mine:
            continue
        joins = [k for kind, k in group.keys if kind == "t"]
        base = anchors[min(joins)] if joins else None
        out.append(_situation(ctx, cid, base, mine, group.representative))
    return out


@rule("feedback")
def feedback(ctx: Context, live: Sequence[LiveTask]) -> Outcome:
    """Clusters of near-duplicate feedback per group; over when all its messages are deleted."""
    by_group: dict[int, list[Voice]] = {}
    for v in _voices(ctx):
        by_group.setdefault(v.community_id, []).append(v)
    known = _known(ctx, list(by_group))
    out = Outcome()
    for cid, voices in sorted(by_group.items()):
        out.present += _group_situations(ctx, cid, voices, known.get(cid, []))
    alive = alive_messages(ctx.conn, {m for task in live for m in task.detail["message_ids"]})
    out.gone = {
        task.key for task in live if not alive.intersection(task.detail.get("message_ids", []))
    }
    return out
