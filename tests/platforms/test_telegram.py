"""Telegram Desktop JSON reader (result.json) and the demo exporter that writes the same format."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts, realdata
from shequn.demo.exporters import telegram as exporter
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.errors import InputError
from shequn.model.records import AccountRef, Community, MembershipEvent, Message, Reaction
from shequn.platforms import telegram_stream
from shequn.platforms.base import ParseContext, Source, detect, get_parser

DIR = FIXTURES / "telegram"
SINGLE = DIR / "single_chat.json"
ACCOUNT = DIR / "account_export.json"
OLDER = DIR / "older_export.json"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _parse(path: Path, **ctx_kwargs) -> tuple[list, ParseContext]:
    ctx = ParseContext(**ctx_kwargs)
    source = Source(path)
    try:
        return list(get_parser("telegram")().parse(source, ctx)), ctx
    finally:
        source.close()


def _of(records: list, kind: type) -> list:
    return [r for r in records if isinstance(r, kind)]


def _by_id(records: list) -> dict[str, Message]:
    return {m.message_id: m for m in _of(records, Message)}


def _write(tmp_path: Path, text: str, name: str = "result.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _sender(user: DemoUser) -> AccountRef:
    """What the reader makes of a demo user: tdesktop writes `from` and `from_id` only."""
    return AccountRef(platform_id=user.id, name=user.name)


def _no_slow_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ijson fallback was used")

    monkeypatch.setattr(telegram_stream, "ijson_events", refuse)


# --- golden files -------------------------------------------------------------------------
def test_single_chat_golden():
    assert_golden(parse_to_dicts("telegram", SINGLE), DIR / "single_chat.golden.jsonl")


def test_account_export_golden():
    assert_golden(parse_to_dicts("telegram", ACCOUNT), DIR / "account_export.golden.jsonl")


def test_older_export_golden():
    records = parse_to_dicts("telegram", OLDER, tz=SHANGHAI)
    assert_golden(records, DIR / "older_export.golden.jsonl")


# --- the key facts of each variant ---------------------------------------------------------
def test_single_chat_community_and_memberships():
    records, ctx = _parse(SINGLE)
    assert records[0] == Community(
        platform="telegram",
        platform_id="1999999999",
        name="Rust 中文学习群",
        chat_type="public_supergroup",
    )
    events = [
        (
            e.member.platform_id,
            e.member.by_name,
            e.action,
            e.source,
            e.actor and e.actor.platform_id,
        )
        for e in _of(records, MembershipEvent)
    ]
    assert events == [
        ("user5001", False, "join", "create", None),  # the creator, by id
        ("Alex Chen", True, "join", "create", "user5001"),  # the null member is skipped
        ("王芳", True, "join", "invite", "user5001"),
        ("David", True, "join", "invite", "user5001"),
        ("user5004", False, "join", "link", "Alex Chen"),  # inviter by name
        ("user5005", False, "join", "request", None),
        ("user5006", False, "join", "unknown", None),  # added themselves: a public-group join
        ("user5005", False, "leave", "unknown", None),  # removed themselves
        ("David", True, "remove", "unknown", "user5001"),
    ]
    link_join = _of(records, MembershipEvent)[4]
    assert link_join.actor is not None and link_join.actor.by_name
    assert all(e.at.tzinfo is UTC for e in _of(records, MembershipEvent))
    assert _of(records, MembershipEvent)[0].at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert ctx.warnings == []


def test_single_chat_messages():
    records, _ = _parse(SINGLE)
    messages = _by_id(records)
    # pin_message (15) and unsupported (20) are not messages; services yield no Message
    assert sorted(messages, key=int) == [str(i) for i in (6, 7, 8, 9, 10, 11, 12, 13, 14)] + [
        str(i) for i in (18, 19, 21, 22, 23)
    ]
    assert messages["6"].links == ["https://t.me/rust_cn/1"]
    assert (
        messages["6"].text == "大家好！欢迎加入 Rust 学习群 🎉 先看群公告：https://t.me/rust_cn/1"
    )
    assert messages["7"].reply_to == "6"
    assert messages["7"].mentions == ["lin_xiao"]
    assert messages["7"].sent_at == datetime(2024, 5, 1, 1, 1, 40, tzinfo=UTC)
    assert messages["8"].kind == "media"
    assert messages["8"].edited_at == datetime(2024, 5, 1, 1, 11, 40, tzinfo=UTC)
    assert messages["9"].kind == "sticker" and messages["9"].text == ""
    assert messages["10"].forwarded and not messages["9"].forwarded
    assert messages["10"].links == ["https://blog.rust-lang.org/2024/05/02/Rust-1.78.0.html"]
    deleted = messages["11"].sender
    assert deleted is not None and deleted.platform_id == "user5099" and deleted.name is None
    assert messages["12"].text == "响铃\x07了\t路径是 C:\\x41\\docs\u2028第二段"
    assert messages["13"].kind == "voice"
    assert messages["14"].mentions == ["user5007"]
    assert messages["14"].text == "王芳 明天的分享准备好了吗？"
    assert messages["18"].kind == "poll"
    assert messages["19"].reply_to is None  # a reply to another chat's message
    assert messages["21"].text == "😂😂👍"
    via_bot = messages["22"]
    assert via_bot.kind == "media" and via_bot.sender is not None
    assert via_bot.sender.platform_id == "user5006"  # via_bot is not the sender
    assert messages["23"].sender is not None
    assert messages["23"].sender.platform_id == "channel1999999999"


def test_single_chat_reactions():
    records, _ = _parse(SINGLE)
    reactions = [
        (r.message_id, r.emoji, r.reactor and r.reactor.platform_id, r.count, r.at)
        for r in _of(records, Reaction)
    ]
    assert reactions == [
        ("7", "👍", "user5004", 1, datetime(2024, 5, 1, 1, 5, tzinfo=UTC)),
        ("7", "👍", "user5005", 1, datetime(2024, 5, 1, 1, 10, tzinfo=UTC)),
        ("7", "👍", None, 1, None),  # count 3, only 2 in `recent`
        ("7", "custom:5368324170671202286", None, 1, None),
    ]


def test_account_export_chats():
    records, _ = _parse(ACCOUNT)
    communities = [(c.platform_id, c.name, c.chat_type) for c in _of(records, Community)]
    assert communities == [
        ("5007", "王芳", "personal_chat"),
        ("1888888888", "读书会", "private_supergroup"),
        ("777000", "旧群", "private_group"),  # from left_chats
    ]  # saved_messages (5001) is not a community in a full-account export
    assert all(r.community_id != "5001" for r in records if not isinstance(r, Community))
    assert len(_of(records, Message)) == 5
    join, leave = _of(records, MembershipEvent)
    assert (join.community_id, join.member.platform_id, join.action, join.source) == (
        "1888888888",
        "user5010",
        "join",
        "link",
    )
    assert join.actor is not None and join.actor.name == "林晓"
    assert (leave.community_id, leave.member.platform_id, leave.action) == (
        "777000",
        "user5001",
        "leave",
    )
    (reaction,) = _of(records, Reaction)
    assert reaction.at == datetime(2024, 6, 1, 0, 6, tzinfo=UTC)


def test_older_export_plain_ids_and_local_times():
    records, ctx = _parse(OLDER, tz=SHANGHAI)
    messages = _by_id(records)
    assert messages["102"].sender is not None
    assert messages["102"].sender.platform_id == "user811111111"
    assert messages["102"].sent_at == datetime(2020, 11, 7, 1, 5, 12, tzinfo=UTC)  # 09:05 +08
    assert messages["102"].edited_at is None  # "edited": "1970-01-01…" means never edited
    assert messages["103"].edited_at == datetime(2020, 11, 7, 1, 10, tzinfo=UTC)
    assert messages["103"].text == "OK! @zhaolei route map: https://example.com/xiangshan"
    assert messages["103"].mentions == ["zhaolei"]
    assert messages["105"].links == ["http://example.org/hi"]  # no link entity: found in text
    assert len(ctx.warnings) == 1 and "date_unixtime" in ctx.warnings[0]
    invite = _of(records, MembershipEvent)[-1]
    assert invite.member.platform_id == "孙悦" and invite.member.by_name
    assert invite.actor is not None and invite.actor.platform_id == "user822222222"


def test_older_export_depends_on_tz():
    utc_records, _ = _parse(OLDER)
    assert _by_id(utc_records)["102"].sent_at == datetime(2020, 11, 7, 9, 5, 12, tzinfo=UTC)


# --- layouts, folders and zips -----------------------------------------------------------
def _minified(text: str) -> str:
    # tdesktop never puts a raw newline inside a string, so this only removes layout
    return "".join(line.lstrip(" ") for line in text.splitlines())


def _reindented(text: str, unit: str) -> str:
    return "\n".join(
        unit * (len(ln) - len(ln.lstrip(" "))) + ln.lstrip(" ") for ln in text.split("\n")
    )


@pytest.mark.parametrize("fixture", [SINGLE, ACCOUNT])
def test_fast_reader_reads_the_fixtures(fixture, monkeypatch):
    expected, _ = _parse(fixture)
    _no_slow_reader(monkeypatch)
    assert _parse(fixture)[0] == expected


@pytest.mark.parametrize("fixture", [SINGLE, ACCOUNT])
@pytest.mark.parametrize("variant", ["minified", "two spaces", "tabs", "crlf"])
def test_any_layout_gives_the_same_records(fixture, variant, tmp_path):
    expected, _ = _parse(fixture)
    text = fixture.read_text(encoding="utf-8")
    changed = {
        "minified": lambda: _minified(text),
        "two spaces": lambda: _reindented(text, "  "),
        "tabs": lambda: _reindented(text, "\t"),
        "crlf": lambda: text.replace("\n", "\r\n"),
    }[variant]()
    assert changed != text
    assert _parse(_write(tmp_path, changed))[0] == expected


def test_layout_surprise_midway_resumes_without_duplicates(tmp_path):
    expected, _ = _parse(ACCOUNT)
    text = ACCOUNT.read_text(encoding="utf-8")
    assert text.count('    "name": "旧群",') == 1
    path = _write(tmp_path, text.replace('    "name": "旧群",', '\t"name": "旧群",'))
    seen: list[int] = []
    records, _ = _parse(path, on_progress=seen.append)
    assert records == expected
    assert sum(seen) == path.stat().st_size  # the second reading is not counted twice


def test_progress_adds_up_to_the_file_size():
    seen: list[int] = []
    _parse(SINGLE, on_progress=seen.append)
    assert sum(seen) == SINGLE.stat().st_size


def test_minified_file_is_not_read_whole_by_the_fast_reader(monkeypatch):
    data = _minified(SINGLE.read_text(encoding="utf-8")).encode() * 50  # one long line
    monkeypatch.setattr(telegram_stream, "CHUNK", 1000)
    monkeypatch.setattr(telegram_stream, "MAX_LINE", 4000)
    stream = io.BytesIO(data)
    with pytest.raises(telegram_stream.LayoutError):
        list(telegram_stream.FastSplitter(stream, "x").events())
    assert stream.tell() <= 6000 < len(data)  # gave up after MAX_LINE, not at the end


def test_small_chunks_and_batches_change_nothing(monkeypatch):
    expected, _ = _parse(SINGLE)
    monkeypatch.setattr(telegram_stream, "CHUNK", 61)
    monkeypatch.setattr(telegram_stream, "BATCH", 300)
    _no_slow_reader(monkeypatch)
    assert _parse(SINGLE)[0] == expected
    monkeypatch.undo()
    expected_account, _ = _parse(ACCOUNT)
    monkeypatch.setattr(telegram_stream, "CHUNK", 61)
    monkeypatch.setattr(telegram_stream, "BATCH", 300)
    _no_slow_reader(monkeypatch)
    assert _parse(ACCOUNT)[0] == expected_account


def test_folder_and_zip(tmp_path):
    expected, _ = _parse(SINGLE)
    folder = tmp_path / "Telegram Desktop" / "ChatExport_2024-05-01"
    folder.mkdir(parents=True)
    (folder / "result.json").write_bytes(SINGLE.read_bytes())
    (folder / "photos").mkdir()
    (folder / "photos" / "photo_1@01-05-2024_09-06-40.jpg").write_bytes(b"\xff\xd8\xff")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(folder / "result.json", "ChatExport_2024-05-01/result.json")
    for path in (tmp_path / "Telegram Desktop", archive):
        source = Source(path)
        try:
            assert detect(source).parser.name == "telegram"
        finally:
            source.close()
        assert _parse(path)[0] == expected


def test_folder_without_result_json(tmp_path):
    (tmp_path / "messages.html").write_text("<html></html>")
    with pytest.raises(InputError, match=r"result\.json"):
        _parse(tmp_path)


def test_sniff():
    for path in (SINGLE, ACCOUNT, OLDER):
        assert get_parser("telegram").sniff(Source(path)) >= 90
    assert detect(Source(SINGLE)).parser.name == "telegram"


@pytest.mark.parametrize(
    "content",
    [
        '{"guild": {"id": "1"}, "channel": {"id": "2"}, "messages": []}',  # DiscordChatExporter
        "[]",
        "12/03/2024, 10:00 - Ann: hi",
        '{"messages": [{"origin_server_ts": 1, "sender": "@a:b"}]}',
    ],
)
def test_sniff_says_no(content, tmp_path):
    assert get_parser("telegram").sniff(Source(_write(tmp_path, content, "x.json"))) == 0


# --- tdesktop's \xNN escapes ---------------------------------------------------------------
def test_fix_escapes():
    raw = rb'"a\x07b \\x41 \\\x1F c\x0a \u2028"'
    assert json.loads(telegram_stream.fix_escapes(raw)) == "a\x07b \\x41 \\\x1f c\n \u2028"
    assert telegram_stream.fix_escapes(b'"plain"') == b'"plain"'


class _Trickle(io.RawIOBase):
    """A stream that hands out at most `n` bytes per read, to land escapes on chunk edges."""

    def __init__(self, data: bytes, n: int) -> None:
        self.data, self.n, self.pos = data, n, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        out = self.data[self.pos : self.pos + self.n]
        self.pos += len(out)
        return out


@pytest.mark.parametrize("n", range(1, 9))
def test_escape_fixer_across_chunk_edges(n):
    raw = rb'["\x00\\x41\\\x7F", "\\\\x1F\x1F", "\\", "x\x1a"]'
    fixer = telegram_stream.EscapeFixer(_Trickle(raw, n))  # type: ignore[arg-type]
    out = b""
    while chunk := fixer.read(n):
        out += chunk
    assert out == telegram_stream.fix_escapes(raw)
    assert json.loads(out) == ["\x00\\x41\\\x7f", "\\\\x1F\x1f", "\\", "x\x1a"]


def test_minified_with_escapes_crosses_chunks(tmp_path, monkeypatch):
    expected, _ = _parse(SINGLE)
    monkeypatch.setattr(telegram_stream, "CHUNK", 7)
    minified = _write(tmp_path, _minified(SINGLE.read_text(encoding="utf-8")))
    assert _by_id(_parse(minified)[0])["12"].text == _by_id(expected)["12"].text


# --- bad input ---------------------------------------------------------------------------
def test_bad_record_names_file_record_and_field(tmp_path):
    text = SINGLE.read_text(encoding="utf-8").replace('"1714525300"', '"soon"')
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        _parse(path)
    err = caught.value
    assert (err.file, err.record, err.field) == (str(path), "7", "date_unixtime")
    records, ctx = _parse(path, skip_bad=True)
    assert [e.record for e in ctx.skipped] == ["7"]
    assert "7" not in _by_id(records) and "8" in _by_id(records)
    assert not [r for r in _of(records, Reaction) if r.message_id == "7"]


def test_broken_json_in_one_message_gives_its_line(tmp_path):
    text = SINGLE.read_text(encoding="utf-8")
    text = text.replace('"text": "现场照片 📷",', '"text": "现场照片 📷,', 1)
    path = _write(tmp_path, text)
    start = text.splitlines().index('   "id": 8,')  # 0-based index of the line after "  {"
    with pytest.raises(InputError) as caught:
        _parse(path)
    assert (caught.value.file, caught.value.line, caught.value.record) == (str(path), start, "8")
    records, ctx = _parse(path, skip_bad=True)
    assert len(ctx.skipped) == 1
    assert sorted(_by_id(records), key=int)[:3] == ["6", "7", "9"]
    assert len(_by_id(records)) == 13


def test_truncated_file(tmp_path):
    data = SINGLE.read_bytes()
    path = tmp_path / "result.json"
    path.write_bytes(data[: data.index(b'"id": 12,')])
    with pytest.raises(InputError, match="ends inside the messages"):
        _parse(path)
    records, ctx = _parse(path, skip_bad=True)
    assert len(ctx.skipped) == 1
    assert sorted(_by_id(records), key=int) == [str(i) for i in range(6, 12)]


def test_truncated_minified_file(tmp_path):
    text = _minified(SINGLE.read_text(encoding="utf-8"))
    path = _write(tmp_path, text[: text.index('"id": 12,')])
    records, ctx = _parse(path, skip_bad=True)
    assert len(ctx.skipped) == 1 and "broken JSON" in ctx.skipped[0].message
    assert "11" in _by_id(records)


@pytest.mark.parametrize("content", ["not json at all", "", '{"foo": 1}', "[1, 2]", "{\n}"])
def test_not_an_export_raises_even_with_skip_bad(content, tmp_path):
    with pytest.raises(InputError):
        _parse(_write(tmp_path, content), skip_bad=True)


@pytest.mark.parametrize("minify", [False, True])
def test_chat_id_after_messages(minify, tmp_path):
    text = '{\n "name": "x",\n "type": "private_group",\n "messages": [\n ],\n "id": 5\n}'
    path = _write(tmp_path, _minified(text) if minify else text)
    with pytest.raises(InputError, match="'id' before the messages") as caught:
        _parse(path, skip_bad=True)
    assert caught.value.field == "id"


def test_malformed_values_are_input_errors(tmp_path):
    cases = [
        ('"from_id": "user5002"', '"from_id": [1]', "7"),
        ('"count": 3', '"count": "three"', "7"),
        ('"reply_to_message_id": 6', '"reply_to_message_id": {"a": 1}', "7"),
        ('"text": "这条消息的作者已注销"\n', '"text": 5\n', "11"),
    ]
    base = SINGLE.read_text(encoding="utf-8")
    for old, new, record in cases:
        assert old in base
        path = _write(tmp_path, base.replace(old, new, 1))
        _records, ctx = _parse(path, skip_bad=True)
        assert [e.record for e in ctx.skipped] == [record], new
        assert ctx.skipped[0].file == str(path)


# --- real files from other projects ------------------------------------------------------
def _real_messages(chat: dict) -> list[dict]:
    return [m for m in chat["messages"] if m.get("type", "message") == "message"]


def test_realdata_public_supergroup():
    path = realdata("telegram/telegram-chat-parser__public_supergroup.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    records, ctx = _parse(path)
    assert _of(records, Community)[0].platform_id == str(raw["id"])
    messages = _of(records, Message)
    assert [m.message_id for m in messages] == [str(m["id"]) for m in _real_messages(raw)]
    creates = [m for m in raw["messages"] if m.get("action") == "create_group"]
    events = _of(records, MembershipEvent)
    assert len(events) == sum(len(m["members"]) for m in creates)  # the creator is a member
    assert events[0].member.platform_id == f"user{creates[0]['actor_id']}"
    assert all(e.source == "create" for e in events)  # migrate_* give nothing
    assert len(ctx.warnings) == 1  # no date_unixtime in this older export


def test_realdata_saved_messages():
    path = realdata("telegram/telegram-chat-parser__saved.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    records, _ = _parse(path)
    (community,) = _of(records, Community)
    assert (community.platform_id, community.chat_type) == (str(raw["id"]), "saved_messages")
    messages = _by_id(records)
    expected = _real_messages(raw)
    assert list(messages) == [str(m["id"]) for m in expected]
    assert sum(m.forwarded for m in messages.values()) == sum(
        "forwarded_from" in m for m in expected
    )
    assert messages["7"].reply_to == "6"
    kinds = [m.kind for m in messages.values()]
    assert kinds.count("poll") == sum("poll" in m for m in expected)
    assert kinds.count("sticker") == 1 and kinds.count("voice") == 1
    assert messages["173430"].mentions == ["person"]
    assert "http://google.com/" in messages["173430"].links


def test_realdata_chat_miner_account_export():
    path = realdata("telegram/chat-miner__test_batch_export.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    records, ctx = _parse(path)
    chats = raw["chats"]["list"]
    assert [c.name for c in _of(records, Community)] == [c["name"] for c in chats]
    messages = _of(records, Message)
    assert len(messages) == sum(len(_real_messages(c)) for c in chats)
    assert messages[1].text == "Link:https://telegram.org/"
    assert messages[0].sender is not None and messages[0].sender.by_name
    again, _ = _parse(path)
    assert [m.message_id for m in _of(again, Message)] == [m.message_id for m in messages]
    assert len({m.message_id for m in messages}) == len(messages)
    assert any("no id" in w for w in ctx.warnings)


# --- the exporter ------------------------------------------------------------------------
ANN = DemoUser("user7001", "安妮", "annie")
BEN = DemoUser("user7002", "Ben Li")
CUI = DemoUser("user7003", "崔")
T0 = datetime(2024, 3, 10, 6, 30, tzinfo=UTC)


def _demo_chat() -> DemoChat:
    at = [T0 + timedelta(minutes=i) for i in range(11)] + [T0 + timedelta(minutes=75)]
    return DemoChat(
        platform_id="1555555555",
        name="周末读书会",
        timezone="America/New_York",  # DST starts 2024-03-10 07:00 UTC: offsets change mid-chat
        users=[ANN, BEN, CUI],
        items=[
            DemoEvent("1", at[0], "join", BEN, ANN, "link"),
            DemoEvent("2", at[1], "join", CUI, ANN, "invite"),
            DemoMessage(
                "3",
                at[2],
                ANN,
                "@annie 和 Ben Li 看这里 https://example.com/书单 \x1b[0m\x00 end",
                mentions=[ANN, BEN],
                reactions=[("👍", BEN), ("👍", CUI), ("🔥", CUI)],
            ),
            DemoMessage("4", at[3], BEN, "", kind="media", reply_to="3", edited_at=at[5]),
            DemoMessage("5", at[4], CUI, "", kind="sticker"),
            DemoMessage("6", at[6], CUI, "报告", kind="file"),
            DemoMessage("7", at[7], BEN, "🧧 恭喜发财", kind="red_packet"),
            DemoEvent("8", at[8], "leave", BEN),
            DemoEvent("9", at[9], "remove", CUI, ANN),
            DemoEvent("10", at[10], "join", BEN, None, "unknown"),
            DemoEvent("11", at[11], "join", CUI, ANN, "qr"),
        ],
    )


def test_exporter_writes_tdesktop_layout(tmp_path):
    path = exporter.write(_demo_chat(), tmp_path / "out")
    assert path == tmp_path / "out" / "result.json"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n "name": "周末读书会",\n "type": "private_supergroup",\n')
    assert ' "id": 1555555555,\n "messages": [\n  {\n   "id": 1,\n' in text
    assert text.endswith("\n  }\n ]\n}")  # no newline at the end, like tdesktop
    assert "\\x1B[0m\\x00 end" in text  # control characters as tdesktop writes them
    assert '"date": "2024-03-10T01:30:00",\n   "date_unixtime": "1710052200"' in text  # EST
    assert '"date": "2024-03-10T03:45:00"' in text  # 07:45 UTC is already EDT
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)  # \xNN is not JSON: readers must cope, as with real exports


def test_exporter_round_trip(tmp_path, monkeypatch):
    chat = _demo_chat()
    path = exporter.write(chat, tmp_path)
    _no_slow_reader(monkeypatch)
    records, ctx = _parse(path)
    assert ctx.warnings == []
    messages = _by_id(records)
    for item in chat.items:
        if isinstance(item, DemoMessage):
            got = messages[item.id]
            assert (got.text, got.sent_at, got.edited_at, got.reply_to) == (
                item.text,
                item.sent_at,
                item.edited_at,
                item.reply_to,
            )
            assert got.sender == _sender(item.sender)
    assert messages["3"].mentions == ["annie", "user7002"]
    assert messages["3"].links == ["https://example.com/书单"]
    assert [m.kind for m in messages.values()] == ["text", "media", "sticker", "file", "text"]
    reactions = [(r.emoji, r.reactor and r.reactor.platform_id, r.at) for r in records
                 if isinstance(r, Reaction)]  # fmt: skip
    assert reactions == [
        ("👍", "user7002", T0 + timedelta(minutes=5)),
        ("👍", "user7003", T0 + timedelta(minutes=8)),
        ("🔥", "user7003", T0 + timedelta(minutes=5)),
    ]
    events = [
        (e.member.platform_id, e.action, e.source, e.actor and e.actor.platform_id)
        for e in _of(records, MembershipEvent)
    ]
    assert events == [
        ("user7002", "join", "link", "安妮"),
        ("崔", "join", "invite", "user7001"),
        ("user7002", "leave", "unknown", None),
        ("崔", "remove", "unknown", "user7001"),
        ("user7002", "join", "unknown", None),
        ("user7003", "join", "link", "安妮"),  # a QR code holds an invite link
    ]


# --- hypothesis ----------------------------------------------------------------------------
_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode()))
def test_arbitrary_bytes_only_input_errors(data, tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(data)
    with contextlib.suppress(InputError):
        _parse(path, skip_bad=True)
        _parse(path)


_FIXTURE_BYTES = SINGLE.read_bytes()


@_SETTINGS
@given(
    edits=st.lists(
        st.tuples(
            st.integers(0, len(_FIXTURE_BYTES)),
            st.integers(0, 40),
            st.sampled_from([b"", b"\n", b"  }", b"\n ]", b"{", b'"', b"\\x", b",", b"\xe4"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_damaged_export_only_input_errors(edits, tmp_path):
    data = _FIXTURE_BYTES
    for at, cut, insert in edits:
        data = data[:at] + insert + data[at + cut :]
    path = tmp_path / "result.json"
    path.write_bytes(data)
    for skip_bad in (True, False):
        with contextlib.suppress(InputError):
            _parse(path, skip_bad=skip_bad)


_EMOJI = st.lists(st.sampled_from("👍❤🔥"), max_size=2, unique=True)
_ZONES = st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"])
_TIMES = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
_USERS = st.lists(
    st.builds(
        DemoUser,
        id=st.integers(1, 10**12).map(lambda n: f"user{n}"),
        name=st.text(min_size=1, max_size=12),
    ),
    min_size=2,
    max_size=4,
    unique_by=(lambda u: u.id, lambda u: u.name),
)


@st.composite
def _chats(draw: st.DrawFn) -> DemoChat:
    users = draw(_USERS)
    items: list[DemoMessage | DemoEvent] = []
    for i in range(draw(st.integers(0, 8))):
        who, other = draw(st.permutations(users))[:2]
        at = draw(_TIMES)
        if draw(st.booleans()):
            items.append(
                DemoMessage(
                    str(i + 1),
                    at,
                    who,
                    draw(st.text(max_size=60)),
                    kind=draw(st.sampled_from(["text", "media", "sticker", "file"])),
                    reply_to=str(i) if i and draw(st.booleans()) else None,
                    reactions=[(e, other) for e in draw(_EMOJI)],
                    edited_at=at + timedelta(seconds=draw(st.integers(1, 10**6)))
                    if draw(st.booleans())
                    else None,
                )
            )
        else:
            action = draw(st.sampled_from(["join", "leave", "remove"]))
            source = draw(st.sampled_from(["invite", "link", "unknown"]))
            items.append(DemoEvent(str(i + 1), at, action, who, other, source))  # type: ignore[arg-type]
    return DemoChat(draw(st.integers(1, 10**12).map(str)), draw(st.text(max_size=20)),
                    draw(_ZONES), users, items)  # fmt: skip


_EXPECTED_EVENT = {
    ("join", "link"): ("member", "join", "link"),
    ("join", "invite"): ("by name", "join", "invite"),
    ("join", "unknown"): ("member", "join", "unknown"),
    ("leave", "invite"): ("member", "leave", "unknown"),
    ("leave", "link"): ("member", "leave", "unknown"),
    ("leave", "unknown"): ("member", "leave", "unknown"),
}


@_SETTINGS
@given(chat=_chats())
def test_exporter_round_trip_any_text_and_time(chat, tmp_path):
    path = exporter.write(chat, tmp_path / chat.platform_id)
    records, _ = _parse(path)
    assert _of(records, Community)[0].name == (chat.name or chat.platform_id)
    messages = _by_id(records)
    events = iter(_of(records, MembershipEvent))
    for item in chat.items:
        if isinstance(item, DemoMessage):
            got = messages[item.id]
            assert got.text == item.text
            assert (got.sent_at, got.edited_at, got.reply_to) == (
                item.sent_at,
                item.edited_at,
                item.reply_to,
            )
            assert got.sender == _sender(item.sender)
            reactions = [r for r in records if isinstance(r, Reaction) and r.message_id == item.id]
            assert sorted(r.emoji for r in reactions) == sorted(e for e, _ in item.reactions)
            continue
        event = next(events)
        assert event.at == item.at and event.message_id == item.id
        if item.action == "remove":
            expected = ("by name", "remove", "unknown")
        else:
            expected = _EXPECTED_EVENT[(item.action, item.source)]
        how, action, source = expected
        member = item.member.name if how == "by name" else item.member.id
        assert (event.member.platform_id, event.action, event.source) == (member, action, source)
    assert next(events, None) is None
