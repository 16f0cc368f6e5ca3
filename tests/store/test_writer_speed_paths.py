"""The import's fast paths keep what the slow ones kept: file order in ids when plain and full
message rows alternate (each run goes in through its own statement, on the driver's cursor),
nothing added by a re-import, exact counts, and the collector's heap unfrozen afterwards.
On SQLite and PostgreSQL, through the real two-process pipeline."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from sqlalchemy import select

from shequn.config import get_settings
from shequn.errors import InputError
from shequn.importing import import_path
from shequn.store import schema as t

# An Android export (FORMATS.md §4: `D/M/YY, HH:MM - Name: text`, 12-hour English variant),
# neighbours sharing a minute. Rows: plain, full (a link), plain, plain (two lines), plain,
# full (two links), plain: five runs of one form, so a flush runs five statements.
CHAT = [
    "3/14/24, 9:05 AM - Lily 李: 大家好！今天的打卡完成了。",
    "3/14/24, 9:05 AM - Tom Baker: Check this out: https://example.com/post?id=42  cool",
    "3/14/24, 9:06 AM - Lily 李: 谢谢分享👍",
    "3/14/24, 9:06 AM - 小王: 第二行\n第三行 还有  两个空格",
    "3/14/24, 9:07 AM - Tom Baker: ok",
    "3/14/24, 9:07 AM - Tom Baker: https://example.com/a and https://example.com/b",
    "3/14/24, 9:08 AM - 小王: 全角标点！？：；",
]
MORE = [
    "3/14/24, 9:09 AM - Lily 李: Meeting moved to 8pm https://example.com/m",
    "3/14/24, 9:09 AM - 小王: 明天见～",
    "3/14/24, 9:10 AM - Tom Baker: 价格是 ¥199，包邮",
]


def _text(line: str) -> str:
    return line.split(": ", 1)[1]


def _chat(tmp_path: Path, lines: list[str], name: str = "WhatsApp Chat with 跑团.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def in_worker(monkeypatch):
    """Parse in the second process (the pipeline the fast paths serve), batches of two rows."""
    monkeypatch.setenv("SHEQUN_IMPORT_WORKER", "true")
    monkeypatch.setenv("SHEQUN_IMPORT_BATCH_SIZE", "2")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _import(engine, path: Path, *, force: bool = False):
    return import_path(engine, path, fmt="whatsapp", tz="Asia/Shanghai", force=force, index=False)


def _rows(engine) -> list[tuple[int, str, str | None]]:
    m = t.message.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(m.id, m.text, m.links).order_by(m.id))]


def test_mixed_row_forms_keep_file_order_in_ids(engine, tmp_path, in_worker):
    report = _import(engine, _chat(tmp_path, CHAT))
    rows = _rows(engine)
    # every text exactly as written, in file order when read by id (two lines, double spaces
    # and full-width ！？ untouched)
    assert [text for _id, text, _links in rows] == [_text(line) for line in CHAT]
    assert [links for _id, _text, links in rows] == [
        None,
        '["https://example.com/post?id=42"]',
        None,
        None,
        None,
        '["https://example.com/a","https://example.com/b"]',
        None,
    ]
    assert report.counts["messages_seen"] == report.counts["messages_added"] == 7


def test_reimport_of_mixed_file_adds_nothing(engine, tmp_path, in_worker):
    path = _chat(tmp_path, CHAT)
    _import(engine, path)
    before = _rows(engine)
    again = _import(engine, path, force=True)  # forced: the writer itself must skip them
    assert again.counts["messages_added"] == 0
    assert _rows(engine) == before


def test_overlapping_mixed_export_adds_only_new_messages_after_the_old(engine, tmp_path, in_worker):
    _import(engine, _chat(tmp_path, CHAT))
    old = _rows(engine)
    later = tmp_path / "later"  # the same chat exported again later: same file name
    later.mkdir()
    longer = _chat(later, CHAT + MORE)
    report = _import(engine, longer)
    rows = _rows(engine)
    assert report.counts["messages_added"] == 3
    assert rows[:7] == old
    # the three new ones come after every old id, in file order
    assert min(r[0] for r in rows[7:]) > max(r[0] for r in old)
    assert [r[1] for r in rows[7:]] == [_text(line) for line in MORE]


def test_heap_unfrozen_after_import_and_after_bad_input(engine, tmp_path, in_worker):
    _import(engine, _chat(tmp_path, CHAT))
    assert gc.get_freeze_count() == 0
    bad = tmp_path / "WhatsApp Chat with bad.txt"
    bad.write_bytes(f"{CHAT[0]}\n{CHAT[1]}".encode() + b" \xff\n")  # not UTF-8
    with pytest.raises(InputError):
        _import(engine, bad)
    assert gc.get_freeze_count() == 0
    assert len(_rows(engine)) == 7  # the failed import kept nothing


def test_long_plain_runs_split_into_statements_keep_order_and_counts(engine):
    """71 messages in one flush: plain 0-39 (statements of 32 + 8 rows on SQLite), one with a
    link at 40, plain 41-70 (30 rows); again: nothing added, counted exactly."""
    from datetime import UTC, datetime, timedelta

    from shequn.model.records import AccountRef, Community, Message
    from shequn.store.writer import ImportWriter

    t0 = datetime(2024, 3, 14, 1, 5, tzinfo=UTC)
    lily = AccountRef("447700900001", name="Lily 李")

    def records():
        yield Community(platform="whatsapp", platform_id="跑团", name="跑团")
        for i in range(71):
            links = ["https://example.com/p"] if i == 40 else []
            text = f"第{i}条 https://example.com/p" if i == 40 else f"第{i}条"
            yield Message("跑团", f"m{i}", t0 + timedelta(seconds=i // 3), lily, text, links=links)

    def write():
        with engine.begin() as conn:
            w = ImportWriter(conn, import_run_id=None, batch_size=1000)
            for r in records():
                w.write(r)
            return w.finish(), w._messages_added  # the inserts' own count (exact on SQLite)

    _counts, added = write()
    rows = _rows(engine)
    assert [text for _id, text, _links in rows] == [
        f"第{i}条 https://example.com/p" if i == 40 else f"第{i}条" for i in range(71)
    ]
    _counts, again = write()
    assert _rows(engine) == rows
    if engine.dialect.name == "sqlite":
        assert (added, again) == (71, 0)
