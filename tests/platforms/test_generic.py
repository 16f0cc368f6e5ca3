"""The generic CSV / JSONL format: goldens, times, errors, sniffing, fuzzing, round trip, docs."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts
from shequn.errors import InputError
from shequn.model.records import Community, MembershipEvent, Message, Reaction
from shequn.platforms import generic
from shequn.platforms.base import ParseContext, Source, detect
from shequn.platforms.generic import COLUMNS, REQUIRED, GenericParser

FIX = FIXTURES / "generic"
DOC = Path(__file__).resolve().parents[2] / "docs" / "generic-format.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30 and no DST since 1945: naive times are unambiguous
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _parse(path: Path, ctx: ParseContext | None = None) -> list:
    ctx = ctx if ctx is not None else ParseContext(tz=SHANGHAI, tz_explicit=True)
    source = Source(path)
    try:
        return list(GenericParser().parse(source, ctx))
    finally:
        source.close()


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def _csv(path: Path, rows: list[dict], header: list[str] | None = None) -> Path:
    header = header or list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _write(tmp: Path, fmt: str, rows: list[dict]) -> Path:
    if fmt == "csv":
        return _csv(tmp / "rows.csv", [{k: str(v) for k, v in r.items()} for r in rows])
    return _jsonl(tmp / "rows.jsonl", rows)


def _row(**extra: object) -> dict:
    base: dict = {
        "group_id": "g1",
        "message_id": "m1",
        "time": "2024-01-01T00:00:00Z",
        "sender_id": "u1",
        "text": "hi",
    }
    return base | extra


def _one_error(path: Path, **ctx: object) -> InputError:
    with pytest.raises(InputError) as info:
        _parse(path, ParseContext(**ctx))  # type: ignore[arg-type]
    return info.value


# -- golden files ----------------------------------------------------------------------------
def test_csv_golden():
    records = parse_to_dicts("generic", FIX / "chats.csv", tz=SHANGHAI, tz_explicit=True)
    assert_golden(records, FIX / "chats.csv.golden.jsonl")


def test_csv_key_facts():
    recs = _parse(FIX / "chats.csv")
    communities = [(c.platform, c.platform_id, c.name) for c in recs if isinstance(c, Community)]
    assert communities == [
        ("line", "C1a2b", "深圳跑步群"),
        ("kakao", "G-kakao-77", "Seoul Book Club 서울 독서모임"),
    ]
    msgs = {m.message_id: m for m in recs if isinstance(m, Message)}
    m3 = msgs["m-003"]
    assert m3.text == "Hi all, 我是新来的。\nFirst half-marathon next month —\n  any tips?"
    assert m3.sent_at == datetime(2024, 3, 1, 12, 3, 0, 123000, tzinfo=UTC)  # epoch ms
    assert (m3.reply_to, m3.mentions) == ("m-001", ["U100", "U200"])
    assert msgs["m-001"].sent_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # +08:00
    built = sorted(i for i in msgs if i.startswith("1709294700-"))  # naive 20:05 Shanghai
    assert len(built) == 2 and built[0][:-1] == built[1][:-1]
    assert [b[-2:] for b in built] == ["-0", "-1"]
    assert msgs[built[0]].sender is not None and msgs[built[0]].sender.by_name
    assert msgs["m-010"].sender is None and msgs["m-010"].kind == "system"
    assert msgs["m-011"].sender is not None and msgs["m-011"].sender.is_bot
    assert msgs["m-011"].links == ["https://run.example.cn/checkin?g=C1a2b"]
    assert msgs["m-009"].deleted and not msgs["m-001"].deleted
    assert msgs["m-007"].edited_at == datetime(2024, 3, 1, 12, 8, 30, tzinfo=UTC)
    events = [
        (e.action, e.member.platform_id, e.actor and e.actor.platform_id, e.source, e.at)
        for e in recs
        if isinstance(e, MembershipEvent)
    ]
    assert events == [
        ("join", "U300", "U100", "invite", datetime(2024, 3, 1, 12, 2, tzinfo=UTC)),
        ("leave", "U300", None, "unknown", datetime(2024, 3, 2, 1, 0, tzinfo=UTC)),
        ("remove", "U400", "U100", "unknown", datetime(2024, 3, 2, 1, 30, tzinfo=UTC)),
        ("join", "K2", None, "link", datetime(2024, 3, 5, 12, 1, tzinfo=UTC)),
    ]
    reactions = [
        (r.message_id, r.emoji, r.reactor.platform_id, r.reactor.by_name)
        for r in recs
        if isinstance(r, Reaction)
    ]
    assert reactions == [("m-003", "👍", "U200", False), ("m-1", "❤️", "Tom", True)]


def test_jsonl_golden():
    records = parse_to_dicts("generic", FIX / "chats.jsonl", tz=SHANGHAI, tz_explicit=True)
    assert_golden(records, FIX / "chats.jsonl.golden.jsonl")


def test_jsonl_key_facts():
    recs = _parse(FIX / "chats.jsonl")
    assert [type(r).__name__ for r in recs[:3]] == ["Community", "Message", "MembershipEvent"]
    communities = [(c.platform, c.platform_id, c.name) for c in recs if isinstance(c, Community)]
    assert communities == [
        ("generic", "team-42", "产品内测群 Beta testers"),
        ("line", "ops-1", "ops-1"),
    ]
    msgs = {m.message_id: m for m in recs if isinstance(m, Message)}
    assert msgs["1001"].text == "早上好 ☀️\nBuild 2.3.1 is out — please test the login flow."
    assert msgs["1001"].sender.platform_id == "501"  # integer ids become strings
    assert msgs["1003"].sent_at == datetime(2024, 5, 20, 9, 36, 0, 500000, tzinfo=UTC)
    assert (msgs["1003"].reply_to, msgs["1003"].mentions) == ("1001", ["501"])
    assert msgs["1007"].edited_at == datetime(2024, 5, 20, 9, 51, 0, 500000, tzinfo=UTC)
    assert msgs["1008"].sent_at == datetime(2024, 5, 20, 2, 0, 0, 250000, tzinfo=UTC)
    assert msgs["1008"].deleted and not msgs["1007"].deleted
    assert msgs["1011"].text == "下周发布？ Ship next week?\n✅ Yes / ❌ No"
    assert msgs["m1"].text == "hi 👋  "  # trailing spaces kept
    built = [m for i, m in msgs.items() if i.startswith("1716198000-")]  # naive 17:40 Shanghai
    assert len(built) == 1 and built[0].mentions == ["Priya", "Lin 林"]
    assert msgs["1010"].kind == "system" and msgs["1006"].sender.is_bot
    removal = next(r for r in recs if isinstance(r, MembershipEvent) and r.action == "remove")
    assert (removal.member.by_name, removal.member.name, removal.message_id) == (
        True,
        "spam bot 推广",
        "svc-9",
    )
    assert removal.at == datetime(2024, 5, 21, 8, 0, tzinfo=UTC)
    joins = [
        (e.member.platform_id, e.source)
        for e in recs
        if isinstance(e, MembershipEvent) and e.action == "join"
    ]
    assert joins == [("502", "qr"), ("504", "request")]


def test_jsonl_unicode_line_separators_stay_inside_text(tmp_path):
    # Only b"\n" ends a JSONL line; U+2028, U+0085 and a raw CR inside a string are text.
    text = "第一行\u2028second\u0085third\u2029end"
    path = tmp_path / "x.jsonl"
    path.write_bytes(orjson.dumps(_row(text=text)) + b"\r\n" + orjson.dumps(_row(message_id="m2")))
    msgs = [r for r in _parse(path) if isinstance(r, Message)]
    assert [(m.message_id, m.text) for m in msgs] == [("m1", text), ("m2", "hi")]


# -- times -----------------------------------------------------------------------------------
_T = datetime(2024, 3, 1, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T20:15:00+08:00", _T),
        ("2024-03-01T12:15:00Z", _T),
        ("2024-03-01 20:15:00.250+08:00", _T + timedelta(milliseconds=250)),
        ("2024-03-01T20:15+0800", _T),
        ("  2024-03-01T12:15:00Z ", _T),
        (1709295300, _T),
        ("1709295300", _T),
        (1709295300000, _T),
        ("1709295300000", _T),
        (1709295300.5, _T + timedelta(milliseconds=500)),
        ("1709295300.000001", _T + timedelta(microseconds=1)),
        (99_999_999_999, datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC)),  # still seconds
        (100_000_000_000, datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)),  # from here milliseconds
        ("2024-03-01 20:15", _T),  # naive, read in Shanghai
        ("2024-03-01T20:15:00", _T),
    ],
)
def test_time_forms(tmp_path, value, expected):
    recs = _parse(_jsonl(tmp_path / "t.jsonl", [_row(time=value)]))
    assert recs[1].sent_at == expected
    assert recs[1].sent_at.tzinfo is UTC


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-03-01",
        "01/03/2024 10:00",
        "2024-13-01T00:00:00Z",
        -5,
        True,
        1e30,
        "1e9",
        "",
        "２０２４-03-01 10:00",
        [1],
    ],
)
def test_bad_times(tmp_path, value):
    err = _one_error(_jsonl(tmp_path / "t.jsonl", [_row(), _row(time=value)]))
    assert (err.file, err.line, err.field) == (str(tmp_path / "t.jsonl"), 2, "time")


def test_naive_times_warn_once_per_file_without_tz(tmp_path):
    a = _csv(tmp_path / "a.csv", [_row(time="2024-03-01 20:15"), _row(time="2024-03-01 21:00")])
    ctx = ParseContext(tz=SHANGHAI)
    _parse(a, ctx)
    assert len(ctx.warnings) == 1
    assert str(a) in ctx.warnings[0] and "Asia/Shanghai" in ctx.warnings[0]
    assert "line 2" in ctx.warnings[0]
    explicit = ParseContext(tz=SHANGHAI, tz_explicit=True)
    _parse(a, explicit)
    assert explicit.warnings == []
    aware = ParseContext(tz=SHANGHAI)
    _parse(_csv(tmp_path / "b.csv", [_row(), _row(time=1709295300)]), aware)
    assert aware.warnings == []


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", REQUIRED)
def test_csv_missing_required_column(tmp_path, missing):
    row = {k: v for k, v in _row().items() if k != missing}
    path = _csv(tmp_path / "x.csv", [row])
    err = _one_error(path, skip_bad=True)  # not this format: even --skip-bad stops
    assert (err.file, err.line, err.field) == (str(path), 1, missing)


def test_csv_header_problems(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("group_id,message_id,time,sender_id,text,TEXT\n", encoding="utf-8")
    assert (_one_error(path).line, _one_error(path).field) == (1, "text")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert (_one_error(empty).file, _one_error(empty).line) == (str(empty), 1)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"time": "soon"}, "time"),
        ({"event": "kick"}, "event"),
        ({"deleted": "maybe"}, "deleted"),
        ({"is_bot": "2"}, "is_bot"),
        ({"kind": "gif"}, "kind"),
        ({"edited_time": "later"}, "edited_time"),
        ({"group_id": " "}, "group_id"),
        ({"event": "join", "join_source": "magic"}, "join_source"),
        ({"event": "join", "sender_id": ""}, "sender_id"),
        ({"event": "reaction", "target_message_id": "m1"}, "emoji"),
        ({"event": "reaction", "emoji": "👍"}, "target_message_id"),
        ({"platform": "kakao"}, "platform"),  # group g1 was "generic" on line 2
    ],
)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_bad_value_names_file_line_field(tmp_path, fmt, bad, field):
    rows = [
        _row(),
        _row(message_id="m2", text="多行\n文本"),
        _row(message_id="m3") | bad,
        _row(message_id="m4"),
    ]
    path = _write(tmp_path, fmt, rows)
    line = 5 if fmt == "csv" else 3  # the CSV's second row spans lines 3-4
    err = _one_error(path)
    assert (err.file, err.line, err.field) == (str(path), line, field)
    assert f"line {line}" in str(err) and f"field '{field}'" in str(err)
    ctx = ParseContext(skip_bad=True)
    recs = _parse(path, ctx)
    assert [r.message_id for r in recs if isinstance(r, Message)] == ["m1", "m2", "m4"]
    assert [(e.line, e.field) for e in ctx.skipped] == [(line, field)]


@pytest.mark.parametrize(
    ("line", "message", "field"),
    [
        (b"[1, 2]", "expected a JSON object", None),
        (b'{"group_id": "g1", "time": ', "not valid JSON", None),
        (b'{"group_id": "g1", "time": 1709295300, "text": 5}', "expected a string", "text"),
        (b'{"group_id": {"a": 1}, "time": 1709295300}', "expected a string", "group_id"),
        (b'{"group_id": "g1", "time": 1709295300, "mentions": [{}]}', "string", "mentions"),
        (b'{"group_id": "g1", "time": 1709295300, "deleted": 3}', "boolean", "deleted"),
        (b'{"group_id": "g1", "time": 1709295300, "text": "\xff"}', "not valid JSON", None),
    ],
)
def test_jsonl_bad_lines(tmp_path, line, message, field):
    good = orjson.dumps(_row())
    path = tmp_path / "x.jsonl"
    path.write_bytes(good + b"\n\n" + line + b"\n" + good.replace(b"m1", b"m9") + b"\n")
    err = _one_error(path)
    assert (err.file, err.line, err.field) == (str(path), 3, field)
    assert message in err.message
    ctx = ParseContext(skip_bad=True)
    assert [r.message_id for r in _parse(path, ctx) if isinstance(r, Message)] == ["m1", "m9"]
    assert [e.line for e in ctx.skipped] == [3]


def test_jsonl_first_line_not_json_stops_even_with_skip_bad(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"group_id,time\n" + orjson.dumps(_row()) + b"\n")
    err = _one_error(path, skip_bad=True)
    assert (err.file, err.line) == (str(path), 1)


def test_jsonl_overlong_line_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(generic, "_MAX_LINE", 200)
    path = tmp_path / "x.jsonl"
    long = orjson.dumps(_row(message_id="m2", text="长" * 300))
    path.write_bytes(
        orjson.dumps(_row()) + b"\n" + long + b"\n" + orjson.dumps(_row(message_id="m3")) + b"\n"
    )
    ctx = ParseContext(skip_bad=True)
    assert [r.message_id for r in _parse(path, ctx) if isinstance(r, Message)] == ["m1", "m3"]
    assert [(e.line, "16 MB" in e.message) for e in ctx.skipped] == [(2, True)]


def test_csv_row_width(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(
        "group_id,message_id,time,sender_id,text\n"
        "g1,m1,1709295300,u1,ok\n"
        "g1,m2,1709295300,u1\n"
        "g1,m3,1709295300,u1,a,b\n"
        "\n"
        "g1,m4,1709295300,u1,ok\n",
        encoding="utf-8",
    )
    err = _one_error(path)
    assert (err.line, err.field) == (3, "text")
    ctx = ParseContext(skip_bad=True)
    assert [r.message_id for r in _parse(path, ctx) if isinstance(r, Message)] == ["m1", "m4"]
    assert [(e.line, e.field) for e in ctx.skipped] == [(3, "text"), (4, None)]


def test_csv_invalid_utf8_midway_keeps_what_came_before(tmp_path):
    head = "group_id,message_id,time,sender_id,text\n"
    rows = "".join(f"g1,m{i},1709295300,u1,消息 {i}\n" for i in range(2000))
    path = tmp_path / "x.csv"
    path.write_bytes(head.encode() + rows.encode() + b"g1,bad,1709295300,u1,\xff\xfe\n")
    with pytest.raises(InputError) as info:
        _parse(path, ParseContext())
    assert info.value.file == str(path) and "UTF-8" in info.value.message
    ctx = ParseContext(skip_bad=True)
    got = [r for r in _parse(path, ctx) if isinstance(r, Message)]
    assert len(got) >= 1000 and len(ctx.skipped) == 1
    assert ctx.skipped[0].line is not None and ctx.skipped[0].line > 1000


def test_unknown_columns_warn(tmp_path):
    ctx = ParseContext()
    _parse(_csv(tmp_path / "x.csv", [_row(txet="typo", reply_to="m0")]), ctx)
    assert len(ctx.warnings) == 1 and "txet" in ctx.warnings[0]
    assert "reply_to" not in ctx.warnings[0]
    ctx = ParseContext()
    _parse(_jsonl(tmp_path / "x.jsonl", [_row(sendr="u2"), _row(message_id="m2")]), ctx)
    assert len(ctx.warnings) == 1 and "sendr" in ctx.warnings[0]


# -- groups, files, sniffing -----------------------------------------------------------------
def test_each_group_announced_once_before_its_records(tmp_path):
    rows = [
        _row(group_id="a"),
        _row(group_id="b", group_name="Bee", platform="LINE"),
        _row(group_id="a", message_id="m2", group_name="later name ignored"),
    ]
    recs = _parse(_jsonl(tmp_path / "x.jsonl", rows))
    ids = [r.platform_id if isinstance(r, Community) else r.community_id for r in recs]
    assert list(zip([type(r).__name__ for r in recs], ids, strict=True)) == [
        ("Community", "a"),
        ("Message", "a"),
        ("Community", "b"),
        ("Message", "b"),
        ("Message", "a"),
    ]
    assert (recs[0].name, recs[2].name, recs[2].platform) == ("a", "Bee", "line")


def test_a_bad_first_row_announces_no_group(tmp_path):
    rows = [_row(time="never"), _row(message_id="m2")]
    recs = _parse(_jsonl(tmp_path / "x.jsonl", rows), ParseContext(skip_bad=True))
    assert [type(r).__name__ for r in recs] == ["Community", "Message"]


def test_sniff(tmp_path):
    for name in ("chats.csv", "chats.jsonl"):
        found = detect(Source(FIX / name))
        assert (found.parser, found.confidence) == (GenericParser, 90)
    other = _csv(tmp_path / "other.csv", [{"localId": "1", "StrContent": "hi"}])
    renamed = tmp_path / "chats.json"
    shutil.copy(FIX / "chats.jsonl", renamed)
    no_time = _jsonl(tmp_path / "n.jsonl", [{"group_id": "g"}])
    txt = tmp_path / "chats.txt"
    shutil.copy(FIX / "chats.csv", txt)
    for path in (other, renamed, no_time, txt):
        assert GenericParser.sniff(Source(path)) == 0, path
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf\n" + (FIX / "chats.jsonl").read_bytes())
    assert GenericParser.sniff(Source(bom)) == 90


def test_other_names_are_read_by_content(tmp_path):
    txt = tmp_path / "chats.txt"
    shutil.copy(FIX / "chats.csv", txt)
    assert _parse(txt) == _parse(FIX / "chats.csv")
    dat = tmp_path / "chats.dat"
    shutil.copy(FIX / "chats.jsonl", dat)
    assert _parse(dat) == _parse(FIX / "chats.jsonl")


def test_folder_and_zip(tmp_path):
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("chats.csv", "chats.jsonl"):
        shutil.copy(FIX / name, folder / name)
    (folder / "readme.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    expected = _parse(FIX / "chats.csv") + _parse(FIX / "chats.jsonl")
    assert GenericParser.sniff(Source(folder)) == 90
    assert _parse(folder) == expected
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("chats.jsonl", "chats.csv"):
            z.write(folder / name, f"export/{name}")
    assert GenericParser.sniff(Source(archive)) == 90
    assert _parse(archive) == expected
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.csv").write_text("x\n", encoding="utf-8")
    assert _one_error(empty).file == str(empty)


def test_derived_ids_stable_and_per_group(tmp_path):
    rows = [_row(message_id="", group_id=g) for g in ("a", "a", "b")]
    recs = [r for r in _parse(_csv(tmp_path / "x.csv", rows)) if isinstance(r, Message)]
    ids = [r.message_id for r in recs]
    assert ids[0].endswith("-0") and ids[1].endswith("-1") and ids[2].endswith("-0")
    again = [
        r.message_id for r in _parse(_jsonl(tmp_path / "x.jsonl", rows)) if isinstance(r, Message)
    ]
    assert again == ids  # the same rows give the same ids, whichever of the two forms
    assert ids[0].startswith(f"{int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())}-")


# -- fuzzing ---------------------------------------------------------------------------------
def _run_fuzz(name: str, data: bytes, skip_bad: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        with contextlib.suppress(InputError):
            _parse(path, ParseContext(skip_bad=skip_bad))


_VALUES = st.sampled_from(
    [
        "",
        " ",
        "join",
        "leave",
        "remove",
        "reaction",
        "message",
        "bogus",
        "true",
        "0",
        "2",
        "2024-03-01 20:00",
        "2024-03-01T20:00:00+08:00",
        "1709294520",
        "1709294580123",
        "U1",
        "👍",
        "sticker",
        "qr",
        "a;b;",
        "9" * 40,
        "0001-01-01T00:00:00+01:00",
        "9999-12-31 23:59:59",
    ]
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | _VALUES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=3000) | st.text(max_size=1000).map(str.encode), skip_bad=st.booleans()
)
def test_fuzz_arbitrary_bytes(data, skip_bad):
    _run_fuzz("x.jsonl", data, skip_bad)
    _run_fuzz("x.csv", data, skip_bad)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.dictionaries(st.sampled_from([*COLUMNS, "junk"]), _JSON, max_size=12), max_size=6
    ),
    skip_bad=st.booleans(),
)
def test_fuzz_jsonl_records(rows, skip_bad):
    # json, not orjson: it also writes integers beyond 64 bits and NaN, which readers meet.
    lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    _run_fuzz("x.jsonl", "".join(lines).encode(), skip_bad)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.lists(_VALUES | st.text(max_size=8), min_size=len(COLUMNS), max_size=len(COLUMNS)),
        max_size=6,
    ),
    skip_bad=st.booleans(),
)
def test_fuzz_csv_rows(rows, skip_bad):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    _run_fuzz("x.csv", out.getvalue().encode(), skip_bad)


# -- round trip ------------------------------------------------------------------------------
_FORMS = ("iso_offset", "iso_z", "epoch_s", "epoch_ms", "naive")


def _render(dt: datetime, form: str, offset_min: int) -> tuple[object, datetime]:
    """A time as a writer would put it, and what the parser must give back."""
    if form == "iso_offset":
        return dt.astimezone(timezone(timedelta(minutes=offset_min))).isoformat(), dt
    if form == "iso_z":
        return dt.isoformat().replace("+00:00", "Z"), dt
    if form == "epoch_s":
        seconds = (dt - EPOCH) // timedelta(seconds=1)
        return seconds, EPOCH + timedelta(seconds=seconds)
    if form == "epoch_ms":
        ms = (dt - EPOCH) // timedelta(milliseconds=1)
        return ms, EPOCH + timedelta(milliseconds=ms)
    return dt.astimezone(KOLKATA).replace(tzinfo=None).isoformat(sep=" "), dt


_ITEMS = st.lists(
    st.tuples(
        st.text(),
        st.datetimes(
            min_value=datetime(1974, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
        ),
        st.sampled_from(_FORMS),
        st.integers(min_value=-12 * 60, max_value=14 * 60),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(items=_ITEMS)
def test_round_trip(items):
    rows, expected = [], []
    for i, (text, dt, form, offset) in enumerate(items):
        value, back = _render(dt, form, offset)
        rows.append(
            {"group_id": "g", "message_id": f"m{i}", "time": value, "sender_id": "u", "text": text}
        )
        expected.append((f"m{i}", text, back))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("jsonl", "csv"):
            path = _write(Path(tmp), fmt, rows)
            recs = _parse(path, ParseContext(tz=KOLKATA, tz_explicit=True))
            got = [(m.message_id, m.text, m.sent_at) for m in recs if isinstance(m, Message)]
            assert got == expected, fmt


# -- the documentation and the parser agree --------------------------------------------------
def _doc_columns() -> dict[str, dict[str, str]]:
    section = DOC.read_text(encoding="utf-8").split("## 列 (Columns)")[1].split("\n## ")[0]
    table: dict[str, dict[str, str]] = {}
    for line in section.splitlines():
        if re.match(r"\| `\w+` \|", line):
            name, required, applies, _meaning, example = (
                c.strip().strip("`") for c in line.strip().strip("|").split("|")
            )
            table[name] = {"required": required, "applies": applies, "example": example}
    return table


_EVENT_ROWS = {
    "message": {},
    "join": {"event": "join"},
    "leave": {"event": "leave"},
    "remove": {"event": "remove"},
    "reaction": {"event": "reaction", "emoji": "🙂", "target_message_id": "m0"},
}


def test_doc_columns_match_parser():
    table = _doc_columns()
    assert list(table) == list(COLUMNS)
    assert [c for c, row in table.items() if row["required"] == "yes"] == list(REQUIRED)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_doc_column_is_read_where_documented(tmp_path, fmt, column):
    """Each documented column changes the output on the events the doc says, and only there."""
    doc = _doc_columns()[column]
    applies = set(_EVENT_ROWS) if doc["applies"] == "all" else set(doc["applies"].split(", "))
    assert applies <= set(_EVENT_ROWS)
    for event, extra in _EVENT_ROWS.items():
        base = _row(**extra)
        if base.get(column) == doc["example"]:
            continue  # e.g. event=join on the join row: no change to expect
        changed = base | {column: doc["example"]}
        ctx = ParseContext(tz=SHANGHAI, tz_explicit=True)
        before = _parse(_write(tmp_path, fmt, [base]), ctx)
        after = _parse(_write(tmp_path, fmt, [changed]), ctx)
        assert (before != after) == (event in applies), (column, event)


def _doc_example(lang: str) -> str:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)[0]


def test_doc_examples_parse(tmp_path):
    csv_path = tmp_path / "example.csv"
    csv_path.write_text(_doc_example("csv"), encoding="utf-8")
    kinds = [type(r).__name__ for r in _parse(csv_path)]
    assert kinds == [
        "Community",
        "Message",
        "MembershipEvent",
        "Message",
        "Message",
        "Reaction",
        "Message",
        "MembershipEvent",
    ]
    jsonl_path = tmp_path / "example.jsonl"
    jsonl_path.write_text(_doc_example("json"), encoding="utf-8")
    recs = _parse(jsonl_path)
    assert [type(r).__name__ for r in recs] == [
        "Community",
        "Message",
        "MembershipEvent",
        "Message",
        "Reaction",
        "Message",
        "MembershipEvent",
        "Message",
    ]
    assert recs[-1].sender is None and recs[-1].kind == "system"
