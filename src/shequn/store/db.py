"""Opening the store: engine with the right pragmas, migrations to the newest schema."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from shequn.config import get_settings

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, begin transactions (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses no committed data
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache, bounded
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # The sqlite3 module begins a transaction only before INSERT/UPDATE/DELETE, so DDL such as
    # the index drops of a bulk import would commit on its own. An explicit BEGIN makes every
    # SQLAlchemy transaction a real SQLite one, DDL included (SQLAlchemy's documented recipe).
    conn.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: the configured store), SQLite tuned and its folder made."""
    url = url or get_settings().resolved_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return create_engine(url, pool_pre_ping=True)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is already there)."""
    cfg = alembic_config()
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.info("store migrated to %s", head)


_ENGINES: dict[str, Engine] = {}


def open_store(url: str | None = None) -> Engine:
    """The engine of the store at `url`, migrated; one engine per URL per process."""
    url = url or get_settings().resolved_database_url()
    engine = _ENGINES.get(url)
    if engine is None:
        engine = make_engine(url)
        upgrade(engine)
        _ENGINES[url] = engine
    return engine
