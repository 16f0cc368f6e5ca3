"""Incremental enrichment: every text rule runs once per message after import (`message_label`).

Issue 4 asks that text work (segmentation, scores, classes) be done once per message and never
again on refresh; the inbox, the group page and the text metrics read the labels from here.

Which messages get a row (docs/text-answers.md, "Enrichment"):
- kinds text, media, link and file whose text is not blank: every rule runs on the text (a
  link's comment or a file's caption is the member's own words; a file name rarely fires a rule);
- red_packet: a row with offtopic "red_packet" and nothing else, whatever the greeting says;
- anything else (system notices, stickers, voice, calls, ...) and blank texts: no row. Readers
  join on message_label, so a missing row reads as "no label"; all-false rows would only cost
  space.

The step advances a watermark, the search_state row "enrich" holding the highest message id done,
in the same transaction as each batch's rows, so a killed run resumes after its last batch and
each message is labelled once. Rows are written with ON CONFLICT DO NOTHING, so a batch written
again (the watermark lost to a crash) changes nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, func, select

from shequn.errors import InputError
from shequn.store import schema as t
from shequn.store.watermarks import Watermark
from shequn.text import feedback, offtopic
from shequn.text.cues import Hit, JointScanner
from shequn.text.feedback import classify_feedback, fold
from shequn.text.offtopic import detect_offtopic
from shequn.text.questions import detect_question
from shequn.text.rituals import checkin_day, detect_self_intro
from shequn.text.segment import fold as fold_widths
from shequn.text.theme import ThemeModel
from shequn.workers import map_in_order

log = logging.getLogger(__name__)

WATERMARK = Watermark("enrich")  # the search_state row of this step
LABELLED_KINDS = frozenset({"text", "media", "link", "file"})
PARALLEL_FROM = 20_000  # pending messages; fewer are done here, sooner than processes start

Theme = tuple[str, tuple[str, ...]]  # a group's (description, keywords)
Row = tuple[int, int, str, str]  # message id, community id, kind, text
Label = tuple[Any, ...]  # the values of LABEL_COLUMNS
Labelled = Generator[tuple["Batch", list[Label]], None, None]
LABEL_COLUMNS = (
    "message_id",
    "community_id",
    "is_question",
    "feedback",
    "feedback_confidence",
    "offtopic",
    "theme_score",
    "is_intro",
    "is_checkin",
)


class Batch(NamedTuple):
    """Messages read in id order: the last id covered, how many, and those to label."""

    last_id: int
    messages: int
    rows: list[Row]
    themes: dict[int, Theme]


# --- the rules, in whichever process runs them --------------------------------------------------

_models: dict[Theme, ThemeModel | None] = {}


def _model(theme: Theme) -> ThemeModel | None:
    """The group's theme model, built once per process; None when the theme has no terms."""
    if theme not in _models:
        try:
            _models[theme] = ThemeModel(description=theme[0], keywords=theme[1])
        except InputError:
            _models[theme] = None
    return _models[theme]


# The feedback and off-topic cue tables, scanned in one pass over the folded text.
_CUE_TABLES = JointScanner(feedback.SCANNER, offtopic.SCANNER)
_RED_PACKET: Label = (False, None, None, "red_packet", None, False, False)


def label_message(text: str, *, kind: str = "text", theme: Theme | None = None) -> Label | None:
    """The label values (LABEL_COLUMNS without the two ids) of one message, or None for no row.

    theme_score is the theme-fit score (0..1), None when the message is too short to tell or
    the group has no theme: leaving those out keeps theme-fit averages honest.
    """
    if kind == "red_packet":
        return _RED_PACKET
    if not _labelled(kind, text):
        return None
    return next(_label_texts([text], [theme]))


def label_rows(rows: Sequence[Row], themes: Mapping[int, Theme]) -> list[Label]:
    """Full label rows (LABEL_COLUMNS) for the messages that get one: for each, the values
    label_message gives (worked out rule by rule over the batch, see _label_texts)."""
    kept = [row for row in rows if row[2] == "red_packet" or _labelled(row[2], row[3])]
    labels = _label_texts(
        [text for _, _, kind, text in kept if kind != "red_packet"],
        [themes.get(community) for _, community, kind, _ in kept if kind != "red_packet"],
    )
    return [
        (message_id, community_id, *(_RED_PACKET if kind == "red_packet" else next(labels)))
        for message_id, community_id, kind, _ in kept
    ]


def _label_texts(texts: list[str], groups: list[Theme | None]) -> Iterator[Label]:
    """label_message's values for many texts (each with its group's theme), worked out rule by
    rule rather than message by message: each rule's patterns and tables then stay in the
    processor's caches for the whole batch, about a fifth less time (docs/text-answers.md)."""
    folded = [fold(text) for text in texts]
    scanned = [_CUE_TABLES.scan(f) for f in folded]
    cues = list(zip(texts, folded, scanned, strict=True))
    feedbacks = [_feedback(text, f, found[0]) for text, f, found in cues]
    offtopics = [
        _offtopic(text, f, found[1], theme)
        for (text, f, found), theme in zip(cues, groups, strict=True)
    ]
    widths = [fold_widths(text) for text in texts]
    pairs = list(zip(texts, widths, strict=True))
    fits = [_fit(text, w, theme) for (text, w), theme in zip(pairs, groups, strict=True)]
    questions = [detect_question(text) is not None for text in texts]
    intros = [detect_self_intro(text, folded=w) is not None for text, w in pairs]
    checkins = [checkin_day(text, folded=w) is not None for text, w in pairs]
    for asked, (label, confidence), off, fit, intro, checkin in zip(
        questions, feedbacks, offtopics, fits, intros, checkins, strict=True
    ):
        yield (asked, label, confidence, off, fit, intro, checkin)


def _labelled(kind: str, text: str) -> bool:
    """Whether label_message gives a message of this kind (other than a red packet) a row."""
    return kind in LABELLED_KINDS and bool(text.strip())


def _feedback(text: str, folded: str, scanned: list[Hit]) -> tuple[str | None, float | None]:
    """The feedback label and confidence (``folded``: cues.fold; ``scanned``: its cue hits)."""
    found = classify_feedback(text, folded=folded, scanned=scanned)
    return (found.label, found.confidence) if found else (None, None)


def _offtopic(text: str, folded: str, scanned: list[Hit], theme: Theme | None) -> str | None:
    """The off-topic label, judged against the group's theme keywords when it has some."""
    keywords = (theme[1] or None) if theme else None
    found = detect_offtopic(text, keywords, folded=folded, scanned=scanned)
    return found.label if found else None


def _fit(text: str, widths: str, theme: Theme | None) -> float | None:
    """The theme-fit score, None without a theme or when the message is too short to tell."""
    model = _model(theme) if theme else None
    fit = model.score(text, folded=widths) if model is not None else None
    return fit.score if fit is not None and fit.label != "too_short" else None


# --- the step ---------------------------------------------------------------------------------


def pending(store: Engine) -> int:
    """How many messages the next enrich_pending will go over."""
    with store.connect() as conn:
        return _count_after(conn, WATERMARK.get(conn))


def enrich_pending(
    store: Engine,
    *,
    batch: int = 5000,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Label every message after the watermark, in id order; returns how many were gone over
    (messages without words, which get no row, included, so it matches `pending`).

    `workers` processes (default one per core; 1 runs here) read and label id ranges while this
    one writes (enrich_workers.py): the rules are pure Python and hold the GIL, so threads
    would not help.
    A backlog under PARALLEL_FROM is done here, sooner than processes start. `progress` gets
    (done, total) after each batch.
    """
    if batch < 1:
        raise InputError("batch must be at least 1", field="batch")
    with store.begin() as conn:
        WATERMARK.ensure(conn)
        last = WATERMARK.get(conn)
        total = _count_after(conn, last)
    if total == 0:
        return 0
    if workers is None:
        workers = (os.cpu_count() or 1) if total >= PARALLEL_FROM else 1
    labelled: Labelled
    if workers < 2:
        labelled = ((b, label_rows(b.rows, b.themes)) for b in _batches(store, last, batch))
    else:
        # imported here: the worker module imports this one for the rules
        from shequn.text import enrich_workers

        if enrich_workers.reads_in_workers(store):
            labelled = enrich_workers.label_ranges_in_workers(
                store, after=last, size=batch, workers=workers
            )
        else:
            labelled = label_in_workers(_batches(store, last, batch), workers=workers)
    with contextlib.closing(labelled):
        return _write(store, last, labelled, total, progress)


def _write(
    store: Engine,
    last: int,
    labelled: Iterable[tuple[Batch, list[Label]]],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    done = rows = 0
    for item, labels in labelled:
        with store.begin() as conn:
            if WATERMARK.get(conn, lock=True) != last:
                log.info("another run is enriching the same messages; leaving them to it")
                break
            _insert(conn, labels)
            WATERMARK.set(conn, item.last_id)
        last = item.last_id
        done += item.messages
        rows += len(labels)
        if progress is not None:
            progress(done, total)
    log.info("enrichment: %d messages gone over, %d labelled", done, rows)
    return done


def _batches(store: Engine, after: int, size: int) -> Iterator[Batch]:
    """The messages after `after` in id order, `size` at a time, with their groups' themes."""
    themes: dict[int, Theme] = {}
    while True:
        with store.connect() as conn:
            rows = read_rows(conn, after=after, limit=size)
            if not rows:
                return
            wanted = {row[1] for row in rows}
            if not wanted <= themes.keys():
                themes.update(group_themes(conn, wanted - themes.keys()))
        after = rows[-1][0]
        yield Batch(after, len(rows), rows, {cid: themes[cid] for cid in wanted})


def read_rows(
    conn: Connection, *, after: int, last: int | None = None, limit: int | None = None
) -> list[Row]:
    """The messages with ids after `after` (up to `last`, or the first `limit`), in id order,
    as label_rows takes them. Plain tuples: a Row's attribute access doubled the read's cost."""
    m = t.message.c
    query = select(m.id, m.community_id, m.kind, m.text).where(m.id > after).order_by(m.id)
    if last is not None:
        query = query.where(m.id <= last)
    if limit is not None:
        query = query.limit(limit)
    return [(mid, cid, kind, text or "") for mid, cid, kind, text in conn.execute(query).tuples()]


def group_themes(conn: Connection, ids: Iterable[int]) -> dict[int, Theme]:
    """Each group's theme as `shequn classify --group` reads it: its theme description (else
    its name) and its keywords (a JSON array; anything else counts as none)."""
    c = t.community.c
    out: dict[int, Theme] = {}
    for row in conn.execute(select(c.id, c.name, c.theme, c.keywords).where(c.id.in_(list(ids)))):
        out[row.id] = (row.theme or row.name or "", _keywords(row.id, row.keywords))
    return out


def _keywords(community_id: int, raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, list):
        log.warning("group %d: keywords are not a JSON array; ignored", community_id)
        return ()
    return tuple(str(k) for k in value if str(k).strip())


# --- the watermark and the rows -----------------------------------------------------------------


def _count_after(conn: Connection, last: int) -> int:
    query = select(func.count()).select_from(t.message).where(t.message.c.id > last)
    return int(conn.execute(query).scalar_one())


_COLUMNS = ", ".join(LABEL_COLUMNS)
# Driver-level writes: Core's per-row dict handling cost as much as the rules. SQLite takes an
# executemany of tuples; PostgreSQL one statement per batch with a column per array (unnest),
# which is one round trip instead of one per row.
_INSERT_SQLITE = (
    f"INSERT INTO message_label ({_COLUMNS}) VALUES ({', '.join('?' * len(LABEL_COLUMNS))})"
    " ON CONFLICT (message_id) DO NOTHING"
)
_PG_ARRAYS = (
    "bigint",
    "bigint",
    "boolean",
    "text",
    "float8",
    "text",
    "float8",
    "boolean",
    "boolean",
)
_INSERT_PG = (
    f"INSERT INTO message_label ({_COLUMNS}) SELECT * FROM unnest("
    + ", ".join(f"%s::{kind}[]" for kind in _PG_ARRAYS)
    + ") ON CONFLICT (message_id) DO NOTHING"
)


def _insert(conn: Connection, labels: list[Label]) -> None:
    if not labels:
        return
    if conn.dialect.name == "postgresql":
        columns = tuple(list(column) for column in zip(*labels, strict=True))
        conn.exec_driver_sql(_INSERT_PG, columns)
    else:
        conn.exec_driver_sql(_INSERT_SQLITE, labels)


# --- worker processes ---------------------------------------------------------------------------


def _label_payload(payload: tuple[list[Row], dict[int, Theme]]) -> list[Label]:
    rows, themes = payload
    return label_rows(rows, themes)


def warm() -> None:
    """Load the rules' tables before a fork, so that the workers share them."""
    label_message("预热一下 warm up?", theme=("预热", ("warm",)))


def label_in_workers(batches: Iterable[Batch], *, workers: int) -> Labelled:
    """(batch, its label rows) for each batch, in order, labelled by `workers` processes: what
    enrich_pending runs on a large backlog (benchmarks/text_quality.py times it)."""
    warm()
    items = ((b, (b.rows, b.themes)) for b in batches)
    yield from map_in_order(items, _label_payload, workers=workers, what="enrichment")
