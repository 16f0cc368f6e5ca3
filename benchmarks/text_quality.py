"""Text rules against the labelled set: precision and recall per class, then throughput.

Scores `shequn.text.questions.detect_question` and, when they are importable,
`shequn.text.feedback.classify_feedback` and `shequn.text.offtopic.detect_offtopic` against
tests/fixtures/text/labelled.jsonl (labelling guide: tests/fixtures/text/README.md). Then times
each detector, and all of them on one message as the enrichment step will call them, over
generated messages (the labelled texts sampled and perturbed). Prints `name: value unit` lines.

    python benchmarks/text_quality.py [--messages 1000000] [--errors question|defect|ad|…]
        [--theme-keywords name|suggested|none]

Targets (issue 4): questions ≥ 0.90 precision and ≥ 0.85 recall in both languages; feedback
classes ≥ 0.80 precision; ≥ 30,000 messages/s for the detectors together.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LABELLED = Path(__file__).parent.parent / "tests" / "fixtures" / "text" / "labelled.jsonl"
FEEDBACK = ("defect", "feature", "complaint", "praise")
OFFTOPIC = ("red_packet", "ad", "outside_link", "qr_code", "gossip")
LANGS = ("zh", "en")

Row = dict[str, Any]
# A detector maps (text, theme keywords) to the predicted label: True/False for questions, a
# class name or None for feedback and off-topic.
Detector = Callable[[str, Sequence[str] | None], Any]


def optional(module: str, name: str) -> Any:
    """A function from a module other helpers may not have written yet, or None."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def detectors() -> dict[str, Detector]:
    """The detectors that exist now, keyed by the labelled set's field they predict."""
    found: dict[str, Detector] = {}
    question = optional("shequn.text.questions", "detect_question")
    if question:
        found["question"] = lambda text, _kw: question(text) is not None
    feedback = optional("shequn.text.feedback", "classify_feedback")
    if feedback:
        found["feedback"] = lambda text, _kw: _label(feedback(text))
    offtopic = optional("shequn.text.offtopic", "detect_offtopic")
    if offtopic:
        found["offtopic"] = lambda text, kw: _label(offtopic(text, theme_keywords=kw))
    return found


def _label(match: Any) -> str | None:
    return None if match is None else match.label


def theme_keywords(rows: list[Row], mode: str) -> dict[str, list[str] | None]:
    """Keywords per group theme: from the theme's name (what an operator types), suggested from
    the group's own messages by TF-IDF against the other groups, or none."""
    themes = sorted({r["group_theme"] for r in rows})
    if mode == "none":
        return dict.fromkeys(themes)
    if mode == "suggested":
        suggest = optional("shequn.text.theme", "suggest_keywords")
        if suggest:
            docs = {t: [r["text"] for r in rows if r["group_theme"] == t] for t in themes}
            return {t: [w for w, _ in terms] for t, terms in suggest(docs, top=20).items()}
    split = optional("shequn.text.segment", "terms") or str.split
    return {t: [w for w in split(t) if len(w) > 1] for t in themes}


def load(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def score(pairs: list[tuple[Any, Any]], positive: Callable[[Any], bool]) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of (truth, prediction) pairs."""
    tp = sum(1 for t, p in pairs if positive(t) and positive(p))
    fp = sum(1 for t, p in pairs if not positive(t) and positive(p))
    fn = sum(1 for t, p in pairs if positive(t) and not positive(p))
    return tp, fp, fn


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def report(name: str, counts: tuple[int, int, int], target: str = "") -> None:
    """Two lines, precision then recall, with the counts behind them."""
    tp, fp, fn = counts
    print(f"{name}_precision: {ratio(tp, tp + fp)} ({tp} of {tp + fp} flagged{target})")
    print(f"{name}_recall: {ratio(tp, tp + fn)} ({tp} of {tp + fn} labelled)")


def quality(rows: list[Row], found: dict[str, Detector], keywords: dict) -> dict[str, list]:
    """Print precision and recall per class; return (row, prediction) pairs per field."""
    predictions: dict[str, list] = {}
    for field, detect in found.items():
        predictions[field] = [(r, detect(r["text"], keywords[r["group_theme"]])) for r in rows]
    if "question" in predictions:
        pairs = predictions["question"]
        for lang in (None, *LANGS):
            mine = [(r["question"], p) for r, p in pairs if lang in (None, r["lang"])]
            report(f"question{'_' + lang if lang else ''}", score(mine, bool), "; target 0.90")
    for field, classes in (("feedback", FEEDBACK), ("offtopic", OFFTOPIC)):
        if field not in predictions:
            print(f"{field}: not measured (detector not importable)")
            continue
        pairs = [(r[field], p) for r, p in predictions[field]]
        report(f"{field}_any", score(pairs, lambda v: v is not None))
        for cls in classes:
            target = "; target 0.80" if field == "feedback" else ""
            report(f"{field}.{cls}", score(pairs, lambda v, c=cls: v == c), target)
    return predictions


def show_errors(predictions: dict[str, list], wanted: str) -> None:
    """List the rows a class got wrong, on stderr, for tuning the rules."""
    field = "question" if wanted == "question" else "feedback" if wanted in FEEDBACK else "offtopic"
    for r, p in predictions.get(field, []):
        truth = r[field]
        hit_t, hit_p = (truth, p) if field == "question" else (truth == wanted, p == wanted)
        if hit_t != hit_p:
            kind = "missed" if hit_t else "wrong "
            print(f"{kind} {r['id']} [{truth} -> {p}] {r['text']}", file=sys.stderr)


PREFIXES = ("", "", "", "@小王 ", "@Tom ", "哈哈 ", "lol ", "对了，", "btw ", "👍 ")
SUFFIXES = ("", "", "", " 😂", " 🙏", "～", "!!", " haha", "哈哈哈", " #{n}", "。", " [图片]")


def generated(rows: list[Row], n: int, seed: int = 7) -> list[tuple[str, list[str] | None]]:
    """`n` messages: labelled texts with mentions, emoji, laughter, numbers and punctuation
    changed, one in ten joined to another message, each with its group's theme."""
    rnd = random.Random(seed)
    texts = [(r["text"], r["group_theme"]) for r in rows]
    out = []
    for i in range(n):
        text, theme = rnd.choice(texts)
        if rnd.random() < 0.1:
            text = f"{text} {rnd.choice(texts)[0]}"
        if rnd.random() < 0.2:
            text = text.replace("？", "?") if rnd.random() < 0.5 else text.replace("?", "？")
        text = rnd.choice(PREFIXES) + text + rnd.choice(SUFFIXES).replace("{n}", str(i))
        out.append((text, theme))
    return out


def throughput(found: dict[str, Detector], messages: list[tuple[str, Any]], keywords: dict) -> None:
    """Messages per second for each detector alone and for all of them on every message."""
    work = [(text, keywords[theme]) for text, theme in messages]
    for field, detect in found.items():
        t0 = time.perf_counter()
        for text, kw in work:
            detect(text, kw)
        print(f"throughput_{field}: {len(work) / (time.perf_counter() - t0):,.0f} messages/s")
    chain = list(found.values())
    t0 = time.perf_counter()
    for text, kw in work:
        for detect in chain:
            detect(text, kw)
    rate = len(work) / (time.perf_counter() - t0)
    names = " + ".join(found)
    print(f"throughput_all: {rate:,.0f} messages/s ({names} on every message; target 30,000)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labelled", type=Path, default=LABELLED)
    ap.add_argument("--messages", type=int, default=1_000_000, help="0 skips throughput")
    ap.add_argument("--errors", help="list the rows this class got wrong on stderr")
    ap.add_argument("--theme-keywords", choices=("name", "suggested", "none"), default="name")
    args = ap.parse_args()
    rows = load(args.labelled)
    found = detectors()
    keywords = theme_keywords(rows, args.theme_keywords)
    langs = {lang: sum(r["lang"] == lang for r in rows) for lang in LANGS}
    print(
        f"conditions: {len(rows)} labelled messages ({langs['zh']} zh, {langs['en']} en) from "
        f"{args.labelled.name}; detectors {', '.join(found) or 'none'}; theme keywords from "
        f"{args.theme_keywords}; {os.cpu_count()} cores, python {sys.version.split()[0]}"
    )
    predictions = quality(rows, found, keywords)
    if args.errors:
        show_errors(predictions, args.errors)
    if args.messages > 0 and found:
        t0 = time.perf_counter()
        messages = generated(rows, args.messages)
        print(
            f"generated: {len(messages):,} messages "
            f"(labelled texts perturbed, {time.perf_counter() - t0:.1f} s)"
        )
        throughput(found, messages, keywords)


if __name__ == "__main__":
    main()
