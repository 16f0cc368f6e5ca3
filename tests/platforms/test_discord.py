"""DiscordChatExporter JSON reader and the demo exporter that writes the same format."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts
from shequn.demo.exporters import discord as exporter
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.errors import InputError
from shequn.model.records import MembershipEvent, Message, Reaction
from shequn.platforms.base import ParseContext, Source, get_parser
from shequn.platforms.discord_messages import parse_time

DIR = FIXTURES / "discord"
CHANNEL = "1181190042648494171"


def _parse(path: Path, **ctx_kwargs) -> tuple[list, ParseContext]:
    ctx = ParseContext(**ctx_kwargs)
    source = Source(path)
    try:
        return list(get_parser("discord")().parse(source, ctx)), ctx
    finally:
        source.close()


def _of(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["type"] == kind]


# --- golden files -------------------------------------------------------------------------


def test_golden_current_guild_channel() -> None:
    records = parse_to_dicts("discord", DIR / "guild_channel.json")
    assert_golden(records, DIR / "guild_channel.golden.jsonl")

    community = records[0]
    assert community["type"] == "Community"
    assert community["platform_id"] == CHANNEL
    assert community["name"] == "深圳 Python 社区 / #闲聊-general"
    assert community["chat_type"] == "GuildTextChat"
    assert community["topic"] == "随便聊聊 / off-topic 🙂"  # surrogate-pair escape decoded

    messages = {m["message_id"]: m for m in _of(records, "Message")}
    # pinned notice (…04) and thread notice (…10) are not messages; …03 is there twice
    assert [m["message_id"][-2:] for m in _of(records, "Message")] == [
        "02",
        "03",
        "05",
        "06",
        "07",
        "03",
        "09",
        "11",
        "12",
    ]
    welcome = messages["1213001000000000002"]
    assert welcome["sent_at"] == "2024-03-01T01:16:45.123456+00:00"  # 7 digits, +08:00
    assert welcome["edited_at"] == "2024-03-01T01:20:00.500000+00:00"
    assert welcome["text"].endswith("2024-03 🎉\n有问题随时问～")
    assert welcome["sender"] == {
        "platform_id": "402157319370637313",
        "name": "小明",
        "username": "xiaoming_dev",
        "is_bot": False,
        "by_name": False,
    }
    assert welcome["mentions"] == ["611234567890123456"]
    assert welcome["links"] == ["https://meetup.example.com/sz-python/2024-03"]
    assert messages["1213001000000000003"]["reply_to"] == "1213001000000000002"
    assert messages["1213001000000000005"]["kind"] == "media"
    assert messages["1213001000000000006"]["kind"] == "sticker"
    assert messages["1213001000000000007"]["kind"] == "file"
    assert messages["1213001000000000009"]["sender"]["is_bot"] is True  # kind "20" is content
    forward = messages["1213001000000000011"]
    assert forward["forwarded"] is True and forward["reply_to"] is None
    assert forward["text"].startswith("Python 3.13 正式发布")
    # 00:30:59 +08:00 is the previous day in UTC
    assert messages["1213001000000000012"]["sent_at"] == "2024-03-01T16:30:59+00:00"

    (join,) = _of(records, "MembershipEvent")
    assert join["action"] == "join" and join["member"]["platform_id"] == "611234567890123456"
    assert join["at"] == "2024-03-01T01:15:02.417000+00:00"
    assert join["message_id"] == "1213001000000000001"

    reactions = _of(records, "Reaction")
    assert [(r["emoji"], (r["reactor"] or {}).get("name"), r["count"]) for r in reactions] == [
        ("👍", "Emily", 1),
        ("👍", "老王", 1),
        ("pythonheart", None, 3),
    ]  # the 👋 on the join notice has no message to belong to


def test_golden_older_export_without_newer_keys() -> None:
    records = parse_to_dicts("discord", DIR / "old_version.json")
    assert_golden(records, DIR / "old_version.golden.jsonl")

    messages = _of(records, "Message")
    assert [m["sent_at"] for m in messages] == [
        "2021-03-13T23:58:12.500000+00:00",  # -05:00
        "2021-03-13T23:59:52.731000+00:00",
        "2021-03-15T13:03:00.250000+00:00",  # -04:00 after the DST switch
    ]
    assert messages[1]["reply_to"] == "820385112034787348"  # Default kind with a reference
    assert messages[1]["edited_at"] == "2021-03-14T00:01:03.004000+00:00"
    assert messages[2]["sender"]["name"] == "rkumar"  # no nickname key: falls back to name
    assert messages[2]["kind"] == "media"  # .PNG
    (reaction,) = _of(records, "Reaction")
    assert reaction["emoji"] == "❤" and reaction["reactor"] is None and reaction["count"] == 2
    (join,) = _of(records, "MembershipEvent")
    assert join["member"]["platform_id"] == "820930980112908288"
    assert join["at"] == "2021-03-15T13:29:05+00:00"


def test_golden_folder_of_two_channel_files() -> None:
    records = parse_to_dicts("discord", DIR / "folder")
    assert_golden(records, DIR / "folder.golden.jsonl")

    communities = _of(records, "Community")
    assert [(c["platform_id"], c["name"]) for c in communities] == [
        ("1190526011239071744", "Direct Messages / 周末爬山小分队"),
        ("1181190042648494200", "深圳 Python 社区 / #活动-events"),
    ]
    # every record names a community yielded before it
    seen: set[str] = set()
    for r in records:
        if r["type"] == "Community":
            seen.add(r["platform_id"])
        else:
            assert r["community_id"] in seen
    events = [
        (e["action"], e["member"]["name"], (e["actor"] or {}).get("name"), e["source"])
        for e in _of(records, "MembershipEvent")
    ]
    assert events == [
        ("join", "老王", "小明", "invite"),
        ("remove", "Emily", "小明", "unknown"),
        ("leave", "老王", None, "unknown"),
    ]
    assert len(_of(records, "Message")) == 3  # the rename notice is not a message


def test_zip_of_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "discord-export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((DIR / "folder").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(DIR / "folder").as_posix())
    assert parse_to_dicts("discord", archive) == parse_to_dicts("discord", DIR / "folder")


# --- detection, streaming, progress --------------------------------------------------------


def test_sniff(tmp_path: Path) -> None:
    parser = get_parser("discord")
    assert parser.sniff(Source(DIR / "guild_channel.json")) >= 90
    assert parser.sniff(Source(DIR / "folder")) >= 90
    telegram = tmp_path / "result.json"
    telegram.write_text('{"name": "g", "type": "private_group", "id": 1, "messages": []}')
    assert parser.sniff(Source(telegram)) == 0
    text = tmp_path / "chat.txt"
    text.write_text('{"guild": {}, "channel": {}}')
    assert parser.sniff(Source(text)) == 0


def test_reads_lazily_so_a_big_file_streams(tmp_path: Path) -> None:
    # The tail is garbage: taking the first records must not need to read that far.
    good = (DIR / "guild_channel.json").read_text(encoding="utf-8")
    head = good[: good.index('"id": "1213001000000000003"')]
    path = tmp_path / "big.json"
    path.write_text(head + "x" * 3_000_000, encoding="utf-8")
    source = Source(path)
    records = get_parser("discord")().parse(source, ParseContext())
    first = [next(records) for _ in range(3)]
    assert [type(r).__name__ for r in first] == ["Community", "MembershipEvent", "Message"]
    with pytest.raises(InputError):
        list(records)


def test_progress_counts_the_file_once() -> None:
    seen: list[int] = []
    _parse(DIR / "guild_channel.json", on_progress=seen.append)
    assert sum(seen) == (DIR / "guild_channel.json").stat().st_size


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + (DIR / "old_version.json").read_bytes())
    assert parse_to_dicts("discord", path) == parse_to_dicts("discord", DIR / "old_version.json")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-01T09:16:45.1234567+08:00", datetime(2024, 3, 1, 1, 16, 45, 123456, UTC)),
        ("2020-01-02T03:04:05.123+00:00", datetime(2020, 1, 2, 3, 4, 5, 123000, UTC)),
        ("2021-03-15T09:03:00-04:00", datetime(2021, 3, 15, 13, 3, tzinfo=UTC)),
        ("2023-07-01T23:30:00.1+05:45", datetime(2023, 7, 1, 17, 45, 0, 100000, UTC)),
        ("2020-01-02T03:04:05Z", datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_parse_time_keeps_the_offset(value: str, expected: datetime) -> None:
    got = parse_time(value, field="timestamp")
    assert got == expected and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", ["2024-03-01T09:16:45", "yesterday", "", 1709255805, None])
def test_parse_time_rejects(value: object) -> None:
    with pytest.raises(InputError) as info:
        parse_time(value, field="timestamp")
    assert info.value.field == "timestamp"


# --- bad input --------------------------------------------------------------------------


def _with_messages(tmp_path: Path, messages: list) -> Path:
    root = json.loads((DIR / "old_version.json").read_text(encoding="utf-8"))
    root["messages"] = messages
    path = tmp_path / "export.json"
    path.write_text(json.dumps(root, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _good(n: int) -> dict:
    return {
        "id": str(900 + n),
        "type": "Default",
        "timestamp": f"2024-01-0{n}T08:00:00+08:00",
        "content": f"msg {n}",
        "author": {"id": "1", "name": "a"},
    }


@pytest.mark.parametrize(
    ("bad", "record", "field"),
    [
        ({"type": "Default", "timestamp": "2024-01-01T00:00:00+00:00"}, "messages[1]", "id"),
        ({"id": "77", "timestamp": "01/02/2024 10:00"}, "77", "timestamp"),
        ({"id": "78", "timestamp": "2024-01-02T10:00:00"}, "78", "timestamp"),
        (
            {"id": "79", "timestamp": "2024-01-02T10:00:00Z", "author": {"name": "x"}},
            "79",
            "author.id",
        ),
        ({"id": "80", "timestamp": "2024-01-02T10:00:00Z", "content": 5}, "80", "content"),
        (
            {"id": "81", "timestamp": "2024-01-02T10:00:00Z", "timestampEdited": "soon"},
            "81",
            "timestampEdited",
        ),
        (
            {
                "id": "82",
                "timestamp": "2024-01-02T10:00:00Z",
                "reactions": [{"emoji": {"name": "👍"}, "count": "many"}],
            },
            "82",
            "reactions[0].count",
        ),
        (
            {"id": "83", "timestamp": "2024-01-02T10:00:00Z", "mentions": "everyone"},
            "83",
            "mentions",
        ),
        ("not an object", "messages[1]", None),
    ],
)
def test_bad_record_names_file_record_and_field(
    tmp_path: Path, bad: object, record: str, field: str | None
) -> None:
    path = _with_messages(tmp_path, [_good(1), bad, _good(3)])
    with pytest.raises(InputError) as info:
        _parse(path)
    err = info.value
    assert (err.file, err.record, err.field) == (str(path), record, field)

    records, ctx = _parse(path, skip_bad=True)
    assert [r.message_id for r in records if isinstance(r, Message)] == ["901", "903"]
    assert [(e.record, e.field) for e in ctx.skipped] == [(record, field)]


def test_truncated_file_keeps_what_came_before_with_skip_bad(tmp_path: Path) -> None:
    path = _with_messages(tmp_path, [_good(1), _good(2), _good(3)])
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('"903"') + 10], encoding="utf-8")
    with pytest.raises(InputError) as info:
        _parse(path)
    assert info.value.record == "messages[2]" and info.value.file == str(path)
    records, ctx = _parse(path, skip_bad=True)
    assert [r.message_id for r in records if isinstance(r, Message)] == ["901", "902"]
    assert len(ctx.skipped) == 1


@pytest.mark.parametrize(
    "content",
    [
        b"not json at all",
        b"[1, 2, 3]",
        b'{"guild": {"id": "1"}, "messages": []}',
        b'{"channel": {"name": "no id"}}',
        b"",
    ],
)
def test_not_an_export_is_an_input_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        _parse(path, skip_bad=True)
    assert info.value.file == str(path)


def test_folder_without_exports_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "notes.json").write_text('{"a": 1}')
    with pytest.raises(InputError):
        _parse(tmp_path)


# --- hypothesis: never anything but InputError ------------------------------------------

# tmp_path is shared by the examples of one test; each example overwrites its one file
_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_times = (
    st.sampled_from(
        ["2024-01-01T00:00:00+08:00", "2024-01-01T00:00:00.1234567-03:30", "bad", "2024-01-01"]
    )
    | _json
)
_users = (
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.sampled_from(["1", "2"]) | _json,
            "name": _json,
            "nickname": _json,
            "isBot": _json,
        },
    )
    | _json
)
_messages = (
    st.fixed_dictionaries(
        {"id": st.sampled_from(["10", "11"]) | _json, "timestamp": _times},
        optional={
            "type": st.sampled_from(
                [
                    "Default",
                    "Reply",
                    "GuildMemberJoin",
                    "RecipientAdd",
                    "RecipientRemove",
                    "ChannelPinnedMessage",
                    "7",
                    "²",
                    "20",
                ]
            )
            | _json,
            "timestampEdited": _times,
            "content": st.text() | _json,
            "author": st.just({"id": "1", "name": "a", "nickname": "甲"}) | _users,
            "authorId": _json,
            "mentions": st.lists(_users, max_size=2) | _json,
            "mentionIds": _json,
            "attachments": st.lists(
                st.fixed_dictionaries({}, optional={"fileName": _json, "url": _json})
            )
            | _json,
            "stickers": _json,
            "reactions": st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "emoji": st.fixed_dictionaries({}, optional={"name": _json, "code": _json})
                        | _json,
                        "count": _json,
                        "users": st.lists(_users, max_size=2) | _json,
                        "emojiKey": _json,
                        "userIds": _json,
                    },
                ),
                max_size=2,
            )
            | _json,
            "reference": st.fixed_dictionaries(
                {}, optional={"type": _json, "messageId": _json, "channelId": _json}
            )
            | _json,
            "forwardedMessage": st.fixed_dictionaries(
                {}, optional={"content": _json, "attachments": _json, "stickers": _json}
            )
            | _json,
        },
    )
    | _json
)
# Mostly well-formed roots, so that the examples reach the message fields, not just the header.
_roots = st.fixed_dictionaries(
    {
        "channel": st.just({"id": "5", "name": "c", "type": "GuildTextChat"})
        | st.fixed_dictionaries(
            {}, optional={"id": st.just("5") | _json, "name": _json, "type": _json, "topic": _json}
        )
        | _json,
        "messages": st.lists(_messages, max_size=4) | _json,
    },
    optional={"guild": st.fixed_dictionaries({}, optional={"name": _json}) | _json},
)


def _only_input_errors(path: Path) -> None:
    for skip_bad in (False, True):
        try:
            records, _ = _parse(path, skip_bad=skip_bad)
        except InputError:
            continue
        for r in records:
            if isinstance(r, Message | MembershipEvent):
                assert r.community_id and (r.sent_at if isinstance(r, Message) else r.at).tzinfo


@_FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode()))
def test_arbitrary_bytes_give_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(data)
    _only_input_errors(path)


@_FUZZ
@given(root=_roots)
def test_arbitrary_export_shapes_give_only_input_errors(tmp_path: Path, root: dict) -> None:
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(root, ensure_ascii=False), encoding="utf-8")
    _only_input_errors(path)


# --- the demo exporter ------------------------------------------------------------------

_ZONES = [
    "Asia/Shanghai",
    "America/Los_Angeles",
    "Asia/Kathmandu",
    "America/St_Johns",
    "UTC",
    "Australia/Lord_Howe",
]
_when = st.datetimes(min_value=datetime(2015, 5, 13), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)
_people = [
    DemoUser("402157319370637313", "小明", "xiaoming_dev"),
    DemoUser("298765432109876543", "Emily 🌸", None),
    DemoUser("159985870458322944", "MEE6", "mee6", is_bot=True),
]


@st.composite
def _chats(draw: st.DrawFn) -> DemoChat:
    items: list[DemoMessage | DemoEvent] = []
    for i in range(draw(st.integers(1, 6))):
        mid = str(1213001000000000000 + i)
        if draw(st.integers(0, 4)) == 0:
            items.append(
                DemoEvent(
                    mid,
                    draw(_when),
                    draw(st.sampled_from(["join", "leave"])),
                    draw(st.sampled_from(_people)),
                )
            )
            continue
        earlier = [m.id for m in items if isinstance(m, DemoMessage)]
        items.append(
            DemoMessage(
                id=mid,
                sent_at=draw(_when),
                sender=draw(st.sampled_from(_people)),
                text=draw(st.text()),
                kind=draw(st.sampled_from(["text", "media", "file", "sticker", "link"])),
                reply_to=draw(st.sampled_from([None, *earlier])),
                mentions=draw(st.lists(st.sampled_from(_people), max_size=2, unique=True)),
                reactions=draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(["👍", "❤️", "🇨🇳", "ok"]), st.sampled_from(_people)
                        ),
                        max_size=3,
                        unique=True,
                    )
                ),
                edited_at=draw(st.none() | _when),
            )
        )
    return DemoChat(
        "1181190042648494171",
        draw(st.sampled_from(["深圳 Python 社区 / #闲聊", "Demo"])),
        draw(st.sampled_from(_ZONES)),
        list(_people),
        items,
        draw(st.none() | st.text()),
    )


@_FUZZ
@given(chat=_chats())
def test_exporter_round_trip(tmp_path: Path, chat: DemoChat) -> None:
    path = exporter.write(chat, tmp_path / "out")
    records, ctx = _parse(path)
    assert not ctx.skipped
    assert records[0].platform_id == chat.platform_id and records[0].topic == (chat.topic or None)
    messages = [r for r in records if isinstance(r, Message)]
    sent = [m for m in chat.items if isinstance(m, DemoMessage)]
    assert [
        (m.message_id, m.text, m.sent_at, m.edited_at, m.sender.platform_id, m.reply_to)
        for m in messages
    ] == [(m.id, m.text, m.sent_at, m.edited_at, m.sender.id, m.reply_to) for m in sent]
    assert [m.mentions for m in messages] == [[u.id for u in m.mentions] for m in sent]
    kinds = {"link": "text", "text": "text", "media": "media", "file": "file", "sticker": "sticker"}
    assert [m.kind for m in messages] == [kinds[m.kind] for m in sent]
    assert sorted(
        (r.message_id, r.emoji, r.reactor.platform_id)
        for r in records
        if isinstance(r, Reaction) and r.reactor
    ) == sorted((m.id, e, u.id) for m in sent for e, u in m.reactions)
    joins = [e for e in chat.items if isinstance(e, DemoEvent) and e.action == "join"]
    assert [
        (e.member.platform_id, e.at, e.action) for e in records if isinstance(e, MembershipEvent)
    ] == [(e.member.id, e.at, "join") for e in joins]


def test_exporter_writes_local_offsets_and_escaped_emoji(tmp_path: Path) -> None:
    user = DemoUser("402157319370637313", "小明", "xiaoming_dev")
    at = datetime(2024, 3, 1, 16, 30, 59, 120000, UTC)
    chat = DemoChat(
        "1181190042648494171",
        "深圳 Python 社区 / #闲聊",
        "Asia/Shanghai",
        [user],
        [
            DemoEvent("1", at - timedelta(hours=1), "join", user),
            DemoMessage("2", at, user, "好的 👍"),
            DemoEvent("3", at + timedelta(hours=1), "leave", user),
        ],
    )
    path = exporter.write(chat, tmp_path)
    assert path.name == "深圳 Python 社区 - 闲聊 [1181190042648494171].json"
    raw = path.read_text(encoding="utf-8")
    assert '"content": "好的 \\uD83D\\uDC4D"' in raw  # non-BMP escaped, CJK raw, as .NET does
    assert '"timestamp": "2024-03-02T00:30:59.12+08:00"' in raw
    root = json.loads(raw)
    assert list(root) == ["guild", "channel", "dateRange", "exportedAt", "messages", "messageCount"]
    assert [m["type"] for m in root["messages"]] == ["GuildMemberJoin", "Default"]  # no leave
    assert root["messageCount"] == 2
    assert root["guild"]["name"] == "深圳 Python 社区" and root["channel"]["name"] == "闲聊"


@pytest.mark.parametrize(
    ("at", "zone", "text"),
    [
        (
            datetime(2024, 3, 1, 1, 16, 45, 123456, UTC),
            "Asia/Shanghai",
            "2024-03-01T09:16:45.123456+08:00",
        ),
        (
            datetime(2024, 7, 1, 12, 0, tzinfo=UTC),
            "America/Los_Angeles",
            "2024-07-01T05:00:00-07:00",
        ),
        (
            datetime(2024, 7, 1, 12, 0, 0, 500000, UTC),
            "Asia/Kathmandu",
            "2024-07-01T17:45:00.5+05:45",
        ),
    ],
)
def test_dotnet_time(at: datetime, zone: str, text: str) -> None:
    assert exporter.dotnet_time(at, ZoneInfo(zone)) == text
    assert parse_time(text, field="t") == at
