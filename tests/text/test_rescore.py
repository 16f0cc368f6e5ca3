"""Re-scoring a group's labelled messages after its theme changed (text/rescore.py).

Runs on SQLite and PostgreSQL (the `engine` fixture). The group starts without a theme, so
enrichment scored it against its name ("lounge") and judged no gossip (gossip needs keywords).
Then the theme becomes "跑步 running" with keywords 跑步 and marathon. Expected values, from the
formulas in docs/text-theme-kol.md: score = E / (E + 0.5) over the weights E of the matched
terms; a keyword weighs 1.0 (0.667), a description word 0.6 (0.6 / 1.1 = 0.545); a message with
two or more terms and no match scores 0.0; fewer than two terms and no match: no score (None).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select, update

from analytics_builder import StoreBuilder, at
from shequn.errors import InputError, NotFound
from shequn.store import schema as t
from shequn.text.enrich import enrich_pending
from shequn.text.rescore import rescore_group

# label -> (text, kind, (offtopic, theme_score) before, after the new theme)
MESSAGES: dict[str, tuple[str, str, tuple[str | None, float | None] | None, tuple | None]] = {
    "run_zh": ("今天跑步十公里，好累", "text", (None, 0.0), (None, 0.667)),  # keyword 跑步
    "run_en": ("I finished the marathon in four hours", "text", (None, 0.0), (None, 0.667)),
    "book": ("这本小说太好看了，推荐大家读书", "text", (None, 0.0), (None, 0.0)),
    "gossip_zh": ("听说某明星离婚了，大家怎么看这个八卦", "text", (None, 0.0), ("gossip", 0.0)),
    "gossip_en": (
        "Did you hear the celebrity divorce rumors? Crazy gossip today",
        "text",
        (None, 0.0),
        ("gossip", 0.0),
    ),
    "running": ("Anyone up for running this weekend?", "text", (None, 0.0), (None, 0.545)),
    "short": ("ok", "text", (None, None), (None, None)),  # too short to tell
    "packet": ("[红包]恭喜发财", "red_packet", ("red_packet", None), ("red_packet", None)),
    "joined": ("ana joined the group", "system", None, None),  # no row, ever
}
CHANGED = [k for k, (_, _, old, new) in MESSAGES.items() if old != new]  # 5 of them


def _build(engine: Engine) -> tuple[StoreBuilder, int, int, dict[str, int]]:
    s = StoreBuilder(engine)
    g, other = s.group("lounge"), s.group("other")
    ana = s.person("ana")
    for minute, (text, kind, _, _) in enumerate(MESSAGES.values()):
        s.say(g, ana, at(f"2026-03-02 10:{minute:02d}"), text, kind=kind)
    s.say(other, ana, at("2026-03-02 10:00"), "今天跑步十公里，好累")
    enrich_pending(engine)
    with engine.connect() as c:
        ids = list(
            c.execute(
                select(t.message.c.id).where(t.message.c.community_id == g).order_by("id")
            ).scalars()
        )
    return s, g, other, dict(zip(MESSAGES, ids, strict=True))


def _set_theme(engine: Engine, group: int, theme: str, keywords: list[str]) -> None:
    with engine.begin() as c:
        c.execute(
            update(t.community)
            .where(t.community.c.id == group)
            .values(theme=theme, keywords=json.dumps(keywords, ensure_ascii=False))
        )


def _labels(engine: Engine, group: int) -> dict[int, tuple[str | None, float | None]]:
    label = t.message_label.c
    with engine.connect() as c:
        rows = c.execute(
            select(label.message_id, label.offtopic, label.theme_score).where(
                label.community_id == group
            )
        )
        return {mid: (off, score) for mid, off, score in rows}


def _expected(ids: dict[str, int], which: int) -> dict[int, tuple]:
    return {ids[k]: v[which] for k, v in MESSAGES.items() if v[which] is not None}


def test_a_new_theme_rescores_old_messages_and_a_second_run_changes_nothing(engine: Engine):
    _, g, other, ids = _build(engine)
    assert _labels(engine, g) == _expected(ids, 2)
    other_before = _labels(engine, other)
    _set_theme(engine, g, "跑步 running", ["跑步", "marathon"])
    seen: list[tuple[int, int]] = []
    assert rescore_group(engine, g, batch=3, progress=lambda d, n: seen.append((d, n))) == 5
    assert len(CHANGED) == 5
    assert _labels(engine, g) == _expected(ids, 3)
    # 8 labelled messages (the system notice has no row), read 3 at a time
    assert seen == [(3, 8), (6, 8), (8, 8)]
    assert rescore_group(engine, g) == 0
    assert _labels(engine, g) == _expected(ids, 3)
    assert _labels(engine, other) == other_before  # only the group asked for


def test_a_stopped_run_leaves_rows_old_or_new_and_the_next_run_finishes(engine: Engine):
    _, g, _, ids = _build(engine)
    _set_theme(engine, g, "跑步 running", ["跑步", "marathon"])

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rescore_group(engine, g, batch=2, progress=stop)
    # the first batch (run_zh, run_en: both changed) was committed, nothing after it
    halfway = _expected(ids, 2) | {ids["run_zh"]: (None, 0.667), ids["run_en"]: (None, 0.667)}
    assert _labels(engine, g) == halfway
    assert rescore_group(engine, g, batch=2) == 3  # gossip_zh, gossip_en, running
    assert _labels(engine, g) == _expected(ids, 3)


def test_messages_past_the_watermark_are_left_to_enrichment(engine: Engine):
    s, g, _, _ = _build(engine)
    _set_theme(engine, g, "跑步 running", ["跑步", "marathon"])
    late = s.say(g, s.person("bo"), at("2026-03-02 11:00"), "明天一起去跑步吧")
    rescore_group(engine, g)
    with engine.connect() as c:
        late_id = c.execute(
            select(t.message.c.id).where(t.message.c.platform_msg_id == late)
        ).scalar_one()
    assert late_id not in _labels(engine, g)  # no row made by re-scoring
    enrich_pending(engine)
    assert _labels(engine, g)[late_id] == (None, 0.667)  # enrichment reads the new theme


def test_bad_arguments(engine: Engine):
    with pytest.raises(NotFound):
        rescore_group(engine, 999)
    with pytest.raises(InputError) as info:
        rescore_group(engine, 1, batch=0)
    assert info.value.field == "batch"
