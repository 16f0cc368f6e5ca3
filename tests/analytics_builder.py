"""Hand-built stores for the analytics tests, and running metrics on them (the `store` fixture
in tests/conftest.py gives a fresh one).

`StoreBuilder` writes groups, people, memberships and messages straight into a fresh store (SQLite
by default; the `pg_store` fixture gives PostgreSQL), so each test states exactly the situation
whose numbers it works out by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select

from shequn.analytics.base import Base
from shequn.analytics.engines import DuckDBEngine
from shequn.analytics.run import Result, run_metric
from shequn.analytics.zones import day_number
from shequn.store import schema as t


def at(text: str, tz: str = "UTC") -> datetime:
    """'2026-03-02 19:30' in zone `tz` as an aware UTC datetime."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def day(text: str) -> int:
    """Local day number of '2026-03-02'."""
    return day_number(datetime.fromisoformat(text).date())


@dataclass
class StoreBuilder:
    """Adds rows to a store; ids are returned so tests can name them."""

    engine: Engine
    _msg_seq: int = 0
    _accounts: dict[str, int] = field(default_factory=dict)

    def group(self, name: str, *, platform: str = "telegram", tz: str | None = "UTC") -> int:
        with self.engine.begin() as c:
            return c.execute(
                t.community.insert().values(
                    platform=platform, platform_id=name, name=name, timezone=tz
                )
            ).inserted_primary_key[0]

    def person(self, name: str, *, platform: str = "telegram", bot: bool = False) -> int:
        """An account (and its person) called `name`; returns the account id."""
        with self.engine.begin() as c:
            pid = c.execute(t.person.insert().values(display_name=name)).inserted_primary_key[0]
            aid = c.execute(
                t.account.insert().values(
                    platform=platform,
                    platform_id=name,
                    person_id=pid,
                    display_name=name,
                    is_bot=bot,
                )
            ).inserted_primary_key[0]
        self._accounts[name] = aid
        return aid

    def link(self, *account_ids: int) -> None:
        """Make the accounts one person (the first one's)."""
        with self.engine.begin() as c:
            pid = (
                c.execute(t.account.select().where(t.account.c.id == account_ids[0]))
                .one()
                .person_id
            )
            for aid in account_ids[1:]:
                c.execute(t.account.update().where(t.account.c.id == aid).values(person_id=pid))

    def member(
        self,
        group: int,
        account: int,
        *,
        joined: datetime | None = None,
        left: datetime | None = None,
        reason: str | None = None,
        inviter: int | None = None,
        role: str = "member",
        source: str | None = None,
    ) -> int:
        with self.engine.begin() as c:
            return c.execute(
                t.membership.insert().values(
                    community_id=group,
                    account_id=account,
                    joined_at=joined,
                    left_at=left,
                    left_reason=reason or ("leave" if left else None),
                    inviter_account_id=inviter,
                    role=role,
                    join_source=source,
                )
            ).inserted_primary_key[0]

    def say(
        self,
        group: int,
        account: int | None,
        when: datetime,
        text: str = "hi",
        *,
        kind: str = "text",
        reply_to: str | None = None,
        mentions: list[str] | None = None,
        links: list[str] | None = None,
        msg_id: str | None = None,
    ) -> str:
        """A message; returns its platform message id (for replies)."""
        self._msg_seq += 1
        pmid = msg_id or f"m{self._msg_seq}"
        with self.engine.begin() as c:
            c.execute(
                t.message.insert().values(
                    community_id=group,
                    platform_msg_id=pmid,
                    account_id=account,
                    sent_at=when,
                    kind=kind,
                    text=text,
                    reply_to=reply_to,
                    mentions=json.dumps(mentions, ensure_ascii=False) if mentions else None,
                    links=json.dumps(links) if links else None,
                )
            )
        return pmid

    def react(self, group: int, msg_id: str, account: int, emoji: str = "👍") -> None:
        with self.engine.begin() as c:
            c.execute(
                t.reaction.insert().values(
                    community_id=group,
                    platform_msg_id=msg_id,
                    account_id=account,
                    reactor_key=str(account),
                    emoji=emoji,
                    count=1,
                )
            )

    def attributes(self, person_id: int, **values: Any) -> None:
        with self.engine.begin() as c:
            c.execute(
                t.product_attribute.insert().values(
                    person_id=person_id, updated_at=datetime.now(UTC), **values
                )
            )

    def window(self, group: int, weekdays: str, start: str, end: str) -> None:
        """A discussion window, e.g. ('0,1,2,3,4', '19:20', '20:00')."""

        def minutes(hhmm: str) -> int:
            h, m = hhmm.split(":")
            return int(h) * 60 + int(m)

        with self.engine.begin() as c:
            c.execute(
                t.discussion_window.insert().values(
                    community_id=group,
                    weekdays=weekdays,
                    start_minute=minutes(start),
                    end_minute=minutes(end),
                )
            )

    def mention(self, group: int, msg_id: str, *accounts: int) -> None:
        """`message_mention` rows for message `msg_id` of `group`, as if resolved (self-mentions
        included: the resolve step drops those, the metrics must too)."""
        with self.engine.begin() as c:
            mid = c.execute(
                select(t.message.c.id).where(
                    (t.message.c.community_id == group) & (t.message.c.platform_msg_id == msg_id)
                )
            ).scalar_one()
            for account in accounts:
                c.execute(
                    t.message_mention.insert().values(
                        message_id=mid, account_id=account, community_id=group
                    )
                )

    def resolve_mentions(self) -> int:
        """Resolve the `mentions` given to `say` (names or platform ids) as a refresh does."""
        from shequn.text.mentions import resolve_pending

        return resolve_pending(self.engine)

    def label(self, group: int, msg_id: str, **values: Any) -> None:
        """A `message_label` row for message `msg_id` of `group` (what `text.enrich` writes)."""
        with self.engine.begin() as c:
            mid = c.execute(
                select(t.message.c.id).where(
                    (t.message.c.community_id == group) & (t.message.c.platform_msg_id == msg_id)
                )
            ).scalar_one()
            c.execute(t.message_label.insert().values(message_id=mid, community_id=group, **values))

    def person_of(self, account: int) -> int:
        with self.engine.begin() as c:
            return c.execute(t.account.select().where(t.account.c.id == account)).one().person_id


# Level parameters that make a week's score its message count (window 7 days, no points for days
# or repliers); bars 1 / 10 / 30, so demotion under 1 / 9 / 27 (ratio 0.9).
SIMPLE_LEVELS = {
    "window_days": 7,
    "days_weight": 0,
    "repliers_weight": 0,
    "messages_per_point": 1,
    "message_points_cap": 100,
    "contributor_bar": 10,
    "core_bar": 30,
}


def run(builder: StoreBuilder, metric: str, *, since: str, until: str, **params: Any) -> Result:
    """Run one metric on DuckDB over the builder's store for [since, until] (local days)."""
    engine = DuckDBEngine(builder.engine, default_tz="UTC")
    engine.refresh()
    base = Base(engine.raw(), since_day=day(since), until_day=day(until))
    return run_metric(metric, base, engine, params=params)


def rows(result: Result, *columns: str) -> list[tuple]:
    """The result's rows as tuples of `columns` (all columns when none are named)."""
    names = columns or tuple(result.table.column_names)
    return [tuple(r[c] for c in names) for r in result.rows()]
