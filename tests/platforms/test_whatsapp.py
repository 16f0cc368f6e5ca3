"""WhatsApp "Export chat" reader (.txt / .zip) and the demo exporter that writes it."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts, realdata
from shequn.demo.exporters import whatsapp as exporter
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.errors import InputError
from shequn.model.records import Community, MembershipEvent, Message, Record
from shequn.platforms import whatsapp_locales as loc
from shequn.platforms.base import ParseContext, Source, detect, get_parser
from shequn.platforms.whatsapp import clean_name

WA = FIXTURES / "whatsapp"
SHANGHAI = ZoneInfo("Asia/Shanghai")
LRM = "\u200e"


def parse(path: Path, **ctx_kwargs: object) -> tuple[list[Record], ParseContext]:
    ctx = ParseContext(**ctx_kwargs)  # type: ignore[arg-type]
    source = Source(path)
    try:
        return list(get_parser("whatsapp")().parse(source, ctx)), ctx
    finally:
        source.close()


def messages(records: list[Record]) -> list[Message]:
    return [r for r in records if isinstance(r, Message)]


def events(records: list[Record]) -> list[MembershipEvent]:
    return [r for r in records if isinstance(r, MembershipEvent)]


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- golden files: one per header layout ----------------------------------------------------

GOLDEN = [
    ("WhatsApp Chat with 读书会 Book Club.txt", "Asia/Shanghai"),  # Android 24 h D/M/Y
    ("WhatsApp Chat with 周末爬山群.txt", "Asia/Shanghai"),  # Android 12 h U+202F, M/D/YY, CRLF
    ("WhatsApp Chat - Family 家人.zip", "Asia/Shanghai"),  # iOS zip, [D/M/Y, H:M:S], U+200E
    ("ios_es_12h.txt", "Europe/Madrid"),  # [D/M/YY H:MM:SS p. m.] with NBSP
    ("finnish_header_pt.txt", "Europe/Helsinki"),  # 13.6.2018 klo 21.25.15 -
    ("dotted_space_de.txt", "Europe/Berlin"),  # 13. 6. 2018. 21:25:15 Name: text
    ("ios_ymd_zh.txt", "Asia/Shanghai"),  # [2018/06/13, 21:25:15]
    ("zh_ampm_word.txt", "Asia/Shanghai"),  # 2018/6/13 下午9:25 -
    ("ios_mdy_dots.txt", "America/New_York"),  # [06.13.18 21:25:15]
    ("colon_header.txt", "UTC"),  # 13.06.18 21.25.15: Name: text
    ("dashes_dot_time.txt", "Asia/Kolkata"),  # 03-06-2018, 01.55 PM -
    ("android_pm_dots.txt", "UTC"),  # 3/6/18, 1:55 p.m. -
]


@pytest.mark.parametrize(("name", "zone"), GOLDEN)
def test_golden(name: str, zone: str) -> None:
    path = WA / name
    records = parse_to_dicts("whatsapp", path, tz=ZoneInfo(zone), tz_explicit=True)
    assert_golden(records, WA / (path.stem + ".golden.jsonl"))
    assert records[0]["type"] == "Community"
    for r in records[1:]:
        stamp = r.get("sent_at") or r.get("at")
        assert stamp.endswith("+00:00")


def test_android_24h_book_club() -> None:
    records, ctx = parse(
        WA / "WhatsApp Chat with 读书会 Book Club.txt", tz=SHANGHAI, tz_explicit=True
    )
    community = records[0]
    assert isinstance(community, Community)
    assert (community.platform_id, community.name, community.chat_type) == (
        "wa:读书会 Book Club",
        "读书会 Book Club",
        "group",
    )
    msgs = messages(records)
    assert [m.sender.platform_id for m in msgs if m.sender] == [
        "王小明",
        "Alice",
        "Alice",
        "Lily",
        "Bob Chen",
        "Bob Chen",
        "Alice",
        "+86 138 0013 8000",
        "Alice",
        "王小明",
        "Alice",
        "Alice",
        "王小明",
        "王小明",
        "Alice",
    ]
    first = msgs[0]
    assert first.text == "大家好！欢迎加入读书会📚\n这周我们读《三体》第一部。\n\n有问题随时问～"
    assert first.sent_at == datetime(2024, 3, 12, 1, 20, tzinfo=UTC)  # 09:20 in Shanghai
    assert first.message_id.startswith(f"{int(first.sent_at.timestamp())}-")
    # The same text twice in one minute: same hash, k = 0 then 1.
    assert msgs[1].message_id.endswith("-0") and msgs[2].message_id.endswith("-1")
    assert msgs[1].message_id[:-2] == msgs[2].message_id[:-2]
    assert (msgs[4].kind, msgs[4].text) == ("media", "<Media omitted>")
    assert msgs[5].deleted and msgs[5].kind == "text"
    edited = msgs[6]
    assert edited.text == "Chapter 3 was great: the 三体 game scenes!"
    assert edited.edited_at == edited.sent_at
    assert msgs[7].links == ["https://book.douban.com/subject/2567698/"]
    assert msgs[8].text == "Bob Chen left 😢"  # reads like a system line, is a message
    assert [(m.kind, m.text.split("\n")[0]) for m in msgs[9:13]] == [
        ("media", "IMG-20240314-WA0001.jpg (file attached)"),
        ("voice", "PTT-20240314-WA0002.opus (file attached)"),
        ("sticker", "STK-20240314-WA0003.webp (file attached)"),
        ("file", "三体.pdf (file attached)"),
    ]
    assert msgs[9].text == "IMG-20240314-WA0001.jpg (file attached)\n封面照片"
    assert msgs[-1].text == "."  # "Alice:." (view once) keeps its text
    # The subject change to "读书会: 三体" holds ": " but is no message by "王小明 changed…".
    assert not any(
        "changed the subject" in m.text
        or "changed the subject" in (m.sender.platform_id if m.sender else "")
        for m in msgs
    )
    got = [
        (e.action, e.source, e.member.platform_id, e.actor.platform_id if e.actor else None)
        for e in events(records)
    ]
    assert got == [
        ("join", "create", "王小明", None),
        ("join", "invite", "Alice", "王小明"),
        ("join", "invite", "Bob Chen", "王小明"),
        ("join", "invite", "+86 138 0013 8000", "王小明"),
        ("join", "link", "Lily", None),
        ("leave", "unknown", "Bob Chen", None),
        ("remove", "unknown", "+86 138 0013 8000", "王小明"),
        ("join", "invite", "You", "王小明"),
        ("join", "unknown", "Zhao Lei", None),
    ]
    assert ctx.warnings == []


def test_android_12h_us_month_first_chinese_system_lines() -> None:
    path = WA / "WhatsApp Chat with 周末爬山群.txt"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in path.read_bytes()
    records, _ = parse(path, tz=SHANGHAI, tz_explicit=True)
    assert records[0].platform_id == "wa:周末爬山群"  # type: ignore[union-attr]
    msgs = messages(records)
    # 3/14/24 is March 14 (a second field above 12 makes the file month first).
    assert msgs[0].sent_at == datetime(2024, 3, 14, 4, 30, tzinfo=UTC)  # 12:30 PM local
    assert msgs[1].text == "好的👌\n地点：奥森南门\n带够水和零食"  # CRLF read as line ends only
    assert msgs[2].sent_at == datetime(2024, 3, 14, 16, 0, tzinfo=UTC)  # 12:00 AM on 3/15
    assert msgs[2].deleted and msgs[2].text == "此消息已删除"
    assert msgs[3].sent_at == datetime(2024, 3, 15, 15, 59, tzinfo=UTC)  # 11:59 PM on 3/15
    assert msgs[4].deleted and msgs[4].text == "你删除了此消息"
    got = [
        (e.action, e.source, e.member.platform_id, e.actor.platform_id if e.actor else None)
        for e in events(records)
    ]
    assert got == [
        ("join", "create", "陈静", None),
        ("join", "invite", "李雷", "陈静"),
        ("join", "invite", "You", "陈静"),
        ("join", "link", "王芳", None),
        ("leave", "unknown", "李雷", None),
        ("remove", "unknown", "王芳", "陈静"),
    ]


def test_ios_zip_with_media() -> None:
    records, _ = parse(WA / "WhatsApp Chat - Family 家人.zip", tz=SHANGHAI, tz_explicit=True)
    assert records[0].platform_id == "wa:Family 家人"  # type: ignore[union-attr]
    msgs = messages(records)
    assert [(m.sender.platform_id if m.sender else None, m.kind, m.text) for m in msgs] == [
        ("Mum", "text", "Dinner at 7 tonight 🍜"),
        ("Dad", "media", "image omitted"),
        ("Mum", "media", "<attached: 00000003-PHOTO-2020-04-21-18-42-02.jpg>"),
        ("Jenny", "text", "我也来！"),  # "\u2068~\u202fJenny\u2069" cleaned
        ("Dad", "text", "Running late"),
        ("Mum", "text", "This message was deleted."),
        ("Dad", "file", "Report.pdf • 3 pages document omitted"),
        ("Dad", "sticker", "sticker omitted"),
        ("Mum", "voice", "audio omitted"),
        ("Mum", "voice", "<attached: 00000007-AUDIO-2020-04-22-09-03-00.opus>"),
    ]
    assert msgs[0].sent_at == datetime(2020, 4, 21, 10, 40, 11, tzinfo=UTC)  # seconds kept
    assert msgs[4].edited_at == msgs[4].sent_at and msgs[5].deleted
    # The group itself "says" the notices on iOS: no message from "Family 家人".
    assert all(m.sender and m.sender.platform_id != "Family 家人" for m in msgs)
    got = [
        (e.action, e.member.platform_id, e.actor.platform_id if e.actor else None)
        for e in events(records)
    ]
    assert got == [("join", "Mum", None), ("join", "You", "Mum"), ("leave", "Jenny", None)]


def test_spanish_ios_12h_names_the_chat_after_the_group_author() -> None:
    records, ctx = parse(WA / "ios_es_12h.txt", tz=ZoneInfo("Europe/Madrid"), tz_explicit=True)
    assert records[0].platform_id == "wa:Viaje a Perú"  # type: ignore[union-attr]
    msgs = messages(records)
    assert msgs[0].sent_at == datetime(2018, 6, 3, 11, 55, tzinfo=UTC)  # 1:55 p. m. CEST
    assert msgs[-1].sent_at == datetime(2018, 6, 15, 22, 5, tzinfo=UTC)  # 12:05 a. m. on 16/6
    assert msgs[-2].deleted
    got = [
        (e.action, e.member.platform_id, e.actor.platform_id if e.actor else None)
        for e in events(records)
    ]
    assert got == [
        ("join", "Pedro", "Lucía"),
        ("join", "Ana", "Lucía"),
        ("join", "Marta", "You"),
        ("leave", "Ana", None),
        ("remove", "Pedro", "Lucía"),
    ]
    assert ctx.warnings == []


def test_portuguese_and_german_system_lines() -> None:
    records, ctx = parse(WA / "finnish_header_pt.txt")
    assert records[0].name == "Viagem 2018"  # type: ignore[union-attr]  # from "criou o grupo"
    assert messages(records)[0].sent_at == datetime(2018, 6, 13, 21, 26, tzinfo=UTC)
    assert [(e.action, e.source, e.member.platform_id) for e in events(records)] == [
        ("join", "create", "Ana"),
        ("join", "invite", "João"),
        ("join", "invite", "Maria"),
        ("join", "link", "Carla"),
        ("leave", "unknown", "Maria"),
        ("remove", "unknown", "João"),
    ]
    assert messages(records)[-1].kind == "media"
    records, ctx = parse(WA / "dotted_space_de.txt")
    assert [m.text for m in messages(records)][:2] == ["Hallo zusammen!", "Danke! 🙏"]
    assert messages(records)[2].kind == "media"  # "(Datei angehängt)"
    assert [
        (e.action, e.member.platform_id, e.actor.platform_id if e.actor else None)
        for e in events(records)
    ] == [("join", "Petra", "Klaus"), ("leave", "Petra", None), ("remove", "Klaus", "You")]
    assert "dotted_space_de" in ctx.warnings[0]  # no chat name anywhere: said so


def test_year_first_and_chinese_ampm_words() -> None:
    records, _ = parse(WA / "ios_ymd_zh.txt")
    assert records[0].name == "产品内测群"  # type: ignore[union-attr]
    assert [e.member.platform_id for e in events(records)] == [
        "张伟",
        "刘洋",
        "赵敏",
        "You",
        "赵敏",
    ]
    assert messages(records)[1].sent_at == datetime(2018, 7, 1, 8, 0, 5, tzinfo=UTC)
    records, _ = parse(WA / "zh_ampm_word.txt")
    assert [m.sent_at.strftime("%m-%d %H:%M") for m in messages(records)] == [
        "06-13 21:25",
        "06-13 12:05",
        "06-14 00:10",
        "06-14 09:00",
    ]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ios_mdy_dots.txt", ["2018-06-13 21:25:15", "2018-06-13 21:26:02", "2018-07-02 09:00:00"]),
        ("colon_header.txt", ["2018-06-13 21:25:15", "2018-06-13 21:26:40", "2018-07-01 10:00:00"]),
        (
            "dashes_dot_time.txt",
            ["2018-06-03 13:55:00", "2018-06-03 14:10:00", "2018-06-25 11:59:00"],
        ),
        (
            "android_pm_dots.txt",
            ["2018-06-03 13:55:00", "2018-06-03 11:05:00", "2018-06-23 00:01:00"],
        ),
    ],
)
def test_header_variants_dates(name: str, expected: list[str]) -> None:
    records, _ = parse(WA / name)
    assert [m.sent_at.strftime("%Y-%m-%d %H:%M:%S") for m in messages(records)] == expected
    assert all(m.sender and ":" not in m.sender.platform_id for m in messages(records))


# --- the real files -------------------------------------------------------------------------

REAL = [
    ("chat-miner__test_BRACKETS_mmddyy_24hrs.txt", "month"),
    ("chat-miner__test_ddmmyy_24hrs.txt", "day"),
    ("chat-miner__test_mmddyy_24hrs.txt", "month"),
    ("chat-miner__test_mmddyyyy_12hrs.txt", "month"),
    ("chat-miner__test_yyyymmdd_24hrs.txt", "year"),
]


@pytest.mark.realdata
@pytest.mark.parametrize(("name", "order"), REAL)
def test_real_files(name: str, order: str) -> None:
    path = realdata(f"whatsapp/{name}")
    records, ctx = parse(path)
    msgs = messages(records)
    lines = path.read_text(encoding="utf-8").splitlines()
    # Every header line with "Name: " or "Name:." is one message; two lines are system lines.
    assert len(msgs) == 7 and len(lines) == 11
    assert [m.sender.platform_id for m in msgs if m.sender] == [
        "John Doe",
        "John Doe",
        "Jahn Doe",
        "John-John Doe",
        "John Doe 🤓",
        "🤓",
        "John Doe",
    ]
    assert msgs[1].text == "."
    assert msgs[2].text == "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit. Duis libero."
    assert msgs[3].text == "Lorem ipsum : dolor sit amet."
    # 20/01/19 and 01/20/19 are both January 20th: the order was inferred from the file.
    assert msgs[1].sent_at == datetime(2019, 1, 20, 11, 23, tzinfo=UTC)
    assert msgs[2].sent_at == datetime(2019, 1, 30, 20, 49, tzinfo=UTC)  # 08:49 p. m. in 12 h
    assert msgs[4].sent_at == datetime(2021, 12, 10, 10, 10, tzinfo=UTC)
    first_fields = lines[1].lstrip("[").split("/")[:2]
    assert (
        first_fields == {"day": ["20", "01"], "month": ["01", "20"], "year": ["2019", "01"]}[order]
    )
    got = [(e.action, e.source, e.member.platform_id) for e in events(records)]
    assert got == [("join", "create", "+12 345 578"), ("join", "invite", "You")]
    assert records[0].name == "Groupname"  # type: ignore[union-attr]  # from "created group"
    assert ctx.warnings == []


@pytest.mark.realdata
@pytest.mark.parametrize("name", [n for n, _ in REAL])
def test_real_files_match_chat_miner_target(name: str) -> None:
    target = json.loads(realdata("whatsapp/chat-miner__target.json").read_text(encoding="utf-8"))
    msgs = messages(parse(realdata(f"whatsapp/{name}"))[0])
    ours = {
        (m.sent_at.replace(tzinfo=None).isoformat(), m.sender.platform_id): m.text
        for m in msgs
        if m.sender
    }
    for row in target:
        text = ours[(row["timestamp"], row["author"])]
        # chat-miner joins continuation lines with a space; we keep the file's line break.
        assert text.replace("\n", " ") == row["message"]
    # chat-miner drops the view-once "John Doe:." message; we keep it with its text.
    assert len(ours) == len(target) + 1


# --- input forms ----------------------------------------------------------------------------


def test_zip_named_by_its_chat_txt_and_folder_input(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(WA / "android_pm_dots.txt", "WhatsApp Chat with Lunch 午饭.txt")
        z.writestr("IMG-20180603-WA0001.jpg", b"jpeg")
    records, _ = parse(archive)
    assert records[0].platform_id == "wa:Lunch 午饭"  # type: ignore[union-attr]
    assert len(messages(records)) == 3
    assert get_parser("whatsapp").sniff(Source(archive)) == 95
    folder = tmp_path / "WhatsApp Chat - Lunch"
    folder.mkdir()
    shutil.copy(WA / "android_pm_dots.txt", folder / "_chat.txt")
    records, _ = parse(folder)
    assert records[0].platform_id == "wa:Lunch"  # type: ignore[union-attr]


def test_zip_with_several_chats_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "1/1/20, 10:00 - A: x\n")
        z.writestr("b.txt", "1/1/20, 10:00 - B: y\n")
    with pytest.raises(InputError, match="one WhatsApp chat"):
        parse(archive)


def test_sniff_and_detect() -> None:
    for name, _ in GOLDEN:
        assert get_parser("whatsapp").sniff(Source(WA / name)) >= 70, name
    assert detect(Source(WA / "WhatsApp Chat with 读书会 Book Club.txt")).parser.name == "whatsapp"


def test_sniff_says_no_to_other_text(tmp_path: Path) -> None:
    memotrace = write(
        tmp_path,
        "chat.txt",
        ["2024-01-01 12:00:00 张三", "你好", "", "2024-01-01 12:01:00 李四", "在吗", ""],
    )
    assert get_parser("whatsapp").sniff(Source(memotrace)) == 0
    plain = write(tmp_path, "notes.txt", ["just some notes", "nothing else"])
    assert get_parser("whatsapp").sniff(Source(plain)) == 0
    json_file = write(tmp_path, "result.json", ['{"messages": []}'])
    assert get_parser("whatsapp").sniff(Source(json_file)) == 0


def test_invisible_marks_and_nfkc_on_names_only(tmp_path: Path) -> None:
    assert clean_name("\u2068~\u202fJenny\u2069") == "Jenny"
    assert clean_name("\u202a+86 138 0013 8000\u202c") == "+86 138 0013 8000"
    assert clean_name("~ Ｊｅｎｎｙ") == "Jenny"  # full-width name: NFKC
    assert clean_name("～小明～") == "~小明~"  # a full-width tilde is part of the name
    path = write(
        tmp_path,
        "WhatsApp Chat with x.txt",
        [
            "13/06/2018, 21:25 - ~\u00a0Ｊｅｎｎｙ: ＡＢＣ！？\u202f 全角不变",
            "13/06/2018, 21:26 - Jenny: second",
        ],
    )
    msgs = messages(parse(path)[0])
    assert msgs[0].text == "ＡＢＣ！？\u202f 全角不变"  # text is never normalised
    assert msgs[0].sender == msgs[1].sender  # both "Jenny"


def test_dst_day_uses_the_zone_per_minute(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "WhatsApp Chat with dst.txt",
        [
            "31/03/2024, 01:59 - A: before",
            "31/03/2024, 03:00 - A: after",
            "31/03/2024, 23:59 - A: night",
        ],
    )
    msgs = messages(parse(path, tz=ZoneInfo("Europe/Berlin"), tz_explicit=True)[0])
    assert [m.sent_at for m in msgs] == [
        datetime(2024, 3, 31, 0, 59, tzinfo=UTC),
        datetime(2024, 3, 31, 1, 0, tzinfo=UTC),
        datetime(2024, 3, 31, 21, 59, tzinfo=UTC),
    ]


# --- ambiguity ------------------------------------------------------------------------------


def test_ambiguous_day_month_defaults_to_day_first_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "WhatsApp Chat with x.txt",
        ["03/04/2020, 10:00 - A: hi", "05/06/2020, 11:00 - B: yo"],
    )
    records, ctx = parse(path)
    assert messages(records)[0].sent_at == datetime(2020, 4, 3, 10, 0, tzinfo=UTC)
    assert any("day first" in w for w in ctx.warnings)


def test_order_is_inferred_from_far_down_the_file(tmp_path: Path) -> None:
    # 300 KB of ambiguous dates, then one 12/25: the whole file is month first.
    lines = [
        f"0{1 + i % 9}/0{1 + i % 9}/2020, 10:{i % 60:02d} - A: {'x' * 80}" for i in range(3000)
    ]
    path = write(
        tmp_path,
        "WhatsApp Chat with x.txt",
        ["03/04/2020, 09:00 - A: first", *lines, "12/25/2020, 10:00 - B: xmas"],
    )
    records, ctx = parse(path)
    msgs = messages(records)
    assert msgs[0].sent_at == datetime(2020, 3, 4, 9, 0, tzinfo=UTC)
    assert msgs[-1].sent_at == datetime(2020, 12, 25, 10, 0, tzinfo=UTC)
    assert ctx.warnings == []


def test_system_line_with_colon_in_subject_and_known_names_win(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "WhatsApp Chat with x.txt",
        [
            '01/02/2021, 10:00 - Ann changed the subject to "Q&A: 周会"',
            '13/02/2021, 10:01 - Ann: Ann changed the subject to "x: y"',  # a message about it
            # Deliberately odd: a contact whose name holds a system phrase, known from a join.
            '13/02/2021, 10:02 - Ann added DJ changed the subject to "Q',
            '13/02/2021, 10:03 - DJ changed the subject to "Q: hello"',
        ],
    )
    records, _ = parse(path)
    msgs = messages(records)
    assert [(m.sender.platform_id, m.text) for m in msgs if m.sender] == [
        ("Ann", 'Ann changed the subject to "x: y"'),
        ('DJ changed the subject to "Q', 'hello"'),
    ]
    assert [e.member.platform_id for e in events(records)] == ['DJ changed the subject to "Q']


def test_group_author_e2e_notice_is_not_a_message(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "chat.txt",
        [
            "13/06/2018, 21:25 - Book Club: Messages and calls are end-to-end encrypted. No one "
            "outside of this chat, not even WhatsApp, can read or listen to them.",
            "13/06/2018, 21:26 - Ann: hi",
        ],
    )
    records, ctx = parse(path)
    assert records[0].platform_id == "wa:Book Club"  # type: ignore[union-attr]
    assert [m.text for m in messages(records)] == ["hi"]
    assert ctx.warnings == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Ann added Bo, Cy and Di", ("join", "invite", "Ann", ["Bo", "Cy", "Di"])),
        ("Ann added you", ("join", "invite", "Ann", ["You"])),
        ("You were added", ("join", "invite", None, ["You"])),
        ("You removed Bo", ("remove", "unknown", "You", ["Bo"])),
        ("Bo left", ("leave", "unknown", None, ["Bo"])),
        ("Ann removed this group's icon", None),
        ("Ann changed this group's icon", None),
        ('Ann changed the subject from "A" to "B"', None),
        ("Your security code with Bo changed. Tap to learn more.", None),
        ("张伟 添加了 王和平", ("join", "invite", "张伟", ["王和平"])),
        ("张伟 添加了 刘洋、赵敏和你", ("join", "invite", "张伟", ["刘洋", "赵敏", "You"])),
        ("王芳 通过此群组的邀请链接加入", ("join", "link", None, ["王芳"])),
        ("陈静 移除了 你", ("remove", "unknown", "陈静", ["You"])),
        ("Añadiste a Marta", ("join", "invite", "You", ["Marta"])),
        ("Lucía te añadió", ("join", "invite", "Lucía", ["You"])),
        ("Ana adicionou João e Maria", ("join", "invite", "Ana", ["João", "Maria"])),
        ("Carla entrou usando o link de convite deste grupo", ("join", "link", None, ["Carla"])),
        ("Klaus hat dich hinzugefügt", ("join", "invite", "Klaus", ["You"])),
        ("Petra hat die Gruppe verlassen", ("leave", "unknown", None, ["Petra"])),
    ],
)
def test_system_line_table(line: str, expected: tuple | None) -> None:
    assert loc.read_system_line(line, set()) == expected


def test_known_name_with_separator_is_not_split() -> None:
    assert loc.read_system_line("Ann added Tom and Jerry", {"Tom and Jerry"}) == (
        "join", "invite", "Ann", ["Tom and Jerry"])  # fmt: skip


# --- message ids ----------------------------------------------------------------------------


def test_ids_are_stable_across_overlapping_exports(tmp_path: Path) -> None:
    full = WA / "WhatsApp Chat with 读书会 Book Club.txt"
    lines = full.read_text(encoding="utf-8").splitlines()
    later = write(tmp_path, full.name, lines[3:])  # an export that starts later
    ids_full = {m.message_id for m in messages(parse(full)[0])}
    ids_later = [m.message_id for m in messages(parse(later)[0])]
    assert set(ids_later) <= ids_full and len(ids_later) == len(ids_full)
    again = [m.message_id for m in messages(parse(full)[0])]
    assert sorted(again) == sorted(ids_full)


# --- bad input ------------------------------------------------------------------------------


def test_no_header_is_refused_at_line_1(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.txt", ["hello", "this is not a chat", "x", "y", "z"])
    with pytest.raises(InputError) as err:
        parse(path)
    assert err.value.line == 1 and err.value.file == str(path) and err.value.field == "header"


def test_impossible_date_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "WhatsApp Chat with x.txt",
        [
            "13/02/2024, 10:00 - A: ok",
            "30/02/2024, 10:01 - A: feb 30",
            "continued",
            "14/02/2024, 10:02 - B: after",
            "14/13/2024, 10:03 - B: month 13",
            "15/02/2024, 25:03 - B: hour 25",
            "15/02/2024, 10:04 - B: last",
        ],
    )
    with pytest.raises(InputError) as err:
        parse(path)
    assert (err.value.file, err.value.line, err.value.field) == (str(path), 2, "date")
    records, ctx = parse(path, skip_bad=True)
    assert [m.text for m in messages(records)] == ["ok", "after", "last"]
    assert [(e.line, e.field) for e in ctx.skipped] == [(2, "date"), (5, "date"), (6, "time")]


def test_bad_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with x.txt"
    path.write_bytes(b"13/02/2024, 10:00 - A: ok\n13/02/2024, 10:01 - A: \xff\xfe bad\n")
    with pytest.raises(InputError) as err:
        parse(path)
    assert err.value.field == "encoding"


def test_long_message_across_chunks_and_line_numbers(tmp_path: Path, monkeypatch) -> None:
    import shequn.platforms.whatsapp as wa

    monkeypatch.setattr(wa, "CHUNK_BYTES", 64)
    body = [f"line {i} 行" for i in range(40)]
    path = write(
        tmp_path,
        "WhatsApp Chat with x.txt",
        [
            "13/02/2024, 10:00 - A: start",
            *body,
            "13/02/2024, 10:01 - B: next\r",
            "31/02/2024, 10:02 - B: bad",
        ],
    )
    records, ctx = parse(path, skip_bad=True)
    msgs = messages(records)
    assert msgs[0].text == "start\n" + "\n".join(body)
    assert msgs[1].text == "next"  # the stray CR is a line end
    assert [(e.line, e.field) for e in ctx.skipped] == [(43, "date")]


# --- hypothesis -----------------------------------------------------------------------------

FIXTURE_OK = [HealthCheck.function_scoped_fixture]  # tmp_path is only a folder to write into

HEADERS = [
    "{d}/{m}/{y}, {H}:{M} - ",
    "[{d}/{m}/{y}, {H}:{M}:{S}] ",
    "{d}.{m}.{y} klo {H}.{M}.{S} - ",
    "{y}/{m}/{d} 下午{H}:{M} - ",
    "{m}/{d}/{y}, {H}:{M}\u202fPM - ",
]


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(data=st.binary(max_size=600))
def test_arbitrary_bytes_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "WhatsApp Chat with fuzz.txt"
    path.write_bytes(data)
    with contextlib.suppress(InputError):
        parse(path)


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(HEADERS),
            st.integers(0, 40),
            st.integers(0, 40),
            st.integers(0, 2100),
            st.integers(0, 30),
            st.integers(0, 70),
            st.integers(0, 70),
            st.text(max_size=30),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    ),
    skip=st.booleans(),
)
def test_header_like_text_only_input_errors(tmp_path: Path, rows: list, skip: bool) -> None:
    lines = []
    for fmt, d, m, y, h, mi, s, text, continuation in rows:
        lines.append(fmt.format(d=d, m=m, y=y, H=h, M=f"{mi:02d}", S=f"{s:02d}") + text)
        if continuation:
            lines.append(text)
    path = tmp_path / "WhatsApp Chat with fuzz.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    with contextlib.suppress(InputError):
        parse(path, skip_bad=skip)


# --- the demo exporter ----------------------------------------------------------------------

ALICE = DemoUser(id="a", name="Alice")
WANG = DemoUser(id="w", name="王小明")
ZOE = DemoUser(id="z", name="Zoë 🌸")
PHONE = DemoUser(id="p", name="+86 138 0013 8000")


def test_exporter_writes_android_layout_and_events(tmp_path: Path) -> None:
    t0 = datetime(2024, 3, 12, 1, 20, 30, tzinfo=UTC)
    chat = DemoChat(
        platform_id="g",
        name="读书会",
        timezone="Asia/Shanghai",
        users=[ALICE, WANG],
        items=[
            DemoEvent(id="e1", at=t0, action="join", member=ALICE, actor=WANG, source="invite"),
            DemoMessage(id="1", sent_at=t0, sender=WANG, text="大家好\n第二行"),
            DemoMessage(
                id="2", sent_at=t0 + timedelta(minutes=1), sender=ALICE, text="", kind="media"
            ),
            DemoMessage(
                id="3",
                sent_at=t0 + timedelta(minutes=2),
                sender=ALICE,
                text="typo fixed",
                edited_at=t0 + timedelta(minutes=3),
            ),
            DemoEvent(id="e2", at=t0 + timedelta(days=1), action="join", member=ZOE, source="link"),
            DemoEvent(id="e3", at=t0 + timedelta(days=2), action="leave", member=ZOE),
            DemoEvent(
                id="e4", at=t0 + timedelta(days=2), action="remove", member=ALICE, actor=WANG
            ),
        ],
    )
    path = exporter.write(chat, tmp_path)
    assert path.name == "WhatsApp Chat with 读书会.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("12/03/2024, 09:20 - Messages and calls are end-to-end encrypted")
    assert lines[1:] == [
        "12/03/2024, 09:20 - 王小明 added Alice",
        "12/03/2024, 09:20 - 王小明: 大家好",
        "第二行",
        "12/03/2024, 09:21 - Alice: <Media omitted>",
        "12/03/2024, 09:22 - Alice: typo fixed <This message was edited>",
        "13/03/2024, 09:20 - Zoë 🌸 joined using this group's invite link",
        "14/03/2024, 09:20 - Zoë 🌸 left",
        "14/03/2024, 09:20 - 王小明 removed Alice",
    ]
    records, _ = parse(path, tz=SHANGHAI, tz_explicit=True)
    assert [
        (e.action, e.source, e.member.name, e.actor.name if e.actor else None)
        for e in events(records)
    ] == [
        ("join", "invite", "Alice", "王小明"),
        ("join", "link", "Zoë 🌸", None),
        ("leave", "unknown", "Zoë 🌸", None),
        ("remove", "unknown", "Alice", "王小明"),
    ]
    msgs = messages(records)
    assert [(m.kind, m.text, m.edited_at is not None) for m in msgs] == [
        ("text", "大家好\n第二行", False),
        ("media", "<Media omitted>", False),
        ("text", "typo fixed", True),
    ]


def _round_trip_text(text: str) -> bool:
    """Texts the format can carry back unchanged (see the exporter's docstring)."""
    bare = text.lstrip(LRM)
    return not (
        "\r" in text
        or re.search(r"\n[\u200e\u200f]*\[?\d", text)  # a continuation line that is a header
        or text.startswith(LRM)
        or loc.EDITED_SUFFIX.search(text)
        or bare in loc.MEDIA_MARKERS
        or loc.E2E_NOTICE.match(bare)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([ALICE, WANG, ZOE, PHONE]),
            st.text(max_size=40).filter(_round_trip_text),
            st.integers(0, 10 * 365 * 24 * 3600),
        ),
        min_size=1,
        max_size=15,
    ),
    zone=st.sampled_from(["Asia/Shanghai", "UTC", "Asia/Kolkata"]),
)
def test_exporter_round_trip(tmp_path: Path, rows: list, zone: str) -> None:
    start = datetime(2015, 1, 1, tzinfo=UTC)
    items = [
        DemoMessage(id=str(i), sent_at=start + timedelta(seconds=s), sender=u, text=t)
        for i, (u, t, s) in enumerate(sorted(rows, key=lambda r: r[2]))
    ]
    chat = DemoChat(platform_id="g", name="Round trip 往返", timezone=zone, items=list(items))
    out = tmp_path / "rt"
    shutil.rmtree(out, ignore_errors=True)
    path = exporter.write(chat, out)
    records, _ = parse(path, tz=ZoneInfo(zone), tz_explicit=True)
    msgs = messages(records)
    assert [(m.sender.name if m.sender else None, m.text, m.sent_at) for m in msgs] == [
        (d.sender.name, d.text, d.sent_at.replace(second=0)) for d in items
    ]
    assert records[0].name == "Round trip 往返"  # type: ignore[union-attr]
