"""Shape of the labelled set that benchmarks/text_quality.py scores the text rules against."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

LABELLED = Path(__file__).parent.parent / "fixtures" / "text" / "labelled.jsonl"
FEEDBACK = {"defect", "feature", "complaint", "praise"}
OFFTOPIC = {"red_packet", "ad", "outside_link", "qr_code", "gossip"}
FIELDS = {"id", "lang", "text", "question", "feedback", "offtopic", "group_theme"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with LABELLED.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def test_size_and_unique_ids(rows: list[dict]) -> None:
    assert len(rows) >= 600
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)


def test_languages_are_balanced(rows: list[dict]) -> None:
    counts = Counter(r["lang"] for r in rows)
    assert set(counts) == {"zh", "en"}
    for lang in ("zh", "en"):
        assert 0.45 <= counts[lang] / len(rows) <= 0.55, counts


def test_every_row_is_well_formed(rows: list[dict]) -> None:
    for r in rows:
        assert set(r) == FIELDS, r["id"]
        assert r["id"].startswith(r["lang"] + "-")
        assert isinstance(r["text"], str) and r["text"].strip(), r["id"]
        assert isinstance(r["question"], bool), r["id"]
        assert r["feedback"] is None or r["feedback"] in FEEDBACK, r["id"]
        assert r["offtopic"] is None or r["offtopic"] in OFFTOPIC, r["id"]
        assert isinstance(r["group_theme"], str) and r["group_theme"], r["id"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_class_is_present_in_each_language(rows: list[dict], lang: str) -> None:
    mine = [r for r in rows if r["lang"] == lang]
    assert any(r["question"] for r in mine)
    assert any(not r["question"] for r in mine)
    assert {r["feedback"] for r in mine} >= FEEDBACK
    assert {r["offtopic"] for r in mine} >= OFFTOPIC
    plain = [r for r in mine if not r["question"] and not r["feedback"] and not r["offtopic"]]
    assert plain, "ordinary talk missing"
