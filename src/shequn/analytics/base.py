"""The base tables every metric is written against, built in Ibis from an engine's raw tables.

An engine (DuckDB, PostgreSQL, Spark) hands over the same raw tables (`RAW_TABLES`); `Base`
turns them into the operator's vocabulary, limited to the report period:

- `messages`: one row per message with local day/hour/week, the sender's person, bot and
  operator flags, whether it is UGC, and the account it replies to;
- `member_day`: activity per group, account and local day;
- `spells`: membership spells with local join/leave days;
- `communities`, `calendar`, `reactions`, `attributes`, `windows`;
- `signals`: messages with a text label (question, feedback, off-topic, self-introduction,
  on-theme) from the enrichment step.

The period is [since_day, until_day] in local day numbers (see `analytics.features`); `until_day`
is "today" for everything that looks back (silent for N days, retention, levels).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property

import ibis
import ibis.expr.types as ir

from shequn.analytics.features import day_of, local_epoch, member_day
from shequn.store.roles import OPERATOR_ROLES  # the metrics import it from here

# What each engine provides, by name. `message_f` is `features.message_features` of the store's
# messages with `features.reply_targets` (reply_account_id); `member_day_all` (optional) is
# `features.member_day` of it, kept by engines that cache it incrementally.
RAW_TABLES = (
    "message_f",
    "account",
    "membership",
    "community",
    "reaction",
    "product_attribute",
    "discussion_window",
    "zone",
    "calendar",
    "message_signal",
    "message_mention",
)


@dataclass
class Base:
    """Base tables over one engine's raw tables and one period."""

    raw: dict[str, ir.Table]
    since_day: int
    until_day: int
    # False keeps shared intermediates as plain expressions (nothing runs until execute)
    materialize: bool = True
    _shared: dict[Hashable, ir.Table] = field(default_factory=dict, repr=False)

    def shared(self, key: Hashable, build: Callable[[], ir.Table]) -> ir.Table:
        """An intermediate table several metrics use (the member × week level grid, the
        groups' weekly health), built once per Base: the engine keeps it as a temporary table
        (Ibis `cache()`), so a report or the whole registry computes it once, not per metric.
        `key` must name everything the table depends on (metric parameters included).
        """
        if key not in self._shared:
            expr = build()
            self._shared[key] = expr.cache() if self._can_cache(expr) else expr
        return self._shared[key]

    def _can_cache(self, expr: ir.Table) -> bool:
        # Ibis's pyspark cache() does not register the literal tables (memtables) an expression
        # holds, and Spark then fails with TABLE_OR_VIEW_NOT_FOUND; Spark plans the repeated
        # parts itself, so there the intermediate stays an expression.
        if not self.materialize:
            return False
        try:
            return expr._find_backend().name != "pyspark"
        except Exception:  # an expression over literal tables only has no backend
            return False

    # -- communities, accounts ----------------------------------------------------------------
    @cached_property
    def communities(self) -> ir.Table:
        c = self.raw["community"]
        return c.select(
            community_id="id", name="name", platform="platform", timezone="timezone", kind="kind"
        )

    @cached_property
    def accounts(self) -> ir.Table:
        a = self.raw["account"]
        return a.select(
            account_id="id",
            person_id="person_id",
            is_bot=a.is_bot.cast("boolean"),
            display_name="display_name",
        )

    @cached_property
    def operators(self) -> ir.Table:
        """(community_id, account_id) of operators: owner/admin/operator roles, and bots."""
        m = self.raw["membership"]
        ops = m.filter(m.role.isin(OPERATOR_ROLES)).select("community_id", "account_id")
        return ops.distinct()

    # -- messages -----------------------------------------------------------------------------
    @cached_property
    def messages(self) -> ir.Table:
        return self._with_authors(self._period_facts())

    def _period_facts(self) -> ir.Table:
        f = self.raw["message_f"]
        return f.filter((f.day >= self.since_day) & (f.day <= self.until_day))

    def _with_authors(self, f: ir.Table) -> ir.Table:
        """Per-message facts `f` with the sender's person, bot and operator flags, week, UGC."""
        a = self.accounts
        m = f.left_join(a, f.account_id == a.account_id).drop("account_id_right")
        ops = self.operators.mutate(is_operator=ibis.literal(True))
        m = m.left_join(
            ops, [m.community_id == ops.community_id, m.account_id == ops.account_id]
        ).drop("community_id_right", "account_id_right")
        is_bot = m.is_bot.fill_null(False)
        is_operator = m.is_operator.fill_null(False)
        m = m.mutate(
            is_bot=is_bot,
            is_operator=is_operator,
            weekday=((m.day + 3) % 7).cast("int64"),
            week=((m.day + 3) // 7).cast("int64"),
            is_ugc=~is_bot & ~is_operator & m.account_id.notnull() & (m.kind != "system"),
        )
        return m

    @cached_property
    def signals(self) -> ir.Table:
        """Messages of the period that carry a text label, with their facts from `messages`.

        Labels come from the enrichment step (`message_label`, `text.enrich`); only rows with a
        signal are read (a question, a feedback class, an off-topic reason, a self-introduction,
        or a theme score at or above `store_read.SIGNAL_THEME_FLOOR`). A message not enriched
        yet has no row, so it reads as unlabelled.
        """
        s = self.raw["message_signal"].drop("community_id")  # `messages` carries it
        # the labelled messages are found first: the authors' flags are then joined to them,
        # not to every message of the period (a fifth of the rows on the benchmark)
        f = self._period_facts()
        f = f.join(s, f.id == s.message_id)
        j = self._with_authors(f)
        return j.select(
            "message_id",
            "community_id",
            "account_id",
            "person_id",
            "display_name",
            "is_bot",
            "is_operator",
            "is_ugc",
            "epoch",
            "day",
            "platform_msg_id",
            "reply_to",
            "reply_account_id",
            is_question=j.is_question.cast("boolean"),
            feedback=j.feedback,
            offtopic=j.offtopic,
            theme_score=j.theme_score.cast("float64"),
            is_intro=j.is_intro.cast("boolean"),
        )

    @cached_property
    def member_day(self) -> ir.Table:
        """Activity per (community, account, day) in the period, with person and flags."""
        md = self.raw.get("member_day_all")
        if md is None:
            md = member_day(self.raw["message_f"])
        md = md.filter((md.day >= self.since_day) & (md.day <= self.until_day))
        a = self.accounts
        return md.join(a, "account_id")

    # -- memberships --------------------------------------------------------------------------
    @cached_property
    def spells(self) -> ir.Table:
        """Membership spells with local join/leave days; null join day: member before history."""
        m = self.raw["membership"]
        tz = self.communities.select(c_id="community_id", tz="timezone")
        s = m.join(tz, m.community_id == tz.c_id).drop("c_id")
        s = local_epoch(s, "joined_epoch", self.raw["zone"])
        s = local_epoch(s, "left_epoch", self.raw["zone"])
        a = self.accounts
        s = s.join(a, "account_id")
        return s.select(
            spell_id="id",
            community_id="community_id",
            account_id="account_id",
            person_id="person_id",
            is_bot="is_bot",
            role="role",
            joined_epoch="joined_epoch",
            left_epoch="left_epoch",
            join_day=day_of(s.joined_epoch_local),
            left_day=day_of(s.left_epoch_local),
            left_reason="left_reason",
            inviter_account_id="inviter_account_id",
            join_source="join_source",
        )

    def members_on(self, day: int | ir.IntegerValue) -> ir.Table:
        """Spells of non-bot members in their group at the end of `day`."""
        s = self.spells
        joined = s.join_day.isnull() | (s.join_day <= day)
        still = s.left_day.isnull() | (s.left_day > day)
        return s.filter(joined & still & ~s.is_bot)

    # -- the rest -----------------------------------------------------------------------------
    @cached_property
    def calendar(self) -> ir.Table:
        c = self.raw["calendar"]
        return c.filter((c.day >= self.since_day) & (c.day <= self.until_day))

    @cached_property
    def reactions(self) -> ir.Table:
        """Reactions with the reacted message's author (target) and the reactor's account.

        Shared: finding each reaction's message is a join against every message (by platform
        id), the same for member_stats, funnel and kol_candidates, so it runs once.
        """
        return self.shared(("reactions", self.since_day, self.until_day), self._reactions)

    def _reactions(self) -> ir.Table:
        r = self.raw["reaction"]
        f = self.raw["message_f"]
        t = f.select(
            t_community="community_id",
            t_msg="platform_msg_id",
            target_account_id="account_id",
            day="day",
        )
        j = r.join(t, [r.community_id == t.t_community, r.platform_msg_id == t.t_msg])
        j = j.filter((j.day >= self.since_day) & (j.day <= self.until_day))
        return j.drop("t_community", "t_msg")

    @cached_property
    def attributes(self) -> ir.Table:
        return self.raw["product_attribute"]

    @cached_property
    def windows(self) -> ir.Table:
        return self.raw["discussion_window"]
