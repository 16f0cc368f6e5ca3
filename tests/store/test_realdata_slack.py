"""The real 2016 Slack workspace export, imported into the store, checked against its files."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from conftest import realdata
from shequn.importing import import_path
from shequn.store import schema as t

SYSTEM = {
    "channel_join",
    "channel_leave",
    "channel_purpose",
    "channel_topic",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "bot_add",
    "bot_remove",
    "pinned_item",
    "unpinned_item",
    "reminder_add",
    "group_join",
    "group_leave",
}


def _expected(root):
    channels = json.loads((root / "channels.json").read_text(encoding="utf-8"))
    messages: Counter[str] = Counter()
    joins = leaves = 0
    ts_min = {}
    for ch in channels:
        for day in sorted((root / ch["name"]).glob("*.json")):
            for m in json.loads(day.read_text(encoding="utf-8")):
                sub = m.get("subtype")
                joins += sub == "channel_join"
                leaves += sub == "channel_leave"
                if sub not in SYSTEM:
                    messages[ch["id"]] += 1
                    ts_min[ch["id"]] = min(ts_min.get(ch["id"], 1e12), float(m["ts"]))
    return channels, messages, joins, leaves, ts_min


def test_real_slack_export_lands_in_the_store(engine):
    root = realdata("slack/houstondatavis_2016_official_export")
    channels, messages, joins, leaves, ts_min = _expected(root)
    report = import_path(engine, root)
    assert report.format == "slack"
    assert report.counts["communities"] == len(channels) == 16
    assert report.counts["messages_added"] == sum(messages.values())
    assert report.counts["membership_events_added"] == joins + leaves == 323
    with engine.connect() as conn:
        stored = dict(
            conn.execute(
                select(t.community.c.platform_id, func.count(t.message.c.id))
                .outerjoin(t.message, t.message.c.community_id == t.community.c.id)
                .group_by(t.community.c.platform_id)
            ).all()
        )
        names = dict(conn.execute(select(t.community.c.platform_id, t.community.c.name)).all())
        first = dict(
            conn.execute(
                select(t.community.c.platform_id, func.min(t.message.c.sent_at))
                .join(t.message, t.message.c.community_id == t.community.c.id)
                .group_by(t.community.c.platform_id)
            ).all()
        )
        left = conn.execute(
            select(func.count())
            .select_from(t.membership)
            .where(t.membership.c.left_reason == "leave")
        ).scalar_one()
        actions = Counter(conn.execute(select(t.membership_event.c.action)).scalars())
    assert {c["id"]: c["name"] for c in channels} == names
    assert {k: v for k, v in stored.items() if v} == dict(messages)
    for cid, ts in ts_min.items():
        assert first[cid] == datetime.fromtimestamp(ts, tz=UTC)
    assert actions == {"join": joins, "leave": leaves}
    assert left == leaves
    # importing it again adds nothing
    again = import_path(engine, root, force=True)
    assert again.counts["messages_added"] == 0
