"""The engines that run the metrics: DuckDB in-process (default), PostgreSQL, Apache Spark.

Each hands `Base` the same raw tables (see `analytics.base.RAW_TABLES`) as Ibis tables and runs
Ibis expressions. DuckDB keeps an incremental cache: the per-message facts and the per-day
activity are computed once per message and refreshed only for new messages (Zulip's fill state:
a watermark of the last message id read). PostgreSQL computes straight from the store's tables;
Spark reads the store's tables (or Parquet files written by `shequn analytics export`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy import Engine

from shequn.analytics import zones
from shequn.analytics.features import member_day, message_features, reply_targets
from shequn.analytics.store_read import SCHEMAS, SIGNAL_THEME_FLOOR, Snapshot, read_tables
from shequn.config import get_settings

log = logging.getLogger(__name__)
# Read whole on every refresh. message_signal and message_mention too: they are written by steps
# after import, so a message's labels may arrive after the message passed the watermark.
SMALL_TABLES = (
    "account",
    "membership",
    "reaction",
    "product_attribute",
    "discussion_window",
    "message_signal",
    "message_mention",
)
CHUNK = 500_000  # messages read per step on the first load: bounds memory
# Bump when features.message_features / member_day change columns or meaning: caches rebuild.
CACHE_LAYOUT = "layout-2"


class AnalyticsEngine(Protocol):
    name: str

    def raw(self) -> dict[str, ir.Table]: ...

    def execute(self, expr: ir.Table) -> pa.Table: ...

    def day_range(self) -> tuple[int, int] | None: ...


@dataclass
class RefreshStats:
    """What a refresh did: messages read, (group, day) pairs recomputed, seconds taken."""

    new_messages: int = 0
    days_recomputed: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


def community_table(data: pa.Table, default_tz: str) -> pa.Table:
    """The store's groups, each with a zone (its own, else `default_tz`)."""
    tz = data.column("timezone").fill_null(default_tz)
    for name in set(tz.to_pylist()):
        zones.check_zone(name)
    return data.set_column(data.schema.get_field_index("timezone"), "timezone", tz)


def _zone_table(community: pa.Table) -> pa.Table:
    return zones.zone_table(community.column("timezone").to_pylist() or ["UTC"])


class DuckDBEngine:
    """DuckDB in-process over a cache of the store (a file next to it, or in memory)."""

    name = "duckdb"

    def __init__(
        self,
        store: Engine,
        *,
        default_tz: str,
        cache: Path | None = None,
        memory_limit: str | None = None,
    ) -> None:
        self.store = store
        self.default_tz = default_tz
        self.con = ibis.duckdb.connect(
            str(cache) if cache else ":memory:",
            autoinstall_known_extensions=False,
            autoload_known_extensions=False,
            memory_limit=memory_limit or get_settings().analytics_memory_limit,
            preserve_insertion_order=False,  # lets big joins and aggregates spill to disk
            # where DuckDB spills beyond the memory limit: beside the cache file by default;
            # for an in-memory cache the system's temporary folder, never the working folder
            **({} if cache else {"temp_directory": str(Path(tempfile.gettempdir()) / "shequn")}),
        )
        if not cache:
            # DuckDB compresses table data only in a database that asks for it (and at a
            # checkpoint); a plain in-memory database keeps message_f as raw vectors, four
            # times the memory (measured on 2M messages: 313 MB against 70 MB). FSST, for the
            # platform ids, took most of the compressing time and saved little more.
            self.con.raw_sql(
                "SET disabled_compression_methods = 'fsst,dict_fsst'; "
                "ATTACH ':memory:' AS shequn_mem (COMPRESS); USE shequn_mem"
            )
        self._bounds: tuple[int, int] | None = None

    def _state(self) -> dict[str, str]:
        if "cache_state" not in self.con.list_tables():
            return {}
        rows = self.con.table("cache_state").to_pyarrow().to_pylist()
        return {r["key"]: r["value"] for r in rows}

    def _save_state(self, state: dict[str, str]) -> None:
        data = pa.table({"key": list(state), "value": list(state.values())})
        self.con.create_table("cache_state", data, overwrite=True)

    def refresh(self) -> RefreshStats:
        """Bring the cache up to the store: small tables whole, messages only the new ones."""
        t0 = time.perf_counter()
        stats = RefreshStats()
        state = self._state()
        last_id = int(state.get("last_message_id", 0))
        with Snapshot(self.store, ["community", *SMALL_TABLES], after_id=last_id) as snap:
            self._refresh_from(snap, state, stats)
        self._make_calendar()
        stats.seconds = time.perf_counter() - t0
        log.info("analytics cache refreshed: %d new messages", stats.new_messages)
        return stats

    def _refresh_from(self, snap: Snapshot, state: dict[str, str], stats: RefreshStats) -> None:
        t0 = time.perf_counter()
        small = dict(snap.tables)
        community = community_table(small.pop("community"), self.default_tz)
        self.con.create_table("community", community, overwrite=True)
        for name, data in small.items():
            self.con.create_table(name, data, overwrite=True)
        zone = _zone_table(community)
        self.con.create_table("zone", zone, overwrite=True)
        stats.phases["small_tables"] = time.perf_counter() - t0
        # What the cached rows depend on: each group's zone, and the cache's own layout.
        signature = (
            CACHE_LAYOUT
            + ";"
            + ",".join(
                f"{i}={z}"
                for i, z in zip(
                    community.column("id").to_pylist(),
                    community.column("timezone").to_pylist(),
                    strict=True,
                )
            )
        )
        last_id = int(state.get("last_message_id", 0))
        if state.get("zones") != signature or "message_f" not in self.con.list_tables():
            # A group's zone changed, so did its local days: start again from the first message.
            stats.rebuilt = True
            self._create_empty()
            if last_id:
                with Snapshot(self.store, [], after_id=0) as again:
                    last_id = self._load_messages(again, 0, stats)
                self._save_state({"last_message_id": str(last_id), "zones": signature})
                return
        last_id = self._load_messages(snap, last_id, stats)
        self._save_state({"last_message_id": str(last_id), "zones": signature})

    def _create_empty(self) -> None:
        empty = self.con.create_table(
            "message_new", pa.Table.from_pylist([], schema=SCHEMAS["message"]), overwrite=True
        )
        feats = message_features(empty, self.con.table("community"), self.con.table("zone"))
        self.con.create_table("message_f", reply_targets(feats), overwrite=True)
        self.con.create_table("member_day_all", member_day(feats), overwrite=True)

    def _load_messages(self, snap: Snapshot, last_id: int, stats: RefreshStats) -> int:
        community, zone = self.con.table("community"), self.con.table("zone")
        first_new, t0 = last_id, time.perf_counter()
        for batch in snap.messages(CHUNK):
            stats.phases["read"] = stats.phases.get("read", 0.0) + time.perf_counter() - t0
            if batch.num_rows == 0:
                continue
            t0 = time.perf_counter()
            # a temporary table: never checkpointed, so the chunk's text is not compressed for
            # nothing before the next chunk replaces it
            new = self.con.create_table("message_chunk", batch, temp=True, overwrite=True)
            feats = message_features(new, community, zone)
            self.con.insert("message_f", feats.mutate(reply_account_id=ibis.null("int64")))
            self.con.raw_sql("CHECKPOINT")  # each chunk compressed as it comes: bounds memory
            stats.new_messages += batch.num_rows
            last_id = int(batch.column("id")[-1].as_py())
            del batch
            stats.phases["features"] = stats.phases.get("features", 0.0) + time.perf_counter() - t0
            t0 = time.perf_counter()
        self.con.drop_table("message_new", force=True)  # the texts are not kept
        self.con.drop_table("message_chunk", force=True)
        if stats.new_messages:
            t0 = time.perf_counter()
            self._resolve_replies(first_new)
            stats.days_recomputed += self._refresh_member_day(first_new, stats.rebuilt)
            self.con.raw_sql("CHECKPOINT")
            stats.phases["member_day"] = time.perf_counter() - t0
        return last_id

    def _resolve_replies(self, first_new: int) -> None:
        """features.reply_targets in SQL, only where it can change: new replies, and older
        unresolved ones whose target is among the new messages (overlapping exports, any order).
        A reply whose target never came stays unresolved without being looked at again."""
        update = (
            "UPDATE message_f SET reply_account_id = t.account_id FROM message_f t "
            "WHERE message_f.reply_to IS NOT NULL AND message_f.reply_account_id IS NULL "
            "AND t.account_id IS NOT NULL AND t.community_id = message_f.community_id "
            "AND t.platform_msg_id = message_f.reply_to AND {side}.id > {first}"
        )
        # two statements, not one OR: each joins the few new rows to the rest; on a first load
        # every row is new, and the first statement alone resolves every reply it can
        for side in ("message_f", "t") if first_new else ("message_f",):
            self.con.raw_sql(update.format(side=side, first=int(first_new)))

    def _refresh_member_day(self, first_new: int, rebuilt: bool) -> int:
        """Recompute the (group, day) pairs that messages above `first_new` touch, from all
        their messages; on a rebuild, the whole table at once."""
        f = self.con.table("message_f")
        if rebuilt or first_new == 0:
            self.con.create_table("member_day_all", member_day(f), overwrite=True)
            days = f.select("community_id", "day").distinct().count()
            return int(self.con.to_pyarrow(days).as_py())
        self.con.raw_sql(
            "CREATE OR REPLACE TEMP TABLE touched AS SELECT DISTINCT community_id, day "
            f"FROM message_f WHERE id > {int(first_new)}"
        )
        self.con.raw_sql(
            "DELETE FROM member_day_all WHERE (community_id, day) IN "
            "(SELECT community_id, day FROM touched)"
        )
        touched = self.con.table("touched")
        part = f.semi_join(touched, [f.community_id == touched.community_id, f.day == touched.day])
        self.con.insert("member_day_all", member_day(part))
        return int(touched.count().to_pyarrow().as_py())

    def _make_calendar(self) -> None:
        f = self.con.table("message_f")
        lo, hi = f.day.min().to_pyarrow().as_py(), f.day.max().to_pyarrow().as_py()
        self._bounds = (lo, hi) if lo is not None else None
        first, last = _calendar_span(self._bounds)
        self.con.create_table("calendar", zones.calendar_table(first, last), overwrite=True)

    def day_range(self) -> tuple[int, int] | None:
        return self._bounds

    def raw(self) -> dict[str, ir.Table]:
        names = (*SMALL_TABLES, "community", "zone", "calendar", "message_f", "member_day_all")
        return {n: self.con.table(n) for n in names}

    def execute(self, expr: ir.Table) -> pa.Table:
        return self.con.to_pyarrow(expr)


def _calendar_span(bounds: tuple[int, int] | None) -> tuple[int, int]:
    """Every day from the first message to today, with a day of margin each side."""
    today = zones.day_number(datetime.now(UTC).date())
    if bounds is None:
        return today - 7, today + 1
    return min(bounds[0], today) - 1, max(bounds[1], today) + 1


class _ComputedEngine:
    """Shared by the engines that compute per-message facts on the fly from raw store tables."""

    name = "computed"
    con: Any
    _raw: dict[str, ir.Table]
    _bounds: tuple[int, int] | None

    def _finish(self, message: ir.Table) -> None:
        feats = message_features(message, self._raw["community"], self._raw["zone"])
        feats = reply_targets(feats)
        self._raw["message_f"] = feats
        lo_hi = self.con.to_pyarrow(feats.aggregate(lo=feats.day.min(), hi=feats.day.max()))
        lo, hi = lo_hi.column("lo")[0].as_py(), lo_hi.column("hi")[0].as_py()
        self._bounds = (lo, hi) if lo is not None else None
        first, last = _calendar_span(self._bounds)
        self._raw["calendar"] = self._put("calendar", zones.calendar_table(first, last))

    def _put(self, name: str, data: pa.Table) -> ir.Table:
        raise NotImplementedError

    def day_range(self) -> tuple[int, int] | None:
        return self._bounds

    def raw(self) -> dict[str, ir.Table]:
        return dict(self._raw)

    def execute(self, expr: ir.Table) -> pa.Table:
        return self.con.to_pyarrow(expr)


class PostgresEngine(_ComputedEngine):
    """The metrics computed inside the PostgreSQL store itself; nothing is read in bulk."""

    name = "postgres"

    def __init__(self, store: Engine, *, default_tz: str) -> None:
        from shequn.analytics import pg_compat

        pg_compat.apply()
        self.store = store
        self._dbapi = store.raw_connection()
        cur = self._dbapi.cursor()
        # The planner's estimates for literal tables set off JIT compilation costing ~25 s per
        # metric on small stores (measured); the queries run in milliseconds without it.
        cur.execute("SET jit = off")
        cur.close()
        self._dbapi.commit()
        self.con = ibis.postgres.from_connection(self._dbapi.driver_connection)
        community = community_table(read_tables(store, ["community"])["community"], default_tz)
        self._raw = {"community": self._put("community", community)}
        self._raw["zone"] = self._put("zone", _zone_table(community))
        t = self.con.table
        for name in (
            "account",
            "reaction",
            "product_attribute",
            "discussion_window",
            "message_mention",
        ):
            cols = [f.name for f in SCHEMAS[name]]
            self._raw[name] = t(name).select(*cols)
        self._raw["account"] = self._raw["account"].mutate(
            is_bot=self._raw["account"].is_bot.cast("boolean")
        )
        m = t("membership")
        self._raw["membership"] = m.select(
            *[c for c in (f.name for f in SCHEMAS["membership"]) if not c.endswith("_epoch")],
            joined_epoch=m.joined_at.epoch_seconds().cast("int64"),
            left_epoch=m.left_at.epoch_seconds().cast("int64"),
        )
        self._raw["message_signal"] = _signals(t("message_label"))
        msg = t("message").select(*[f.name for f in SCHEMAS["message"]])
        self._finish(msg)

    def _put(self, name: str, data: pa.Table) -> ir.Table:
        return self.con.create_table(f"shequn_{name}", data, temp=True, overwrite=True)

    def close(self) -> None:
        self._dbapi.close()


def _signals(label: ir.Table) -> ir.Table:
    """`store_read.SOURCES["message_signal"]` in Ibis, for the engine that reads no copy."""
    kept = (
        label.is_question
        | label.feedback.notnull()
        | label.offtopic.notnull()
        | label.is_intro
        | (label.theme_score >= SIGNAL_THEME_FLOOR)
    )
    cols = [f.name for f in SCHEMAS["message_signal"]]
    return label.filter(kept).select(*cols)


class SparkEngine(_ComputedEngine):
    """Apache Spark through Ibis's pyspark backend: a local session, or any cluster's session."""

    name = "spark"

    def __init__(
        self,
        store: Engine | None = None,
        *,
        default_tz: str,
        session: Any = None,
        parquet_dir: Path | str | None = None,
    ) -> None:
        self.session = session or local_spark_session()
        self.con = ibis.pyspark.connect(self.session)
        if parquet_dir is not None:
            tables = {n: _read_parquet(Path(parquet_dir), n) for n in SCHEMAS}
            community = tables["community"]
        else:
            assert store is not None
            tables = read_tables(store, list(SCHEMAS))
            community = community_table(tables["community"], default_tz)
        self._raw = {"community": self._put("community", community)}
        self._raw["zone"] = self._put("zone", _zone_table(community))
        for name, data in tables.items():
            if name != "community":
                self._raw[name] = self._put(name, data)
        self._finish(self._raw.pop("message"))

    def _put(self, name: str, data: pa.Table) -> ir.Table:
        # Spark 4 takes an Arrow table as it is: nullable integers stay integers (via pandas they
        # would turn into NaN floats)
        frame = self.session.createDataFrame(data, schema=_spark_schema(data.schema))
        frame.createOrReplaceTempView(f"shequn_{name}")
        return self.con.table(f"shequn_{name}")


def _read_parquet(folder: Path, name: str) -> pa.Table:
    import pyarrow.parquet as pq

    path = folder / f"{name}.parquet"
    if name in ("message_signal", "message_mention") and not path.exists():
        return SCHEMAS[name].empty_table()  # exported before labels were: no labels yet
    return pq.read_table(path)


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql import types as T

    kinds = {
        pa.int64(): T.LongType(),
        pa.string(): T.StringType(),
        pa.bool_(): T.BooleanType(),
        pa.float64(): T.DoubleType(),
    }
    return T.StructType([T.StructField(f.name, kinds[f.type], True) for f in schema])


def local_spark_session() -> Any:
    """A local Spark session in UTC, with its web UI off and few shuffle partitions."""
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("shequn")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
