"""QQ message-manager .txt reader."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts
from shequn.errors import InputError
from shequn.model.records import Community, MembershipEvent, Message
from shequn.platforms.base import ParseContext, Source, detect, get_parser
from shequn.platforms.qq import TITLE, detect_encoding

DIR = FIXTURES / "qq"
GROUPS = DIR / "qq_groups.txt"
SHANGHAI = ZoneInfo("Asia/Shanghai")
SEP = "=" * 64


def _parse(path: Path, **ctx_kwargs) -> tuple[list, ParseContext]:
    ctx = ParseContext(**{"tz": SHANGHAI, **ctx_kwargs})
    source = Source(path)
    try:
        return list(get_parser("qq")().parse(source, ctx)), ctx
    finally:
        source.close()


def _file(tmp_path: Path, body: str, *, name: str = "chat.txt", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    head = f"{TITLE}\n\n{SEP}\n消息分组:我的QQ群\n{SEP}\n消息对象:测试群\n{SEP}\n\n"
    path.write_bytes((head + body).encode(encoding))
    return path


def test_golden_two_groups_and_a_discussion() -> None:
    records = parse_to_dicts("qq", GROUPS, tz=SHANGHAI)
    assert_golden(records, DIR / "qq_groups.golden.jsonl")

    communities = [r for r in records if r["type"] == "Community"]
    assert [(c["platform_id"], c["name"], c["chat_type"]) for c in communities] == [
        ("qq:产品交流群", "产品交流群", "group"),
        ("735201984", "周末徒步", "group"),
        ("qq:年会筹备", "年会筹备", "discussion"),
    ]
    messages = [r for r in records if r["type"] == "Message"]
    first = messages[0]
    assert first["sent_at"] == "2019-07-16T10:15:05+00:00"  # 18:15:05 in Beijing
    assert first["sender"]["platform_id"] == "10001234"
    assert first["sender"]["name"] == "老王"  # 【群主】 dropped
    assert first["text"] == "欢迎新朋友！\n群规：\n1. 不发广告\n2. 有问题先搜群文件"
    digest = hashlib.blake2b(("10001234\x00" + first["text"]).encode(), digest_size=6)
    assert first["message_id"] == f"1563272105-{digest.hexdigest()}-0"
    admin = next(m for m in messages if m["sender"] and m["sender"]["platform_id"] == "88886666")
    assert (admin["sender"]["name"], admin["kind"], admin["text"]) == ("小美", "media", "")
    email = next(m for m in messages if m["sender"] and "@" in m["sender"]["platform_id"])
    assert email["sender"] == {
        **email["sender"],
        "platform_id": "tudou@example.com",
        "name": "土豆",
    }
    # one blank line of the message itself survives; the exporter's separator does not
    assert email["text"] == "@地瓜 欢迎！代码规范见 https://example.com/wiki/style\n"
    assert email["links"] == ["https://example.com/wiki/style"]
    stickers = [m["message_id"] for m in messages if m["kind"] == "sticker"]
    assert [s[-2:] for s in stickers] == ["-0", "-1"]
    hike = [m["text"] for m in messages if m["community_id"] == "735201984"]
    assert hike == ["明早 8 点北门集合\n  记得带水 💧 ", "====\n以上为路线"]
    talk = [m["sender"] for m in messages if m["community_id"] == "qq:年会筹备"]
    assert [(s["platform_id"], s["by_name"]) for s in talk] == [
        ("老王", False),
        ("Lily Zhang", False),
    ]
    revoked = next(m for m in messages if m["deleted"])
    assert revoked["sender"]["platform_id"] == "88886666"  # "小美" seen on a header
    assert [m["text"] for m in messages if m["kind"] == "system"] == [
        '老王修改了群名称为"产品交流群"'
    ]
    events = [
        (
            e["action"],
            e["member"]["platform_id"],
            e["member"]["by_name"],
            e["actor"]["platform_id"] if e["actor"] else None,
            e["source"],
        )
        for e in records
        if e["type"] == "MembershipEvent"
    ]
    assert events == [
        ("join", "地瓜", True, None, "unknown"),  # before 地瓜's first message: the store resolves
        ("join", "番茄", True, "10001234", "invite"),
        ("remove", "番茄", True, None, "unknown"),
        ("leave", "tudou@example.com", False, None, "unknown"),
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "gb18030", "utf-8"])
def test_other_encodings_give_the_same_records(tmp_path: Path, encoding: str) -> None:
    text = GROUPS.read_text(encoding="utf-8-sig")
    path = tmp_path / "qq.txt"
    path.write_bytes(text.encode(encoding))  # "utf-16" writes a BOM, as Windows "Unicode" does
    expected, _ = _parse(GROUPS)
    records, ctx = _parse(path)
    assert records == expected
    assert detect(Source(path)).parser.name == "qq"
    assert ctx.warnings == ([] if encoding == "utf-8" else [f"{path}: read as {encoding}"])


def test_detect_encoding() -> None:
    assert detect_encoding(b"\xef\xbb\xbfabc") == "utf-8-sig"
    assert detect_encoding("消息记录".encode("utf-16")) == "utf-16"
    assert detect_encoding("2019-07-16 a(1)\r\n".encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding("消息记录 abc".encode("gb18030")) == "gb18030"
    assert detect_encoding("消息记录".encode()[:-1]) == "utf-8"  # cut mid-character


def test_twelve_hour_clock_and_name_only_sender(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "2019-09-23 8:43:38 PM 骰娘-Roll100(87200175)\n1\n\n"
        "2019-09-24 12:05:00 AM Tom (UK)(12345678)\n午夜\n\n"
        "2019-09-24 12:30:00 PM 【冒泡】番茄\n中午\n\n",
    )
    records, _ = _parse(path)
    messages = [r for r in records if isinstance(r, Message)]
    assert [m.sent_at for m in messages] == [
        datetime(2019, 9, 23, 12, 43, 38, tzinfo=UTC),
        datetime(2019, 9, 23, 16, 5, tzinfo=UTC),
        datetime(2019, 9, 24, 4, 30, tzinfo=UTC),
    ]
    assert [(m.sender.platform_id, m.sender.name) for m in messages] == [
        ("87200175", "骰娘-Roll100"),
        ("12345678", "Tom (UK)"),
        ("番茄", "番茄"),
    ]


@pytest.mark.parametrize(
    ("line", "action", "member", "actor", "source"),
    [
        ("真核生物独幕剧加入本群。", "join", "真核生物独幕剧", None, "unknown"),
        ("地瓜加入了本群", "join", "地瓜", None, "unknown"),
        ("老王邀请番茄加入了本群。", "join", "番茄", "老王", "invite"),
        ("番茄通过扫描二维码加入本群。", "join", "番茄", None, "qr"),
        ("土豆退出了群聊。", "leave", "土豆", None, "unknown"),
        ("土豆已退出本群", "leave", "土豆", None, "unknown"),
        ("番茄被管理员移出本群。", "remove", "番茄", None, "unknown"),
        ("番茄被群主移出了本群", "remove", "番茄", None, "unknown"),
    ],
)
def test_system_lines(
    tmp_path: Path, line: str, action: str, member: str, actor: str | None, source: str
) -> None:
    path = _file(tmp_path, f"2020-01-01 10:00:00 系统消息(10000)\n{line}\n\n")
    records, _ = _parse(path)
    (event,) = [r for r in records if isinstance(r, MembershipEvent)]
    assert (event.action, event.member.name, event.source) == (action, member, source)
    assert (event.actor.name if event.actor else None) == actor
    assert not [r for r in records if isinstance(r, Message)]


def test_revoke_and_unknown_system_lines(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "2020-01-01 10:00:00 系统消息(1000000)\n你撤回了一条消息\n\n"
        "2020-01-01 10:01:00 系统消息(10000)\n群主已开启全员禁言\n\n",
    )
    records, _ = _parse(path)
    revoke, other = [r for r in records if isinstance(r, Message)]
    assert revoke.deleted and revoke.sender is not None and revoke.sender.platform_id == "self"
    assert (other.kind, other.sender, other.text) == ("system", None, "群主已开启全员禁言")


def test_folder_of_exports_and_sniff(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    _file(tmp_path / "a", "2020-01-01 10:00:00 A(10001)\nhi\n\n", name="one.txt")
    (tmp_path / "a" / "notes.txt").write_text("just notes")
    records, _ = _parse(tmp_path / "a")
    assert [r.platform_id for r in records if isinstance(r, Community)] == ["qq:测试群"]
    assert detect(Source(GROUPS)).parser.name == "qq"
    assert get_parser("qq").sniff(Source(tmp_path / "a" / "notes.txt")) == 0
    assert get_parser("qq").sniff(Source(tmp_path / "a")) > 0


def test_messages_before_any_section_use_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "老同学.txt"
    path.write_text("2020-01-01 10:00:00 A(10001)\nhi\n\n", encoding="utf-8")
    records, _ = _parse(path)
    assert records[0].platform_id == "qq:老同学" and records[1].text == "hi"


@pytest.mark.parametrize(
    "bad", ["2020-02-30 10:00:00", "0001-01-01 00:00:00", "2020-01-01 10:61:00"]
)
def test_bad_time_names_file_line_and_field(tmp_path: Path, bad: str) -> None:
    path = _file(
        tmp_path,
        "2020-01-01 10:00:00 A(10001)\n一\n\n"
        f"{bad} A(10001)\n二\n\n"
        "2020-01-01 10:02:00 A(10001)\n三\n\n",
    )
    with pytest.raises(InputError) as info:
        _parse(path)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 12, "time")
    records, ctx = _parse(path, skip_bad=True)
    assert [r.text for r in records if isinstance(r, Message)] == ["一", "三"]
    assert [(e.line, e.field) for e in ctx.skipped] == [(12, "time")]


def test_bad_bytes_name_their_line(tmp_path: Path) -> None:
    path = _file(tmp_path, "2020-01-01 10:00:00 A(10001)\n一\n二\n\n")
    path.write_bytes(path.read_bytes().replace("二".encode(), b"\xff\xfe"))
    with pytest.raises(InputError) as info:
        _parse(path)
    assert info.value.line == 11
    records, ctx = _parse(path, skip_bad=True)
    assert [r.text for r in records if isinstance(r, Message)] == ["一"]
    assert [e.line for e in ctx.skipped] == [11]


# --- hypothesis: never anything but InputError ------------------------------------------

_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_lines = st.lists(
    st.sampled_from(
        [
            TITLE,
            SEP,
            "",
            "消息分组:我的QQ群",
            "消息对象:群(123456)",
            "消息对象:",
            "2019-07-16 18:15:05 【管理员】地瓜(23333233)",
            "2019-13-45 99:99:99 坏(1)",
            "0001-01-01 00:00:00 早(1)",
            "2019-07-16 8:15:05 PM 系统消息(10000)",
            "2019-07-16 18:15:05 ",
            "2019-07-16 18:15:05 【】",
            "加入本群。",
            "你撤回了一条消息",
            "A邀请B加入本群",
            "[图片]",
        ]
    )
    | st.text(max_size=30),
    max_size=20,
)


def _only_input_errors(path: Path) -> None:
    for skip_bad in (False, True):
        try:
            records, _ = _parse(path, skip_bad=skip_bad)
        except InputError:
            continue
        for r in records:
            if isinstance(r, Message):
                assert r.sent_at.tzinfo is not None and r.community_id


@_FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode()))
def test_arbitrary_bytes_give_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.txt"
    path.write_bytes(data)
    _only_input_errors(path)


@_FUZZ
@given(lines=_lines, encoding=st.sampled_from(["utf-8", "utf-16", "gb18030"]))
def test_arbitrary_lines_give_only_input_errors(
    tmp_path: Path, lines: list[str], encoding: str
) -> None:
    path = tmp_path / "fuzz.txt"
    path.write_bytes("\r\n".join(lines).encode(encoding, "replace"))
    _only_input_errors(path)


def test_progress_counts_the_file_once() -> None:
    seen: list[int] = []
    _parse(GROUPS, on_progress=seen.append)
    assert sum(seen) == GROUPS.stat().st_size
