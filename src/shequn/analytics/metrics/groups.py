"""Group metrics (R7): placeholder module, filled in by the group-metrics work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.registry import Metric, register


def _group_totals(b: Base, p: Mapping[str, Any]) -> ir.Table:
    md = b.member_day
    per = md.group_by("community_id").agg(
        messages=md.messages.sum().cast("int64"),
        speakers=md.account_id.nunique().cast("int64"),
        active_days=md.day.nunique().cast("int64"),
    )
    c = b.communities
    return c.left_join(per, c.community_id == per.community_id).select(
        c.community_id,
        c.name,
        c.platform,
        messages=per.messages.fill_null(0),
        speakers=per.speakers.fill_null(0),
        active_days=per.active_days.fill_null(0),
    )


register(
    Metric(
        name="group_totals",
        subject="group",
        zh="群总览",
        en="Group totals",
        description_zh="每个群在所选时段的消息数、发言人数和有发言的天数。",
        description_en="Messages, distinct speakers and days with messages per group.",
        compute=_group_totals,
        order_by=("community_id",),
    )
)
