from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shequn.model.serialize import record_to_dict
from shequn.platforms.base import ParseContext, Source, get_parser

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REALDATA = SHARED / "realdata"


def realdata(rel: str) -> Path:
    """A file under ../shared/realdata, or skip the test when the checkout has none."""
    path = REALDATA / rel
    if not path.exists():
        pytest.skip(f"../shared/realdata/{rel} not present (only in the developers' workspace)")
    return path


def parse_to_dicts(fmt: str, path: Path, **ctx_kwargs) -> list[dict]:
    """Run one parser over a file and return its records as JSON-able dicts."""
    ctx = ParseContext(**ctx_kwargs)
    source = Source(path)
    try:
        return [record_to_dict(r) for r in get_parser(fmt)().parse(source, ctx)]
    finally:
        source.close()


def assert_golden(records: list[dict], golden: Path) -> None:
    """Compare with a JSON-lines golden file; SHEQUN_UPDATE_GOLDEN=1 rewrites it."""
    lines = [json.dumps(r, ensure_ascii=False, sort_keys=True) for r in records]
    if os.environ.get("SHEQUN_UPDATE_GOLDEN") == "1" or not golden.exists():
        if os.environ.get("CI") and not golden.exists():
            pytest.fail(f"golden file {golden} missing")
        golden.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # split on \n only: str.splitlines would also split inside U+2028 / U+0085 in the texts
    expected = golden.read_text(encoding="utf-8").split("\n")
    if expected and expected[-1] == "":
        expected.pop()
    assert lines == expected


# -- stores ------------------------------------------------------------------------------
PG_URL = os.environ.get("SHEQUN_TEST_DATABASE_URL", "")


def _pg_engine(schema: str):
    from sqlalchemy import text

    from shequn.store.db import make_engine, upgrade

    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    engine = create_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    upgrade(engine)
    return engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """A fresh, migrated store: a SQLite file, and a private schema on PostgreSQL."""
    if request.param == "sqlite":
        from shequn.store.db import make_engine, upgrade

        eng = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        upgrade(eng)
        yield eng
        eng.dispose()
        return
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must set SHEQUN_TEST_DATABASE_URL (see .ci/run)")
        pytest.skip(
            "PostgreSQL store tests need SHEQUN_TEST_DATABASE_URL "
            "(scripts/start-postgres.sh prints one)"
        )
    import uuid

    schema = f"t_{uuid.uuid4().hex[:12]}"
    eng = _pg_engine(schema)
    yield eng
    eng.dispose()
    from sqlalchemy import text

    from shequn.store.db import make_engine

    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(tmp_path):
    """A fresh, migrated SQLite store to fill by hand (analytics tests; see analytics_builder)."""
    from analytics_builder import StoreBuilder
    from shequn.store.db import make_engine, upgrade

    eng = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade(eng)
    yield StoreBuilder(eng)
    eng.dispose()
