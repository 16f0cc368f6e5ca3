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


# Messages with @mentions and the marks that send a message to the full noise pattern: the
# labelled texts each behind a WeChat, a Slack-style and a full-width mention, and edges.
MENTIONS = (
    "@张三\u2005明天几点集合？",
    "@Tom@Ann thanks!!",
    "hi @bob, see you",
    "mail bob@example.com or @bob",
    "@小王 http://t.cn/x 看这个",
    "<@U123> are you there",
    "＠成员８１２２２ 已经提交了作业",
    "@",
)


def test_mention_only_messages_drop_what_the_full_noise_pattern_drops() -> None:
    # segment.terms takes the mention pattern alone when a message has "@" but no ".", ":" or
    # "<" (links, e-mail addresses and Slack's <@U1> need one); the full pattern must remove
    # exactly the same there, and the messages with those marks must still reach it.
    from shequn.text import segment

    texts = [f"{prefix}{text}" for text in _texts() for prefix in ("@张三 ", "@Tom ", "")]
    texts += [segment.fold(text) for text in MENTIONS]
    fast = [t for t in texts if "@" in t and not any(mark in t for mark in ".:<")]
    assert len(fast) > 600  # the labelled set behind two mentions, and most edges
    for text in fast:
        assert segment._MENTION.sub(" ", text) == segment._NOISE.sub(" ", text), text
    assert segment.terms("mail bob@example.com or @bob 跑步") == ["mail", "跑步"]


def test_ritual_cues_match_their_lookbehind_first_forms() -> None:
    # The English intro and check-in cues put each word's first letter before its word-start
    # lookbehind, and are searched only when a letter or mark every cue holds is present; both
    # must find what the plain forms (lookbehind first, searched always) find.
    from shequn.text import rituals

    intro = re.compile(
        r"(?<![a-z])(?:hi|hello|hey|greetings|good (?:morning|afternoon|evening)|introduc\w*"
        r"|i'?m|i am|my name|new here|just joined)(?![a-z])"
    )
    checkin = re.compile(
        r"check(?:ed|ing)?[- ]?in(?![a-z])|#\d+\s*days?\s*of|#\w*challenge|(?<![a-z])day\s*#?\d"
    )
    edges = ("ohio day 3", "sunday 5km", "day#3", "Hi!", "him", "I'M Ann", "dday 1", "check-in")
    for text in (*_texts(), *(rituals.fold(e).lower() for e in edges)):
        for plain, fast, marks in (
            (intro, rituals._INTRO_CUE_EN, rituals._INTRO_MARKS),
            (checkin, rituals._CHECKIN_CUE_EN, rituals._CHECKIN_MARKS),
        ):
            found = plain.search(text)
            assert (found and found.span()) == ((m := fast.search(text)) and m.span()), text
            assert found is None or any(mark in text for mark in marks), text
