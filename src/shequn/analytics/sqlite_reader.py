"""Child process of `store_read`: runs queries on a SQLite file with ADBC, writes Arrow files.

Reads a JSON job on stdin: {"path": db file, "queries": {name: sql}, "out": folder}; writes
`<out>/<name>.arrow` (Arrow IPC file format) batch by batch, so memory stays bounded.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa

    job = json.load(sys.stdin)
    out = Path(job["out"])
    # One read transaction for every query: the tables come from one moment of the store.
    with adbc.connect(job["path"], autocommit=False) as conn:
        for name, sql in job["queries"].items():
            with conn.cursor() as cur:
                cur.execute(sql)
                reader = cur.fetch_record_batch()
                with (
                    pa.OSFile(str(out / f"{name}.arrow"), "wb") as sink,
                    pa.ipc.new_file(sink, reader.schema) as writer,
                ):
                    for batch in reader:
                        writer.write_batch(batch)


if __name__ == "__main__":
    main()
