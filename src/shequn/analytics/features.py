"""Per-message facts the metrics count, computed once per message (and cached where an engine can).

Written once in Ibis so DuckDB, PostgreSQL and Spark compute the same thing. Local time comes
from a `zone` table of UTC-offset spans (see `analytics.zones`), joined on the group's zone, so
no engine needs its own time-zone database and every engine agrees around midnight and DST.

Days are integers: days since 1970-01-01 in the group's zone. Weeks start on Monday:
`week = (day + 3) // 7` (1970-01-01 was a Thursday); weekday 0 is Monday.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

# Check-ins (打卡/签到, "day 12", 第12天); matched on the lower-cased text. Plain regex features
# only, understood alike by RE2 (DuckDB), PostgreSQL AREs and Java (Spark): no \b, no flags.
CHECKIN_PATTERN = r"(打卡|签到|check[ -]?in|(^|[^a-z])day ?[0-9]+|第 ?[0-9]+ ?天)"
FILE_KINDS = ("file", "media")
SECONDS_PER_DAY = 86400


def json_list_length(col: ir.StringValue) -> ir.IntegerValue:
    """Length of a JSON array of strings stored as text (mentions, links): separators + 1."""
    empty = col.isnull() | (col == "") | (col == "[]")
    n = (col.length() - col.replace('","', "").length()) // 3 + 1
    return ibis.ifelse(empty, 0, n).cast("int64")


def local_epoch(t: ir.Table, epoch: str, zone: ir.Table, tz_col: str = "tz") -> ir.Table:
    """`t` with `<epoch>_local`: the epoch shifted by its zone's UTC offset at that instant."""
    z = zone.select(z_tz="timezone", z_start="start_epoch", z_end="end_epoch", z_offset="offset_s")
    joined = t.left_join(z, [t[tz_col] == z.z_tz, t[epoch] >= z.z_start, t[epoch] < z.z_end])
    shifted = (joined[epoch] + joined.z_offset.fill_null(0)).cast("int64")
    return joined.mutate(**{f"{epoch}_local": shifted}).drop("z_tz", "z_start", "z_end", "z_offset")


def day_of(local: ir.IntegerValue) -> ir.IntegerValue:
    """Local day number (days since 1970-01-01) of a local epoch."""
    return (local // SECONDS_PER_DAY).cast("int64")


def message_features(message: ir.Table, community: ir.Table, zone: ir.Table) -> ir.Table:
    """One row per stored message with the facts the metrics use; the text itself is dropped.

    `message` has the store's columns (id, community_id, account_id, sent_at, kind, text,
    platform_msg_id, reply_to, mentions, links, deleted); sent_at may be a timestamp or the
    SQLite store's UTC text.
    """
    sent = message.sent_at
    if not sent.type().is_timestamp():
        sent = sent.cast("timestamp")
    m = message.mutate(epoch=sent.epoch_seconds().cast("int64"))
    tz = community.select(c_id="id", tz="timezone")
    m = m.join(tz, m.community_id == tz.c_id).drop("c_id")
    m = local_epoch(m, "epoch", zone)
    text = m.text.fill_null("").lower()
    day = day_of(m.epoch_local)
    return m.select(
        "id",
        "community_id",
        "account_id",
        "epoch",
        "kind",
        "platform_msg_id",
        "reply_to",
        day=day,
        hour=((m.epoch_local % SECONDS_PER_DAY) // 3600).cast("int64"),
        minute_of_day=((m.epoch_local % SECONDS_PER_DAY) // 60).cast("int64"),
        n_mentions=json_list_length(m.mentions),
        n_links=json_list_length(m.links),
        is_file=m.kind.isin(FILE_KINDS),
        is_checkin=text.re_search(CHECKIN_PATTERN) & (m.kind == "text"),
        deleted=m.deleted.cast("boolean"),
    )


def reply_targets(features: ir.Table) -> ir.Table:
    """`features` with reply_account_id: the author of the message it replies to.

    Replies point at a platform message id in the same group (maybe outside any report period).
    The DuckDB cache stores this column and fills it for new rows (and rows whose target arrived
    later) with the same rule in SQL; see `DuckDBEngine._resolve_replies`.
    """
    targets = features.select(
        t_community="community_id", t_msg="platform_msg_id", reply_account_id="account_id"
    )
    j = features.left_join(
        targets,
        [features.community_id == targets.t_community, features.reply_to == targets.t_msg],
    )
    return j.drop("t_community", "t_msg")


def member_day(features: ir.Table) -> ir.Table:
    """Activity per (group, account, local day): the fact table most metrics start from."""
    f = features.filter(features.account_id.notnull())
    return f.group_by(["community_id", "account_id", "day"]).agg(
        messages=f.count().cast("int64"),
        mentions=f.n_mentions.sum().cast("int64"),
        links=(f.n_links > 0).cast("int64").sum().cast("int64"),
        files=f.is_file.cast("int64").sum().cast("int64"),
        checkins=f.is_checkin.cast("int64").sum().cast("int64"),
        replies_given=f.reply_to.notnull().cast("int64").sum().cast("int64"),
        first_epoch=f.epoch.min(),
        last_epoch=f.epoch.max(),
    )
