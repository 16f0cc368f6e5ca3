"""The member page's data: one person across groups and platforms, as the asking user may see it.

Who sees what: users with every group see the whole person. A leader sees a person only when one
of the person's accounts has a membership in one of the leader's groups, and then only what
belongs to those groups: the accounts that are members there, those memberships and their
events, messages there, and snapshot rows of those groups (program-wide rows such as
core_members_overall carry no group and so are left out). Person-level facts (product data, the
operators' tags and notes) are shown to everyone who may see the person.

Every query is index-backed and bounded (accounts by person, memberships by account, messages by
account and time), so the page stays fast on a store of millions of messages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Engine, Select, and_, cast, func, select
from sqlalchemy.orm import aliased

from shequn import people_notes
from shequn.analytics.metrics.members import LEVEL_LABELS
from shequn.analytics.snapshot import Insights
from shequn.analytics.zones import day_date
from shequn.errors import InputError, NotFound, PermissionDenied
from shequn.store import schema as t
from shequn.store.users import User

ACTIVITY_DAYS = 365
NAMES_PER_ACCOUNT = 50
EVENTS_LIMIT = 200
# The follow-up lists that mark a member at risk, in the order the page shows them.
AT_RISK = ("slipping_members", "silent_members", "prune_candidates", "leavers")
KOL_TABLES = ("kol_candidates", "kols")  # the KOL table, when a snapshot carries one
DAY_COLUMNS = (
    "joined_day",
    "left_day",
    "last_active_day",
    "first_seen_day",
    "last_seen_day",
    "since_day",
)


@dataclass(frozen=True)
class PersonScope:
    """A person as one user may see them: which accounts and which groups."""

    person_id: int
    display_name: str | None
    account_ids: tuple[int, ...]
    groups: frozenset[int] | None  # None: every group


def _leader_accounts(engine: Engine, person_id: int, groups: Collection[int]) -> list[int]:
    a, ms = t.account.c, t.membership.c
    q = (
        select(a.id)
        .join(t.membership, ms.account_id == a.id)
        .where(a.person_id == person_id, ms.community_id.in_(list(groups)))
        .distinct()
        .order_by(a.id)
    )
    with engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(q)]


def person_scope(engine: Engine, user: User, person_id: int) -> PersonScope:
    """What `user` may see of the person (NotFound, or PermissionDenied for a leader's outsider)."""
    a = t.account.c
    with engine.connect() as conn:
        name = conn.execute(select(t.person.c.display_name).where(t.person.c.id == person_id))
        found = name.first()
        if found is None:
            raise NotFound(f"no person {person_id} / 没有这个成员")
        every = conn.execute(select(a.id).where(a.person_id == person_id).order_by(a.id))
        all_accounts = [int(r[0]) for r in every]
    if user.groups is None:
        return PersonScope(person_id, found[0], tuple(all_accounts), None)
    seen = _leader_accounts(engine, person_id, user.groups)
    if not seen:
        raise PermissionDenied("not a member of your groups / 不是你负责的群的成员")
    return PersonScope(person_id, None, tuple(seen), frozenset(user.groups))


def _in_groups(column: Any, groups: frozenset[int] | None) -> Any:
    return column.in_(sorted(groups)) if groups is not None else True


def accounts(engine: Engine, scope: PersonScope) -> list[dict[str, Any]]:
    """The visible accounts: platform, ids, current name, and every name seen over time."""
    a, n = t.account.c, t.account_name.c
    ids = list(scope.account_ids)
    with engine.connect() as conn:
        rows = conn.execute(
            select(a.id, a.platform, a.platform_id, a.display_name, a.username, a.is_bot)
            .where(a.id.in_(ids))
            .order_by(a.id)
        ).all()
        names = conn.execute(
            select(n.account_id, n.name, n.first_seen, n.last_seen)
            .where(n.account_id.in_(ids))
            .order_by(n.account_id, n.first_seen, n.name)
        ).all()
    out = [dict(r._mapping, names=[]) for r in rows]
    by_id = {row["id"]: row for row in out}
    for acc, name, first, last in names:
        kept = by_id[acc]["names"]
        if len(kept) < NAMES_PER_ACCOUNT:
            kept.append({"name": name, "first_seen": first, "last_seen": last})
    return out


def display_name(scope: PersonScope, account_rows: list[dict[str, Any]]) -> str:
    """The person's name; for a leader the name of a visible account, never another group's."""
    names = [r["display_name"] or r["username"] or r["platform_id"] for r in account_rows]
    if scope.groups is None and scope.display_name:
        return scope.display_name
    return next((n for n in names if n), f"#{scope.person_id}")


def memberships(engine: Engine, scope: PersonScope) -> list[dict[str, Any]]:
    """Membership spells in visible groups: joined, left (and how), inviter, source, role."""
    ms, c = t.membership.c, t.community.c
    inviter = aliased(t.account)
    q = (
        select(
            ms.id,
            ms.community_id,
            c.name.label("group"),
            c.platform,
            ms.account_id,
            ms.joined_at,
            ms.left_at,
            ms.left_reason,
            ms.join_source,
            ms.role,
            ms.inviter_account_id,
            inviter.c.display_name.label("inviter"),
        )
        .join(t.community, c.id == ms.community_id)
        .outerjoin(inviter, inviter.c.id == ms.inviter_account_id)
        .where(ms.account_id.in_(scope.account_ids), _in_groups(ms.community_id, scope.groups))
        .order_by(c.name, ms.joined_at, ms.id)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def membership_events(engine: Engine, scope: PersonScope) -> list[dict[str, Any]]:
    """Join, leave and remove events in visible groups, newest first (at most 200)."""
    ev, c = t.membership_event.c, t.community.c
    actor = aliased(t.account)
    q = (
        select(
            ev.at,
            ev.action,
            ev.community_id,
            c.name.label("group"),
            ev.account_id,
            ev.source,
            ev.actor_account_id,
            actor.c.display_name.label("actor"),
        )
        .join(t.community, c.id == ev.community_id)
        .outerjoin(actor, actor.c.id == ev.actor_account_id)
        .where(ev.account_id.in_(scope.account_ids), _in_groups(ev.community_id, scope.groups))
        .order_by(ev.at.desc(), ev.id.desc())
        .limit(EVENTS_LIMIT)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def _week_start(engine: Engine, column: Any) -> Any:
    """The Monday (UTC) of a message's week, in SQL."""
    if engine.dialect.name == "sqlite":
        return func.date(column, "weekday 0", "-6 days")
    return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def activity(engine: Engine, scope: PersonScope) -> list[dict[str, Any]]:
    """Messages per week (UTC, Monday first) and group over the 365 days up to the person's last
    visible message: two index range reads on (account_id, sent_at), no table scan."""
    m, c = t.message.c, t.community.c
    where = and_(m.account_id.in_(scope.account_ids), _in_groups(m.community_id, scope.groups))
    with engine.connect() as conn:
        last = conn.execute(select(func.max(m.sent_at)).where(where)).scalar()
        if last is None:
            return []
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        week = _week_start(engine, m.sent_at).label("week")
        q: Select[Any] = (
            select(week, m.community_id, func.count().label("messages"))
            .where(where, m.sent_at >= last - timedelta(days=ACTIVITY_DAYS))
            .group_by(week, m.community_id)
        )
        rows = conn.execute(q).all()
        found = conn.execute(select(c.id, c.name).where(c.id.in_({r[1] for r in rows})))
        names: dict[int, str] = {int(i): n for i, n in found}
    out = [
        {"week": _as_date(w), "community_id": cid, "group": names.get(cid), "messages": n}
        for w, cid, n in rows
    ]
    return sorted(out, key=lambda r: (r["week"], r["community_id"]))


def product_attributes(engine: Engine, person_id: int) -> dict[str, Any] | None:
    """The operator's product data on the person, or None."""
    p = t.product_attribute.c
    with engine.connect() as conn:
        row = conn.execute(select(t.product_attribute).where(p.person_id == person_id)).first()
    return dict(row._mapping) if row is not None else None


def _with_dates(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot rows with each local day number also given as a date."""
    out = []
    for row in rows:
        item = dict(row)
        for column in DAY_COLUMNS:
            if column in item:
                value = item[column]
                item[column.replace("_day", "_date")] = (
                    day_date(value) if value is not None else None
                )
        if "week_start_day" in item:
            item["week_start"] = day_date(item["week_start_day"])
        out.append(item)
    return out


def _rows(
    ins: Insights, name: str, scope: PersonScope, lang: str, **kw: Any
) -> list[dict[str, Any]]:
    if not ins.has(name):
        return []
    where = {"person_id": scope.person_id, **kw.pop("where", {})}
    return _with_dates(ins.rows(name, groups=scope.groups, where=where, lang=lang, **kw))


def level_label(level: str | None, lang: str) -> str:
    """An engagement level's label in `lang` (the key itself when unknown)."""
    if level is None:
        return ""
    return LEVEL_LABELS.get(level, {}).get(lang, level)


def insights_for(ins: Insights | None, scope: PersonScope, lang: str) -> dict[str, Any]:
    """The person's snapshot rows: levels, level changes with reasons, stats, core, KOL, at risk."""
    empty: dict[str, Any] = {
        "levels": [],
        "level_changes": [],
        "stats": [],
        "core": [],
        "core_overall": [],
        "kol": [],
        "at_risk": [],
    }
    if ins is None:
        return empty
    changes = _rows(
        ins, "level_history", scope, lang, where={"changed": True}, order_by=["week"], desc=True
    )
    at_risk = [{"list": name, **row} for name in AT_RISK for row in _rows(ins, name, scope, lang)]
    kol = next((_rows(ins, n, scope, lang) for n in KOL_TABLES if ins.has(n)), [])
    return {
        "levels": _rows(ins, "member_levels", scope, lang),
        "level_changes": changes,
        "stats": _rows(ins, "member_stats", scope, lang),
        "core": _rows(ins, "core_members", scope, lang),
        "core_overall": _rows(ins, "core_members_overall", scope, lang),
        "kol": kol,
        "at_risk": at_risk,
    }


def tags_and_notes(engine: Engine, person_id: int) -> dict[str, Any]:
    """The operators' tags and notes on the person, as plain dicts."""
    return {
        "tags": [asdict(tag) for tag in people_notes.list_tags(engine, person_id)],
        "notes": [asdict(note) for note in people_notes.list_notes(engine, person_id)],
    }


def _name_groups(engine: Engine, tables: Iterable[list[dict[str, Any]]]) -> None:
    """Give every row that names a group by id its group's name too (`group`)."""
    rows = [row for table in tables for row in table if "community_id" in row]
    ids = {row["community_id"] for row in rows}
    if not ids:
        return
    c = t.community.c
    with engine.connect() as conn:
        names: dict[int, str] = {
            int(i): n for i, n in conn.execute(select(c.id, c.name).where(c.id.in_(ids)))
        }
    for row in rows:
        row.setdefault("group", names.get(row["community_id"]))


def member_profile(
    engine: Engine, ins: Insights | None, user: User, person_id: int, *, lang: str
) -> dict[str, Any]:
    """Everything the member page shows, limited to what `user` may see."""
    scope = person_scope(engine, user, person_id)
    account_rows = accounts(engine, scope)
    found = insights_for(ins, scope, lang)
    _name_groups(engine, (found["levels"], found["level_changes"], found["stats"], found["kol"]))
    return {
        "person_id": person_id,
        "display_name": display_name(scope, account_rows),
        "accounts": account_rows,
        "memberships": memberships(engine, scope),
        "events": membership_events(engine, scope),
        "activity": activity(engine, scope),
        "product": product_attributes(engine, person_id),
        **found,
        **tags_and_notes(engine, person_id),
        "snapshot_at": ins.generated_at if ins is not None else None,
    }


# The profile's tables that export as CSV (nested name lists are flattened into one cell).
CSV_TABLES = (
    "accounts",
    "memberships",
    "events",
    "activity",
    "levels",
    "level_changes",
    "stats",
    "core",
    "core_overall",
    "kol",
    "at_risk",
    "tags",
    "notes",
)


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(str(v.get("name", v)) if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def profile_csv(profile: Mapping[str, Any], table: str) -> str:
    """One of the profile's tables as CSV text (header from the first row's keys)."""
    if table not in CSV_TABLES:
        raise InputError(f"unknown table {table!r}; one of {', '.join(CSV_TABLES)}", field="table")
    rows: list[dict[str, Any]] = profile[table]
    out = io.StringIO()
    writer = csv.writer(out)
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    writer.writerow(header)
    writer.writerows([_cell(row.get(k)) for k in header] for row in rows)
    return out.getvalue()
