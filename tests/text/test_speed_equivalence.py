"""The fast paths of the text rules agree with the slow, obvious ones.

The cue scanner (feedback and off-topic) looks only where some cue can start, working out each
cue's possible first characters from its parsed pattern; if that analysis were wrong it would
silently skip cues. These tests hold it to ``re.finditer`` over the whole alternation, which is
what the scanner promises, on the labelled set and on look-alikes chosen to hit its edges.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shequn.text import feedback, offtopic
from shequn.text.cues import CueScanner, _cue_starts, _lead_pattern, fold

LABELLED = Path(__file__).parent.parent / "fixtures" / "text" / "labelled.jsonl"
TABLES = {"feedback": feedback.CUES, "offtopic": offtopic.CUES}
# Edges: Latin cues only at a word start ("debugger", "这个bug"), full-width and upper case
# (folded first), the traps ("crash course", "扫码登录"), digits before a unit, a cue at the
# very end, and nothing at all.
EDGES = (
    "debugger crashed? no: the BUG is in prod",
    "这个bug又出现了，app闪退",
    "ＣＲＡＳＨ ＣＯＵＲＳＥ on Monday",
    "扫码登录失败，扫码进群",
    "iPhone 15 只要 4999 元，5折包邮",
    "grab the red packet 🧧",
    "rebug unbroken prefreeze",
    "好用",
    "",
)


def _reference(patterns: list[str], text: str) -> list[tuple[int, tuple[int, int]]]:
    """What the scanner promises: the cues re.finditer finds on the whole alternation."""
    whole = re.compile("|".join(f"(?P<c{i}>{p})" for i, p in enumerate(patterns)))
    return [(int(str(m.lastgroup)[1:]), m.span()) for m in whole.finditer(text)]


def _texts() -> list[str]:
    with LABELLED.open(encoding="utf-8") as f:
        labelled = [json.loads(line)["text"] for line in f if line.strip()]
    return [fold(text) for text in (*labelled, *EDGES)]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_scanner_finds_what_the_whole_alternation_finds(table: str) -> None:
    patterns = [cue.pattern for cue in TABLES[table]]
    scanner = CueScanner(patterns)
    for text in _texts():
        found = [(i, m.span()) for i, m in scanner.scan(text)]
        assert found == _reference(patterns, text), text


def test_scanner_hand_worked() -> None:
    # Cue 0 is "crash" at a word start, cue 1 "bug" at a word start, cue 2 "闪退": in
    # "debugger crash 闪退" the "bug" inside "debugger" is not at a word start, "crash" is at
    # 9..14 and "闪退" at 15..17.
    scanner = CueScanner([r"(?<![a-z])crash", r"(?<![a-z])bugs?", "闪退"])
    found = [(i, m.group(), m.span()) for i, m in scanner.scan("debugger crash 闪退")]
    assert found == [(0, "crash", (9, 14)), (2, "闪退", (15, 17))]


def test_cue_starts_are_worked_out_from_the_parsed_pattern() -> None:
    # Lookarounds take no characters; the first five characters of "crash…" are "crash".
    assert _cue_starts(r"(?<![a-z])crash(?:es|ed)?(?![a-z])") == ("crash",)
    # "bugs?" can end after three: "bug" and "bugs" (a shorter start ends what is known).
    assert _cue_starts(r"(?<![a-z])bugs?") == ("bug", "bugs")
    # A class of ten digits and two numerals, then 折, then the end: twelve two-character starts.
    assert _cue_starts(r"[一二\d]折") == (*(f"{d}折" for d in "0123456789"), "一折", "二折")
    # An optional first piece: a match starts with "a" or, without it, with "b".
    assert _cue_starts(r"a?b") == ("a", "b")
    assert _cue_starts(r"卡(?:了|得)|卡死") == ("卡了", "卡得", "卡死")


def test_a_cue_that_can_start_anywhere_is_refused() -> None:
    with pytest.raises(ValueError, match="known character"):
        _cue_starts(r"\w+好")


def test_lead_pattern_keeps_the_shortest_starts() -> None:
    # "abc" begins with "ab", so finding "ab" is enough; Latin starts only at a word start.
    assert _lead_pattern({"ab", "abc", "x"}) == "(?<![a-z])(?=[ax])(?:ab|x)"
    assert _lead_pattern({"闪退", "闪烁", "卡"}) == "(?=[卡闪])(?:卡|闪(?:烁|退))"
