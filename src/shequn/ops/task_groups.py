"""Inbox rules on a group's lists (R10, R12, R13): one task per group, not one per member.

A nudge task lists a group's slipping members (and those silent in its latest discussion) for the
week of the newest data; a prune task lists a month's prune candidates for the operator to
confirm. One task per member would flood the inbox with hundreds of items that are one action
("@ these people", "remove these people"), so each group gets one task whose detail holds the
list; the task is over when its list is empty or a newer period's list replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from shequn.ops.task_rules import MAX_LISTED, Context, LiveTask, Outcome, Situation, rule

# -- nudge slipping and silent members (R10, R12) -----------------------------------------------


def _nudge_rows(ctx: Context) -> list[dict[str, Any]]:
    """Members to nudge: slipping (up to `nudge_max_quiet_days`), or silent in the last session."""
    listed: list[dict[str, Any]] = []
    if ctx.has("slipping_members"):
        where = {"days_quiet": list(range(ctx.rules.nudge_max_quiet_days + 1))}
        for r in ctx.source.rows("slipping_members", where=where):
            listed.append({**r, "reason": "slipping", "days_quiet": r["days_quiet"]})
    if ctx.has("silent_members"):
        for r in ctx.source.rows("silent_members", where={"silent_in_last_session": True}):
            listed.append(
                {**r, "reason": "silent_in_session", "days_quiet": r["days_since_last_message"]}
            )
    return listed


def _members(rows: Iterable[Mapping[str, Any]], *extra: str) -> list[dict[str, Any]]:
    """People listed in a group task, each once, by name; at most MAX_LISTED."""
    seen: dict[int, dict[str, Any]] = {}
    for r in rows:
        entry = {
            "account_id": r["account_id"],
            "person_id": r["person_id"],
            "name": r["display_name"],
            **{k: r[k] for k in extra},
        }
        seen.setdefault(int(r["account_id"]), entry)
    return sorted(seen.values(), key=lambda e: (str(e["name"]), e["account_id"]))[:MAX_LISTED]


def _per_group(
    ctx: Context,
    kind: str,
    rows: list[dict[str, Any]],
    period: str,
    extra: tuple[str, ...],
    live: Sequence[LiveTask],
) -> Outcome:
    """One task per group listing its rows; live tasks not listed any more are over."""
    by_group: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_group.setdefault(int(r["community_id"]), []).append(r)
    out = Outcome()
    for cid, members in sorted(by_group.items()):
        listed = _members(members, *extra)
        count = len({int(r["account_id"]) for r in members})
        detail = {"group": ctx.group_name(cid), "period": period, "count": count, "members": listed}
        out.present.append(Situation(kind, f"c{cid}:{period}", cid, detail))
    now = {s.key for s in out.present}
    out.gone = {task.key for task in live if task.key not in now}
    return out


@rule("nudge")
def nudge(ctx: Context, live: Sequence[LiveTask]) -> Outcome | None:
    """One task per group and week listing the members to @; over when nobody is left to nudge."""
    if not (ctx.has("slipping_members") or ctx.has("silent_members")):
        return None
    year, week, _ = ctx.until.isocalendar()
    rows = _nudge_rows(ctx)
    return _per_group(ctx, "nudge", rows, f"{year}-W{week:02d}", ("reason", "days_quiet"), live)


# -- confirm the prune list (R13) ---------------------------------------------------------------


@rule("prune")
def prune(ctx: Context, live: Sequence[LiveTask]) -> Outcome | None:
    """One task per group for the newest prune month (this or last month); a newer month's list
    replaces an older one."""
    if not ctx.has("prune_candidates"):
        return None
    this = ctx.until.replace(day=1)
    months = [f"{this:%Y-%m}", f"{this - timedelta(days=1):%Y-%m}"]
    rows = ctx.source.rows("prune_candidates", where={"month": months})
    newest: dict[int, str] = {}
    for r in rows:
        newest[int(r["community_id"])] = max(newest.get(int(r["community_id"]), ""), r["month"])
    out = Outcome()
    for month in months:
        picked = [r for r in rows if newest[int(r["community_id"])] == r["month"] == month]
        part = _per_group(ctx, "prune", picked, month, ("missed", "opportunities"), [])
        out.present += part.present
    now = {s.key for s in out.present}
    out.gone = {task.key for task in live if task.key not in now}
    return out
