"""The rules' cheap gates and rewritten patterns give exactly what the full rules give.

A gate is a test run before a rule that rejects only messages the rule cannot label; a rewritten
pattern is an old one in a form `re` searches faster. Each is held here to the form it replaces
(the rule with the gate switched off, the old pattern) on the labelled and held-out sets and on
edge cases; docs/text-answers.md ("Speed") says how they were checked on 228,575 more messages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shequn.text import enrich, feedback, offtopic, questions, segment
from shequn.text.cues import CueScanner, JointScanner, fold

FIXTURES = Path(__file__).parent.parent / "fixtures" / "text"
EDGES = (
    "好的. next.js 呢？？",
    "v1.5 is out.Really",
    "what？！ 真的吗…",
    "Is it OK~ yes.",
    "anything new; wondering",
    "这个是不是bug啊。。。",
    "请教一下",
    "求推荐",
    "quick q",
    "@Tom what's up",
    "“Why learn?” is the title",
    "https://x.com/a?b=1",
    "whathttp://x.com/q is",
    "收到",
    "thx!",
    "。",
    ".",
    "",
)


def _texts() -> list[str]:
    texts = list(EDGES)
    for name in ("labelled.jsonl", "heldout.jsonl"):
        with (FIXTURES / name).open(encoding="utf-8") as f:
            texts += [json.loads(line)["text"] for line in f if line.strip()]
    # upper-case and full-width variants reach the folds and the case-sensitive patterns
    return texts + [t.upper() for t in texts]


def test_question_gate_rejects_nothing_the_full_rule_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = _texts()
    gated = [questions.detect_question(text) for text in texts]
    monkeypatch.setattr(questions, "_may_ask", lambda own: True)
    full = [questions.detect_question(text) for text in texts]
    assert gated == full
    assert sum(match is not None for match in full) > 300  # the sets hold many questions


def test_question_gate_hand_worked() -> None:
    # No question mark, no 吗么呢怎如为咋什啥哪谁何是几多没不还, no request, no English cue word:
    # "收到，谢谢" and "thx, see u" cannot ask. "isn't" holds the word "is", "求助" a request.
    assert not questions._may_ask("收到，谢谢")
    assert not questions._may_ask("thx, see u")
    assert questions._may_ask("is it")
    assert not questions._may_ask("isn't")
    assert questions._may_ask("求助")
    assert questions._may_ask("ok?")


# The patterns as they were before they were rewritten to open with a character class.
OLD_SENTENCE_END = re.compile(r"([。！？!?；;\n…~～]+|\.(?=\s|$))")
OLD_EN_MAYBE = re.compile(
    r"\b(?:how|what|why|which|who|whose|whom|when|where|is|are|am|was|were|does|did|has|have|do|"
    r"can|could|would|will|should|shall|may|might|any\w*|wonder\w*|quick|q|need|help|looking)\b"
)


def test_rewritten_question_patterns_match_the_old_ones() -> None:
    for text in _texts():
        lowered = text.lower()
        assert questions._SENTENCE_END.split(lowered) == OLD_SENTENCE_END.split(lowered)
        found = questions._EN_MAYBE.search(lowered) is not None
        assert found == (OLD_EN_MAYBE.search(lowered) is not None), text
        assert questions._LATIN_WORD.findall(text) == re.findall(r"[A-Za-z]+", text)
        assert questions._CJK_RUN.findall(text) == re.findall(r"[\u3400-\u9fff]+", text)


def test_sentence_split_hand_worked() -> None:
    # "好的." ends at the dot before a space; "next.js" keeps its dot; "？？" is one end;
    # "v1.5" keeps its dot and ".really" has no space after the dot, so it stays in.
    assert questions._sentences("好的. next.js 呢？？") == [("好的", "."), ("next.js 呢", "？？")]
    assert questions._sentences("v1.5 is out.really") == [("v1.5 is out.really", "")]


def test_joint_scan_gives_each_table_its_own_scan() -> None:
    # One lead search for both tables must give each table exactly what its own scanner gives:
    # the same cues at the same places, each table resuming after its own matches.
    joint = JointScanner(feedback.SCANNER, offtopic.SCANNER)
    for text in (*_texts(), "扫码进群领红包🧧 bug crash 卡了", "crash course crashed"):
        folded = fold(text)
        both = joint.scan(folded)
        for found, scanner in zip(both, (feedback.SCANNER, offtopic.SCANNER), strict=True):
            expected = [(i, m.span()) for i, m in scanner.scan(folded)]
            assert [(i, m.span()) for i, m in found] == expected, text


def test_joint_scan_hand_worked() -> None:
    # Table A: "甲乙" and "乙"; table B: "甲乙丙". In "甲乙丙乙": A finds "甲乙" at 0..2 and
    # then "乙" at 3..4 (the "乙" at 1 is inside its own match); B finds "甲乙丙" at 0..3, the
    # "乙" at 3 is not one of its cues. (Latin cues count only at a word start, hence Chinese.)
    joint = JointScanner(CueScanner(["甲乙", "乙"]), CueScanner(["甲乙丙"]))
    found = [[(i, m.span()) for i, m in table] for table in joint.scan("甲乙丙乙")]
    assert found == [[(0, (0, 2)), (1, (3, 4))], [(0, (0, 3))]]


def test_label_rows_rule_by_rule_equals_label_message_per_row() -> None:
    # label_rows works rule by rule over the batch; each row must get exactly label_message's
    # values, in row order, with red packets, unlabelled kinds and blank texts as one message.
    themes = {1: ("跑步训练", ("跑步", "marathon")), 2: ("indie hackers", ("indie",))}
    kinds = ("text", "red_packet", "system", "link", "file", "media", "text")
    rows = [
        (n, n % 3, kinds[n % len(kinds)], text if n % 11 else "  ")
        for n, text in enumerate(_texts())
    ]
    expected = []
    for message_id, community_id, kind, text in rows:
        label = enrich.label_message(text, kind=kind, theme=themes.get(community_id))
        if label is not None:
            expected.append((message_id, community_id, *label))
    assert enrich.label_rows(rows, themes) == expected
    assert len(expected) > 1000  # most rows get one


OLD_TOKEN = re.compile(rf"[{segment._CJK_CLASS}]+|[a-z0-9]+(?:['\-][a-z0-9]+)*")


def test_rewritten_token_pattern_matches_the_old_one() -> None:
    for text in (*_texts(), "we're re-running 10km 跑步ok", "'-a-b'-", "ｆｕｌｌ－ｗｉｄｔｈ"):
        cleaned = segment.fold(text).lower()
        assert segment._TOKEN.findall(cleaned) == OLD_TOKEN.findall(cleaned), text
    # Hand-worked: a Chinese run, a word with inner ' and -, a number with a unit.
    assert segment._TOKEN.findall("we're re-running 10km 跑步ok") == [
        "we're",
        "re-running",
        "10km",
        "跑步",
        "ok",
    ]
