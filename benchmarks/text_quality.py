"""Text rules against the labelled set: precision and recall per class, then throughput.

Scores `shequn.text.questions.detect_question` and, when they are importable,
`shequn.text.feedback.classify_feedback` and `shequn.text.offtopic.detect_offtopic` against
tests/fixtures/text/labelled.jsonl (labelling guide: tests/fixtures/text/README.md). Then, on
generated messages (the labelled texts sampled and perturbed), times the enrichment as it runs:
each rule alone and `label_rows` in this process (on the first --sample messages), `label_rows`
in worker processes through `shequn.workers.map_in_order`, one per core, the texts sent to them
(all messages; what `enrich_pending` does where it cannot fork), and, the headline,
`enrich_pending` itself on a fresh SQLite store holding them: workers reading their own id
ranges, labelling, the caller writing the labels. Prints `name: value unit` lines and the load
average before each timing: other work on the machine lowers the figures.

    python benchmarks/text_quality.py [--messages 1000000] [--sample 200000] [--no-store]
        [--errors question|defect|ad|…] [--theme-keywords name|suggested|none]

Targets (issue 4): questions ≥ 0.90 precision and ≥ 0.85 recall in both languages; feedback
classes ≥ 0.80 precision; enrichment ≥ 30,000 messages/s on 1M generated messages (2 cores).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import random
import sys
import tempfile
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


def themes_by_name(keywords: dict[str, list[str] | None]) -> dict[str, Any]:
    """Each group's theme as the enrichment sees it: (description, keywords)."""
    return {name: (name, tuple(kw or ())) for name, kw in keywords.items()}


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


def rule_detectors(found: dict[str, Detector], themes: dict[str, Any]) -> dict[str, Detector]:
    """The three scored detectors plus the rules only the enrichment runs (intro, check-in,
    theme score), each timed alone."""
    rituals = (
        optional("shequn.text.rituals", "detect_self_intro"),
        optional("shequn.text.rituals", "checkin_day"),
    )
    model = optional("shequn.text.enrich", "_model")
    more: dict[str, Detector] = {}
    if rituals[0] and rituals[1]:
        more["intro"] = lambda text, _kw: rituals[0](text) is not None
        more["checkin"] = lambda text, _kw: rituals[1](text) is not None
    if model:
        # this one is called with the group's name (see throughput): the theme is per group
        more["theme"] = lambda text, group: (m := model(themes[group])) and m.score(text)
    return {**found, **more}


def throughput(found: dict[str, Detector], messages: list[tuple[str, Any]], keywords: dict) -> None:
    """Messages per second for each rule alone, in this process."""
    for field, detect in found.items():
        work = [(text, group if field == "theme" else keywords[group]) for text, group in messages]
        t0 = time.perf_counter()
        for text, kw in work:
            detect(text, kw)
        rate = len(work) / (time.perf_counter() - t0)
        print(f"throughput_{field}: {rate:,.0f} messages/s ({len(work):,} messages, alone)")


def enrichment_batches(
    messages: list[tuple[str, Any]], keywords: dict, size: int = 5000
) -> tuple[list[Any], dict[int, Any]]:
    """The generated messages as enrich_pending reads them: Batches of (id, group id, kind,
    text) rows, `size` at a time (its default), with each group's (description, keywords)."""
    from shequn.text.enrich import Batch

    groups = {name: i for i, name in enumerate(sorted(keywords), start=1)}
    themes = {groups[name]: (name, tuple(kw or ())) for name, kw in keywords.items()}
    batches = []
    for first in range(0, len(messages), size):
        chunk = messages[first : first + size]
        rows = [(first + i + 1, groups[g], "text", text) for i, (text, g) in enumerate(chunk)]
        wanted = {row[1] for row in rows}
        batches.append(Batch(rows[-1][0], len(rows), rows, {g: themes[g] for g in wanted}))
    return batches, themes


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load_average: {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)"


def throughput_enrich(batches: list[Any], sample: int) -> None:
    """The enrichment as it runs: label_rows in one process on the first `sample` messages,
    then in worker processes (one per core, as enrich_pending) on all of them."""
    from shequn.text.enrich import label_in_workers, label_rows

    n = sum(b.messages for b in batches)
    done, t0, cpu0 = 0, time.perf_counter(), time.process_time()
    for b in batches:
        if done >= sample:
            break
        label_rows(b.rows, b.themes)
        done += b.messages
    rate = done / (time.perf_counter() - t0)
    print(f"throughput_label_rows: {rate:,.0f} messages/s ({done:,} messages, one process)")
    cpu_rate = done / (time.process_time() - cpu0)
    print(f"label_rows_cpu: {cpu_rate:,.0f} messages per CPU-second (what other work barely moves)")
    workers = os.cpu_count() or 1
    print(load_average())
    t0, cpu0, children0 = time.perf_counter(), time.process_time(), _children_cpu()
    for _batch, _labels in label_in_workers(iter(batches), workers=workers):
        pass
    rate = n / (time.perf_counter() - t0)
    print(
        f"throughput_enrich: {rate:,.0f} messages/s ({n:,} generated messages, {workers} worker "
        "processes, texts sent to them)"
    )
    spent, parent = _children_cpu() - children0, time.process_time() - cpu0
    print(
        f"enrich_cpu: {n / spent:,.0f} messages per worker CPU-second ({spent:.1f} s in the "
        f"workers, {parent:.1f} s in the calling process)"
    )


def _children_cpu() -> float:
    """CPU seconds of the finished worker processes (they are waited for when the pool ends)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fill_store(url: str, batches: list[Any], themes: dict[int, Any]) -> None:
    """A fresh SQLite store holding the generated messages and their groups (not timed)."""
    from datetime import UTC, datetime, timedelta

    import orjson
    from sqlalchemy import insert

    from shequn.store import schema as t
    from shequn.store.db import open_store

    store = open_store(url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with store.begin() as conn:
        conn.execute(
            insert(t.community),
            [
                {"id": g, "platform": "bench", "platform_id": str(g), "name": name,
                 "keywords": orjson.dumps(list(kw)).decode()}
                for g, (name, kw) in themes.items()
            ],
        )  # fmt: skip
        conn.execute(insert(t.person), [{"id": 1, "display_name": "bench"}])
        conn.execute(
            insert(t.account),
            [{"id": 1, "platform": "bench", "platform_id": "1", "person_id": 1}],
        )
        for b in batches:
            conn.execute(
                insert(t.message),
                [
                    {"id": mid, "community_id": g, "platform_msg_id": str(mid), "account_id": 1,
                     "sent_at": start + timedelta(seconds=mid), "kind": kind, "text": text}
                    for mid, g, kind, text in b.rows
                ],
            )  # fmt: skip


def throughput_enrich_store(url: str, n: int) -> None:
    """The headline: enrich_pending on the store fill_store made, all that the user waits for
    (workers reading their id ranges, labelling, this process writing message_label), with
    the CPU time of this process and of the workers."""
    from shequn.store.db import open_store
    from shequn.text.enrich import enrich_pending

    store = open_store(url)
    print(load_average())
    t0, cpu0, children0 = time.perf_counter(), time.process_time(), _children_cpu()
    done = enrich_pending(store)
    rate = done / (time.perf_counter() - t0)
    spent, parent = _children_cpu() - children0, time.process_time() - cpu0
    print(load_average())
    print(
        f"enrich_store_cpu: {done / (spent + parent):,.0f} messages per CPU-second, all "
        f"processes ({spent:.1f} s in {os.cpu_count()} workers, {parent:.1f} s in the caller: "
        "range probes and label writes)"
    )
    print(
        f"throughput_enrich_store: {rate:,.0f} messages/s (enrich_pending on a fresh SQLite "
        f"store, {done:,} generated messages, labels written; target 30,000)"
    )
    store.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labelled", type=Path, default=LABELLED)
    ap.add_argument("--messages", type=int, default=1_000_000, help="0 skips throughput")
    ap.add_argument(
        "--sample", type=int, default=200_000, help="messages for the one-process figures"
    )
    ap.add_argument("--no-store", action="store_true", help="skip throughput_enrich_store")
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
        print(load_average())
        throughput(
            rule_detectors(found, themes_by_name(keywords)), messages[: args.sample], keywords
        )
        batches, themes = enrichment_batches(messages, keywords)
        throughput_enrich(batches, args.sample)
        if not args.no_store:
            with tempfile.TemporaryDirectory(prefix="shequn-text-bench-") as folder:
                url = f"sqlite:///{folder}/store.db"
                t0 = time.perf_counter()
                fill_store(url, batches, themes)
                print(f"store: {len(messages):,} messages in {time.perf_counter() - t0:.1f} s")
                # The user's process holds no messages: drop them before the workers fork
                # (they would inherit them, and their garbage collector would walk them).
                n = len(messages)
                del messages, batches
                gc.collect()
                throughput_enrich_store(url, n)


if __name__ == "__main__":
    main()
