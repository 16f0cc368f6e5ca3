"""The store's tables as Parquet files: what a Spark cluster reads (`SparkEngine(parquet_dir=)`).

The files hold the same columns the engines read from the store (`store_read.SCHEMAS`), so a
cluster job needs only shequn, pyspark and the folder (on HDFS, S3 or a shared disk).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine

from shequn.analytics.store_read import SCHEMAS, Snapshot


def export_parquet(store: Engine, folder: Path) -> dict[str, Path]:
    """Write one Parquet file per table into `folder`; messages are written chunk by chunk."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    small = [name for name in SCHEMAS if name != "message"]
    with Snapshot(store, small, after_id=0) as snap:
        for name, table in snap.tables.items():
            files[name] = folder / f"{name}.parquet"
            pq.write_table(table, files[name])
        files["message"] = folder / "message.parquet"
        with pq.ParquetWriter(files["message"], SCHEMAS["message"]) as writer:
            for chunk in snap.messages():
                writer.write_table(chunk)
    return files
