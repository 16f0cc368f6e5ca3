"""`shequn group show/set/suggest-keywords` and the settings service under them
(shequn.group_settings): validation before any write, one transaction, re-scoring on a new theme.

The CLI runs in process (typer's CliRunner) on a SQLite store; the service tests run on SQLite
and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from analytics_builder import StoreBuilder, at
from shequn.cli import app
from shequn.config import get_settings
from shequn.errors import InputError, NotFound
from shequn.group_settings import (
    group_settings,
    parse_keywords,
    suggest_group_keywords,
    update_group_settings,
)
from shequn.store import schema as t
from shequn.store.db import open_store
from shequn.text.enrich import enrich_pending


def _fill(engine: Engine) -> tuple[int, int]:
    """Two groups. 跑步群: 3 × "跑步 配速" and 2 × "天气 很好" (segmented: 跑步 / 天气; 配速 and
    很好 are no terms); 读书群: 2 × "天气 很好", 2 × "读书 小说", and a system notice that
    keyword suggestions must not read."""
    s = StoreBuilder(engine)
    run, read = s.group("跑步群"), s.group("读书群")
    ana = s.person("ana")
    texts = [(run, "跑步 配速")] * 3 + [(run, "天气 很好")] * 2
    texts += [(read, "天气 很好")] * 2 + [(read, "读书 小说")] * 2
    for minute, (gid, text) in enumerate(texts):
        s.say(gid, ana, at(f"2026-03-02 10:{minute:02d}"), text)
    s.say(read, None, at("2026-03-02 11:00"), "跑步 跑步 跑步", kind="system")
    enrich_pending(engine)
    return run, read


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Run `shequn …` in process on a fresh SQLite store; returns (invoke, engine, run, read)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(get_settings(), "database_url", url)  # restored after the test
    engine = open_store(url)
    run, read = _fill(engine)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), env={"SHEQUN_DATABASE_URL": url})

    return invoke, engine, run, read


def _json(result) -> dict:
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout)


def test_show_lists_every_setting_and_the_counts(cli):
    invoke, _, run, _ = cli
    assert _json(invoke("group", "show", "跑步群", "--json")) == {
        "id": run,
        "platform": "telegram",
        "name": "跑步群",
        "kind": None,
        "theme": None,
        "keywords": [],
        "rules": None,
        "timezone": "UTC",
        "answer_window": None,
        "effective_answer_window": 30,
        "messages": 5,
        "labelled": 5,
    }
    text = invoke("group", "show", str(run)).stdout
    assert "default 30 min" in text and "跑步群" in text


def test_set_writes_everything_and_rescores(cli):
    invoke, engine, run, _ = cli
    out = _json(
        invoke(
            "group", "set", "跑步群", "--theme", "跑步训练", "--keywords", "跑步，天气,跑步",
            "--kind", "interest", "--timezone", "Asia/Shanghai", "--answer-window", "45",
            "--rules", "只聊跑步", "--json",
        )
    )  # fmt: skip
    assert out["changed"] == ["kind", "theme", "keywords", "rules", "timezone", "answer_window"]
    assert out["settings"]["keywords"] == ["跑步", "天气"]  # the repeat dropped
    assert out["settings"]["answer_window"] == 45
    # before: against the name 跑步群 (its term: 跑步, a description word, 0.6 / 1.1 = 0.545) the
    # 跑步 messages scored 0.545 and the 天气 ones nothing (one term, no match: too short);
    # after: each names a keyword (跑步 or 天气), 1.0 / 1.5 = 0.667: all 5 change
    assert out["rescored"] is True and out["rescored_messages"] == 5
    with engine.connect() as c:
        scores = set(
            c.execute(
                select(t.message_label.c.theme_score).where(t.message_label.c.community_id == run)
            ).scalars()
        )
    assert scores == {0.667}
    again = _json(invoke("group", "set", "跑步群", "--keywords", "跑步,天气", "--json"))
    # given again: nothing to write, a re-scoring pass that finds nothing to change
    assert again["changed"] == [] and again["rescored"] is True
    assert again["rescored_messages"] == 0
    window_only = _json(invoke("group", "set", "跑步群", "--answer-window", "20", "--json"))
    assert window_only["rescored"] is False
    cleared = _json(invoke("group", "set", "跑步群", "--clear-answer-window", "--json"))
    assert cleared["changed"] == ["answer_window"]
    assert cleared["settings"]["answer_window"] is None
    assert cleared["settings"]["effective_answer_window"] == 30


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--kind", "club"], "kind"),
        (["--timezone", "Mars/Olympus"], "timezone"),
        (["--answer-window", "-1"], "answer_window"),
        (["--answer-window", "10081"], "answer_window"),
        (["--keywords", " ，, "], "keywords"),
        (["--answer-window", "5", "--clear-answer-window"], "answer_window"),
        ([], "settings"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(cli, args, field):
    invoke, engine, run, _ = cli
    # a good theme beside the bad value: it must not be written either
    result = invoke("group", "set", "跑步群", *(["--theme", "新主题"] if args else []), *args)
    assert isinstance(result.exception, InputError)
    assert result.exception.field == field
    assert group_settings(engine, run).theme is None


def test_empty_keywords_clear_them(cli):
    invoke, engine, run, _ = cli
    invoke("group", "set", "跑步群", "--keywords", "跑步,天气")
    assert group_settings(engine, run).keywords == ["跑步", "天气"]
    out = _json(invoke("group", "set", "跑步群", "--keywords", "", "--json"))
    assert (out["changed"], out["settings"]["keywords"]) == (["keywords"], [])
    assert group_settings(engine, run).keywords == []


def test_unknown_group(cli):
    invoke, *_ = cli
    assert isinstance(invoke("group", "show", "nope").exception, NotFound)


def test_suggest_keywords_and_apply(cli):
    invoke, engine, run, read = cli
    # 跑步群: 跑步 in 3 of 5 messages, only here: (1 + ln 3) × (ln(3/2) + 1) × 1 = 2.9496;
    # 天气 in 2 of 5 (rate 0.4; 读书群 0.5): (1 + ln 2) × (ln(3/3) + 1) × 0.4/0.9 = 0.7525;
    # scaled by the best: 1.0 and 0.2551. The system notice in 读书群 is not read.
    out = _json(invoke("group", "suggest-keywords", "跑步群", "--json"))
    assert out == {
        "group": run,
        "terms": [{"term": "跑步", "score": 1.0}, {"term": "天气", "score": 0.2551}],
    }
    applied = _json(
        invoke("group", "suggest-keywords", "跑步群", "--top", "1", "--apply", "--json")
    )
    assert applied["terms"] == [{"term": "跑步", "score": 1.0}]
    # the 3 跑步 messages go from 0.545 (description word) to 0.667 (keyword); the 2 天气 ones
    # stay unscored
    assert applied["applied"] is True and applied["rescored_messages"] == 3
    assert group_settings(engine, run).keywords == ["跑步"]
    assert suggest_group_keywords(engine, read, top=3) == [
        ("小说", 1.0),
        ("读书", 1.0),
        ("天气", 0.3953),  # (1 + ln 2) × 1 × 0.5/0.9 over (1 + ln 2) × 1.4055
    ]


def test_the_service_on_both_stores(engine: Engine):
    run, read = _fill(engine)
    result = update_group_settings(
        engine, run, {"keywords": ["跑步"], "answer_window": 15, "kind": "learning"}
    )
    assert result.changed == ["kind", "keywords", "answer_window"]
    assert result.rescored_messages == 3  # the three 跑步 messages, as above
    assert group_settings(engine, run).answer_window == 15
    with pytest.raises(InputError) as info:
        update_group_settings(engine, read, {"theme": "读书", "timezone": "Nowhere/City"})
    assert info.value.field == "timezone"
    assert group_settings(engine, read).theme is None
    with pytest.raises(InputError) as bad:
        update_group_settings(engine, read, {"colour": "red"})
    assert bad.value.field == "colour"
    with pytest.raises(NotFound):
        update_group_settings(engine, 999, {"kind": "brand"})


def test_parse_keywords_splits_on_both_commas():
    assert parse_keywords("跑步，配速, marathon、Marathon;越野") == [
        "跑步",
        "配速",
        "marathon",
        "越野",
    ]
