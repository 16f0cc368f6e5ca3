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
    expected = golden.read_text(encoding="utf-8").splitlines()
    assert lines == expected
