"""WeChat CSV readers (MemoTrace, PyWxDump), their system lines, and the MemoTrace exporter."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts
from shequn.demo.exporters import wechat as exporter
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.errors import InputError
from shequn.model.records import Community, MembershipEvent, Message
from shequn.platforms.base import ParseContext, Source, detect, get_parser
from shequn.platforms.wechat_system import (
    SELF,
    SystemEvent,
    parse_system_text,
    read_sysmsg,
    render_template,
)

DIR = FIXTURES / "wechat"
GROUP = DIR / "memotrace_group" / "产品交流群_utf8.csv"
PRIVATE = DIR / "memotrace_private" / "张三_utf8.csv"
PYWXDUMP = DIR / "pywxdump"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = exporter.COLUMNS


def _parse(fmt: str, path: Path, **ctx_kwargs) -> tuple[list, ParseContext]:
    ctx = ParseContext(**ctx_kwargs)
    source = Source(path)
    try:
        return list(get_parser(fmt)().parse(source, ctx)), ctx
    finally:
        source.close()


def _of(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["type"] == kind]


def _det_id(epoch: int, sender_key: str, text: str, k: int = 0) -> str:
    digest = hashlib.blake2b((sender_key + "\x00" + text).encode(), digest_size=6).hexdigest()
    return f"{epoch}-{digest}-{k}"


# --- MemoTrace golden files -------------------------------------------------------------


def test_golden_memotrace_group() -> None:
    records = parse_to_dicts("wechat-memotrace", GROUP)
    assert_golden(records, DIR / "memotrace_group.golden.jsonl")

    community = records[0]
    assert (community["platform_id"], community["name"], community["chat_type"]) == (
        "wechat:产品交流群",
        "产品交流群",
        "group",
    )
    messages = _of(records, "Message")
    by_text = {m["text"]: m for m in messages if m["text"]}
    hello = by_text["大家好！我是李华，在杭州做产品经理～"]
    # CreateTime 1709640062 = 20:01:02 in Beijing, where StrTime was written
    assert hello["sent_at"] == "2024-03-05T12:01:02+00:00"
    assert hello["message_id"] == _det_id(1709640062, "wxid_lihua8899", hello["text"])
    assert hello["sender"]["platform_id"] == "wxid_lihua8899"
    assert hello["sender"]["name"] == "李华"  # NickName, not the user's private Remark

    quote = by_text["Thanks, glad to be here 😊"]
    assert quote["reply_to"] == hello["message_id"] and quote["kind"] == "text"
    assert by_text["欢迎欢迎！\n请先看一下群公告📌\n\n有问题随时 @我"]["sender"]["platform_id"] == (
        "wxid_ajie2024"
    )
    assert by_text["恭喜发财，大吉大利"]["kind"] == "red_packet"
    assert by_text["2024 社群运营报告"]["links"] == ["https://example.com/report?from=group&id=12"]
    left = by_text["@李华\u2005这个需求下周上线吗？"]
    assert left["sender"] == {**left["sender"], "platform_id": "wxid_left99", "name": None}
    assert left["mentions"] == ["wxid_lihua8899"]
    plus = [m["message_id"] for m in messages if m["text"] == "+1"]
    assert [p[-2:] for p in plus] == ["-0", "-1"] and plus[0][:-2] == plus[1][:-2]
    assert [m["kind"] for m in messages if m["text"] == ""].count("media") == 1
    assert {m["kind"] for m in messages if m["text"] == ""} >= {"media", "sticker", "voice"}
    empty_quote = [
        m for m in messages if m["kind"] == "text" and m["text"] == "" and not m["deleted"]
    ]
    assert [m["reply_to"] for m in empty_quote] == [None]  # 49/57 with no XML in the CSV

    deleted = [m for m in messages if m["deleted"]]
    assert [(m["sender"]["platform_id"], m["text"]) for m in deleted] == [
        ("wxid_ajie2024", ""),  # 你撤回了一条消息: the exporting user
        ("wxid_lihua8899", ""),  # <sysmsg type="revokemsg">: "李华" resolved by name
    ]
    assert [m["text"] for m in messages if m["kind"] == "system"] == [
        '"王小明"修改群名为“产品交流群”'
    ]
    assert not [m for m in messages if "拍了拍" in m["text"]]

    events = [
        (
            e["action"],
            e["member"]["platform_id"],
            e["member"]["by_name"],
            e["actor"]["platform_id"] if e["actor"] else None,
            e["source"],
        )
        for e in _of(records, "MembershipEvent")
    ]
    assert events == [
        ("join", "wxid_lihua8899", False, "wxid_wangxm01", "invite"),
        ("join", "wxid_emma_c", False, "wxid_wangxm01", "invite"),
        ("join", "赵六", True, "wxid_wangxm01", "qr"),
        ("remove", "赵六", True, "wxid_ajie2024", "unknown"),
        ("join", "wxid_sunqi777", False, "wxid_wangxm01", "invite"),  # sysmsgtemplate XML
        ("join", "Tom Lee", True, "wxid_emma_c", "invite"),  # English WeChat
    ]
    assert all(e["action"] != "leave" for e in _of(records, "MembershipEvent"))


def test_golden_memotrace_private_nine_field_rows() -> None:
    records = parse_to_dicts("wechat-memotrace", PRIVATE)
    assert_golden(records, DIR / "memotrace_private.golden.jsonl")
    assert records[0]["chat_type"] == "private"
    assert records[0]["platform_id"] == "wechat:张三"
    messages = _of(records, "Message")
    senders = [(m["sender"] or {}).get("platform_id") for m in messages]
    assert senders == ["张三", "self", "张三", "self", None, "张三"]
    assert messages[0]["sender"]["by_name"] is True  # the contact is known by the file name only
    assert messages[1]["text"] == "来的！\n几点开始？"
    assert messages[2]["text"] == '下午两点，地点：西湖区文三路 90 号 "创客空间"'
    assert messages[4] == {**messages[4], "kind": "system", "sender": None}
    assert messages[5]["sent_at"] == "2024-01-10T01:35:00+00:00"


def test_memotrace_folder_and_zip(tmp_path: Path) -> None:
    folder = tmp_path / "聊天记录"
    for src in (GROUP, PRIVATE):
        (folder / src.parent.name).mkdir(parents=True)
        shutil.copy(src, folder / src.parent.name / src.name)
    (folder / "memotrace_group" / "产品交流群.txt").write_text("TXT export, not read")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in folder.rglob("*"):
            z.write(f, f.relative_to(tmp_path).as_posix())
    for path in (folder, archive):
        records, _ = _parse("wechat-memotrace", path)
        assert [r.platform_id for r in records if isinstance(r, Community)] == [
            "wechat:产品交流群",
            "wechat:张三",
        ]


def test_memotrace_real_talker_id_is_the_community(tmp_path: Path) -> None:
    path = tmp_path / "群_utf8.csv"
    _write_rows(path, [[1, "4556@chatroom", 1, 0, 0, 1709640000, 2, "hi", "x", "A", "A", "wxid_a"]])
    records, _ = _parse("wechat-memotrace", path)
    assert records[0].platform_id == "4556@chatroom" and records[0].chat_type == "group"


def test_memotrace_self_wxid_found_ahead_names_system_lines(tmp_path: Path) -> None:
    path = tmp_path / "群_utf8.csv"
    _write_rows(
        path,
        [
            [1, 9, 10000, 0, 0, 1709640000, 2, '你邀请"小红"加入了群聊', "x", "", "", ""],
            [2, 9, 1, 0, 1, 1709640060, 2, "欢迎", "x", "我自己", "我自己", "wxid_me"],
            [3, 9, 1, 0, 0, 1709640120, 2, "谢谢", "x", "小红", "小红", "wxid_red"],
        ],
    )
    records, _ = _parse("wechat-memotrace", path)
    join = next(r for r in records if isinstance(r, MembershipEvent))
    assert join.actor is not None and join.actor.platform_id == "wxid_me"
    assert join.member.platform_id == "wxid_red" and join.source == "invite"
    assert records[0].chat_type == "group"  # a system row without a sender


# --- PyWxDump ----------------------------------------------------------------------------


def test_golden_pywxdump_folder_with_users() -> None:
    records = parse_to_dicts("wechat-pywxdump", PYWXDUMP, tz=SHANGHAI)
    assert_golden(records, DIR / "pywxdump.golden.jsonl")
    assert _of(records, "Community") == [
        {
            "type": "Community",
            "platform": "wechat",
            "platform_id": "27893471220@chatroom",
            "name": "产品交流群",
            "chat_type": "group",
            "topic": None,
            "timezone": None,
        }
    ]
    messages = _of(records, "Message")
    ids = [m["message_id"] for m in messages]
    # both chunk files, in order; row 8 (拍一拍) yields nothing
    assert ids[:3] == ["7203956478120394502", "7203956478120394503", "7203956478120394504"]
    assert ids[-1] == "7203956478120394515"
    by_id = {m["message_id"]: m for m in messages}
    assert by_id["7203956478120394502"]["sent_at"] == "2024-03-05T12:01:02+00:00"
    assert by_id["7203956478120394502"]["sender"]["name"] == "李华"  # users.json nickname
    assert by_id["7203956478120394503"]["sender"]["platform_id"] == "self"
    assert by_id["7203956478120394504"] == {
        **by_id["7203956478120394504"],
        "kind": "media",
        "text": "",
    }
    reply = by_id["7203956478120394505"]
    assert (reply["text"], reply["reply_to"]) == ("好的，收到👌", "7203956478120394502")
    link = by_id["7203956478120394506"]
    assert link["text"] == "社群运营手册\n从 0 到 1 搭建社群"
    assert link["links"] == ["https://mp.weixin.qq.com/s/AbC123"] and link["kind"] == "link"
    assert by_id["7203956478120394507"]["deleted"] is True
    assert by_id["7203956478120394507"]["sender"]["platform_id"] == "wxid_lihua8899"
    assert by_id["7203956478120394509"]["kind"] == "transfer"
    assert by_id["7203956478120394510"]["forwarded"] is True
    assert "7203956478120394508" not in by_id
    no_server_id = next(m for m in messages if m["text"] == "Is the meetup still on Friday?")
    epoch = int(datetime(2024, 3, 5, 21, 1, tzinfo=SHANGHAI).timestamp())
    assert no_server_id["message_id"] == _det_id(epoch, "wxid_emma_c", no_server_id["text"])
    events = [
        (e["member"]["platform_id"], e["actor"]["platform_id"], e["source"], e["message_id"])
        for e in _of(records, "MembershipEvent")
    ]
    assert events == [
        ("wxid_lihua8899", "wxid_wangxm01", "invite", "7203956478120394501"),
        ("wxid_sunqi777", "wxid_wangxm01", "qr", "7203956478120394512"),
    ]


def test_pywxdump_single_csv_reads_users_json_beside_it() -> None:
    records, _ = _parse("wechat-pywxdump", PYWXDUMP / "27893471220@chatroom_0_9.csv", tz=SHANGHAI)
    assert records[0].name == "产品交流群"
    assert next(r for r in records if isinstance(r, Message)).sender.name == "李华"


def test_pywxdump_older_content_json_column(tmp_path: Path) -> None:
    path = tmp_path / "wxid_friend_0_3.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        old = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "content"]
        out.writerow([*old, "CreateTime"])
        body = json.dumps({"src": "", "msg": "周末一起爬山？"}, ensure_ascii=False)
        out.writerow(
            [1, "881", "文本", 0, "wxid_friend", "wxid_friend", body, "2023-12-03 10:00:00"]
        )
        out.writerow(
            [2, "882", "文本", 1, "我", "wxid_friend", '{"msg": "好啊"}', "2023-12-03 10:01:00"]
        )
    records, _ = _parse("wechat-pywxdump", path, tz=SHANGHAI)
    assert records[0].chat_type == "private"
    assert [(m.text, m.sender.platform_id) for m in records[1:]] == [
        ("周末一起爬山？", "wxid_friend"),
        ("好啊", "self"),
    ]


# --- system lines ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"王小明"邀请"李华"加入了群聊', SystemEvent("join", ("李华",), "王小明", "invite")),
        ('"A"邀请"B"、"C"、"D"加入了群聊', SystemEvent("join", ("B", "C", "D"), "A", "invite")),
        ('你邀请"B"加入了群聊', SystemEvent("join", ("B",), SELF, "invite")),
        ('"A"邀请你加入了群聊，群聊参与人还有：B、C', SystemEvent("join", (SELF,), "A", "invite")),
        ('"A"邀请你和"B"加入了群聊', SystemEvent("join", (SELF, "B"), "A", "invite")),
        ('"B"通过扫描"A"分享的二维码加入群聊', SystemEvent("join", ("B",), "A", "qr")),
        ('"B"通过扫描你分享的二维码加入群聊', SystemEvent("join", ("B",), SELF, "qr")),
        ('"B"通过"A"的邀请二维码加入群聊', SystemEvent("join", ("B",), "A", "qr")),
        ('"B"加入了群聊', SystemEvent("join", ("B",))),
        ('你将"B"移出了群聊', SystemEvent("remove", ("B",), SELF)),
        ('"A"将"B"、"C"移出了群聊', SystemEvent("remove", ("B", "C"), "A")),
        ('你被"A"移出群聊', SystemEvent("remove", (SELF,), "A")),
        ('"A" invited "B" to the group chat', SystemEvent("join", ("B",), "A", "invite")),
        ('You invited "B", "C" to the group chat', SystemEvent("join", ("B", "C"), SELF, "invite")),
        (
            '"A" invited you and "B" to the group chat',
            SystemEvent("join", (SELF, "B"), "A", "invite"),
        ),
        (
            '"B" joined the group chat via the QR code shared by "A"',
            SystemEvent("join", ("B",), "A", "qr"),
        ),
        ('"B" joined the group chat', SystemEvent("join", ("B",))),
        ('You removed "B" from the group chat', SystemEvent("remove", ("B",), SELF)),
        ('"A" removed "B" from the group chat', SystemEvent("remove", ("B",), "A")),
        ('"王 小明" 撤回了一条消息', SystemEvent("revoke", (), "王 小明")),
        ("你撤回了一条消息", SystemEvent("revoke", (), SELF)),
        (
            '<![CDATA[你撤回了一条消息 <a href="weixin://revoke_edit_click">重新编辑</a>]]>',
            SystemEvent("revoke", (), SELF),
        ),
        ('"A" recalled a message', SystemEvent("revoke", (), "A")),
        ("You recalled a message", SystemEvent("revoke", (), SELF)),
        ('"A" 拍了拍 "B"', SystemEvent("pat", (), "A")),
        ('我拍了拍"B"的肩膀', SystemEvent("pat", (), SELF)),
        ('"A" patted "B"', SystemEvent("pat", (), "A")),
        ("“A”邀请“B”加入了群聊", SystemEvent("join", ("B",), "A", "invite")),  # curly quotes
        ('"A"修改群名为“新群名”', None),
        ("你已添加了张三，现在可以开始聊天了。", None),
        ("", None),
    ],
)
def test_system_lines(line: str, expected: SystemEvent | None) -> None:
    assert parse_system_text(line) == expected


def test_sysmsg_template_and_revoke_xml() -> None:
    template_xml = GROUP.read_text(encoding="utf-8-sig").split('"<sysmsg type=""sysmsgtemplate')[1]
    template_xml = (
        '<sysmsg type="sysmsgtemplate'
        + template_xml.split("</sysmsg>")[0].replace('""', '"')
        + "</sysmsg>"
    )
    text, links = read_sysmsg(template_xml)  # type: ignore[misc]
    assert text == '"$username$"邀请"$names$"加入了群聊'
    assert links == {
        "$username$": [("wxid_wangxm01", "王小明")],
        "$names$": [("wxid_sunqi777", "孙七")],
    }
    assert render_template(text, {**links, "$names$": [("a", "甲"), ("b", "乙")]}) == (
        '"王小明"邀请"甲"、"乙"加入了群聊'
    )
    revoke = (
        '<sysmsg type="revokemsg"><revokemsg><replacemsg><![CDATA["A" 撤回了一条消息]]>'
        "</replacemsg></revokemsg></sysmsg>"
    )
    assert read_sysmsg(revoke) == ('"A" 撤回了一条消息', {})
    assert read_sysmsg("<not xml") is None
    assert read_sysmsg('<!DOCTYPE x [<!ENTITY a "b">]><sysmsg>&a;</sysmsg>') is None


# --- sniffing ----------------------------------------------------------------------------


def test_sniff(tmp_path: Path) -> None:
    assert detect(Source(GROUP)).parser.name == "wechat-memotrace"
    assert detect(Source(PYWXDUMP)).parser.name == "wechat-pywxdump"
    memo, pyw = get_parser("wechat-memotrace"), get_parser("wechat-pywxdump")
    assert pyw.sniff(Source(GROUP)) == 0 and memo.sniff(Source(PYWXDUMP)) == 0
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    assert memo.sniff(Source(other)) == 0 and pyw.sniff(Source(other)) == 0
    renamed = tmp_path / "group.txt"
    shutil.copy(GROUP, renamed)
    assert memo.sniff(Source(renamed)) == 0


# --- errors ------------------------------------------------------------------------------


def _write_rows(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)
    return path


def _good(i: int) -> list[object]:
    return [i, 9, 1, 0, 0, 1709640000 + i, 2, f"消息 {i}\n第二行", "x", "A", "A", "wxid_a"]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ([2, 9, 1, 0, 0, "2024-03-05 20:00:00", 2, "x", "x", "A", "A", "wxid_a"], "CreateTime"),
        ([2, 9, "text", 0, 0, 1709640002, 2, "x", "x", "A", "A", "wxid_a"], "Type"),
        ([2, 9, 1, 0, "yes", 1709640002, 2, "x", "x", "A", "A", "wxid_a"], "IsSender"),
        ([2, 9, 1, 0, 0, 10**20, 2, "x", "x", "A", "A", "wxid_a"], "CreateTime"),
        ([2, 9, 1, 0, 0, 1709640002, 2, "x", "x", "A"], None),
    ],
)
def test_memotrace_bad_row_names_file_line_and_field(
    tmp_path: Path, bad: list[object], field: str | None
) -> None:
    path = _write_rows(tmp_path / "g_utf8.csv", [_good(1), bad, _good(3)])
    with pytest.raises(InputError) as info:
        _parse("wechat-memotrace", path)
    err = info.value
    assert (err.file, err.line, err.field) == (str(path), 4, field)  # row 1 spans lines 2-3

    records, ctx = _parse("wechat-memotrace", path, skip_bad=True)
    assert [r.text for r in records if isinstance(r, Message)] == [
        "消息 1\n第二行",
        "消息 3\n第二行",
    ]
    assert [(e.line, e.field) for e in ctx.skipped] == [(4, field)]


def test_memotrace_wrong_header_and_bad_bytes(tmp_path: Path) -> None:
    path = _write_rows(tmp_path / "g_utf8.csv", [_good(1)], header=["a", "b"])
    with pytest.raises(InputError) as info:
        _parse("wechat-memotrace", path)
    assert (info.value.file, info.value.line) == (str(path), 1)

    path = _write_rows(tmp_path / "h_utf8.csv", [_good(1)])
    path.write_bytes(path.read_bytes() + b"2,9,1,0,0,1709640002,2,\xff\xfe,x,A,A,wxid_a\r\n")
    with pytest.raises(InputError) as info:
        _parse("wechat-memotrace", path)
    assert info.value.line == 4 and "UTF-8" in info.value.message
    records, ctx = _parse("wechat-memotrace", path, skip_bad=True)
    assert len([r for r in records if isinstance(r, Message)]) == 1 and len(ctx.skipped) == 1


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"CreateTime": "05/03/2024 20:00"}, "CreateTime"),
        ({"CreateTime": "0001-01-01 00:00:00"}, "CreateTime"),  # before year 1 in UTC
        ({"is_sender": "x"}, "is_sender"),
        ({"room_name": " "}, "room_name"),
    ],
)
def test_pywxdump_bad_row(tmp_path: Path, cells: dict[str, str], field: str) -> None:
    header = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src"]
    header += ["CreateTime"]
    good = dict(
        zip(
            header,
            ["1", "11", "文本", "0", "wxid_a", "9@chatroom", "hi", "", "2024-03-05 20:00:00"],
            strict=True,
        )
    )
    path = _write_rows(
        tmp_path / "9@chatroom_0_3.csv",
        [
            list(good.values()),
            list({**good, "MsgSvrID": "12", **cells}.values()),
            list({**good, "MsgSvrID": "13"}.values()),
        ],
        header=header,
    )
    with pytest.raises(InputError) as info:
        _parse("wechat-pywxdump", path, tz=SHANGHAI)
    assert (info.value.file, info.value.line, info.value.field) == (str(path), 3, field)
    records, ctx = _parse("wechat-pywxdump", path, skip_bad=True, tz=SHANGHAI)
    assert [r.message_id for r in records if isinstance(r, Message)] == ["11", "13"]
    assert [e.field for e in ctx.skipped] == [field]


def test_pywxdump_broken_users_json(tmp_path: Path) -> None:
    shutil.copytree(PYWXDUMP, tmp_path / "export")
    (tmp_path / "export" / "users.json").write_text("{broken")
    with pytest.raises(InputError) as info:
        _parse("wechat-pywxdump", tmp_path / "export")
    assert info.value.file is not None and info.value.file.endswith("users.json")


# --- hypothesis: never anything but InputError ------------------------------------------

_FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _only_input_errors(fmt: str, path: Path) -> None:
    for skip_bad in (False, True):
        try:
            records, _ = _parse(fmt, path, skip_bad=skip_bad, tz=SHANGHAI)
        except InputError:
            continue
        for r in records:
            if isinstance(r, Message):
                assert r.sent_at.tzinfo is not None and r.community_id


_cell = st.text(max_size=20) | st.sampled_from(
    [
        "1",
        "0",
        "49",
        "57",
        "10000",
        "10002",
        "1709640000",
        "-1",
        "文本",
        "引用回复",
        "系统通知",
        "2024-03-05 20:00:00",
        '"A"邀请"B"加入了群聊',
        '<sysmsg type="revokemsg"><x/></sysmsg>',
        "<msg><appmsg><title>t</title><refermsg><content>c</content></refermsg></appmsg></msg>",
        "好\n\n[引用](x)A:B:C",
        "wxid_a",
        "9@chatroom",
        "消息撤回1",
        "拍一拍",
    ]
)


@_FUZZ
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(lambda t: t.encode()))
def test_arbitrary_bytes_give_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    _only_input_errors("wechat-memotrace", path)
    _only_input_errors("wechat-pywxdump", path)


@_FUZZ
@given(rows=st.lists(st.lists(_cell, min_size=7, max_size=13), max_size=6))
def test_arbitrary_memotrace_rows_give_only_input_errors(tmp_path: Path, rows: list) -> None:
    _only_input_errors("wechat-memotrace", _write_rows(tmp_path / "f_utf8.csv", rows))


@_FUZZ
@given(rows=st.lists(st.lists(_cell, min_size=8, max_size=10), max_size=6))
def test_arbitrary_pywxdump_rows_give_only_input_errors(tmp_path: Path, rows: list) -> None:
    header = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src"]
    path = _write_rows(tmp_path / "f_0_5.csv", rows, header=[*header, "CreateTime"])
    _only_input_errors("wechat-pywxdump", path)


# --- the demo exporter (MemoTrace group CSV) ---------------------------------------------

_USERS = [
    DemoUser("wxid_k3l9m2n8p1q4", "小明"),
    DemoUser("wxid_emily_2019", "Emily 🌸"),
    DemoUser("wxid_0a1b2c3d4e5f", "老 王.Jr"),  # MemoTrace's Remark clean-up changes this one
    DemoUser("wxid_newcomer_77", "新人小李"),
]
_when = st.integers(1_500_000_000, 2_000_000_000)
_xml_safe = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\r\t"), max_size=40
)


@st.composite
def _chats(draw: st.DrawFn) -> DemoChat:
    times = sorted(draw(st.lists(_when, min_size=1, max_size=8)))
    items: list[DemoMessage | DemoEvent] = []
    for i, epoch in enumerate(times):
        at = datetime.fromtimestamp(epoch, tz=UTC)
        if draw(st.integers(0, 3)) == 0:
            actor = draw(st.none() | st.sampled_from(_USERS[:3]))
            items.append(
                DemoEvent(
                    f"e{i}",
                    at,
                    draw(st.sampled_from(["join", "leave", "remove"])),
                    draw(st.sampled_from(_USERS)),
                    actor,
                    draw(st.sampled_from(["invite", "link", "qr", "unknown"])),
                )
            )
            continue
        texts = [m for m in items if isinstance(m, DemoMessage) and m.kind == "text"]
        reply_to = draw(st.none() | st.sampled_from([m.id for m in texts])) if texts else None
        kind = (
            "text"
            if reply_to
            else draw(st.sampled_from(["text", "media", "sticker", "file", "red_packet", "link"]))
        )
        plain = kind in ("text", "red_packet", "media", "sticker") and not reply_to
        items.append(
            DemoMessage(
                f"m{i}",
                at,
                draw(st.sampled_from(_USERS[:3])),
                draw(st.text(max_size=40) if plain else _xml_safe),
                kind=kind,
                reply_to=reply_to,
            )
        )
    zone = draw(st.sampled_from(["Asia/Shanghai", "America/Los_Angeles", "Asia/Kathmandu"]))
    return DemoChat("20394857721@chatroom", "产品交流群 · 北京", zone, list(_USERS), items)


def _expected_reply(chat: DemoChat, m: DemoMessage) -> str | None:
    """The reader links a quote to the latest earlier text with the quoted sender and text.

    The quoted text travels in XML, which cannot hold C0 controls other than TAB, LF and CR:
    without them it may match no message (None) or another one.
    """
    quoted = next(q for q in chat.items if q.id == m.reply_to)
    assert isinstance(quoted, DemoMessage)
    in_xml = "".join(c for c in quoted.text if c >= " " or c in "\t\n\r")
    earlier = chat.items[: chat.items.index(m)]
    same = [
        q
        for q in earlier
        if isinstance(q, DemoMessage)
        and q.kind == "text"
        and (q.sender.id, q.text) == (quoted.sender.id, in_xml)
    ]
    return same[-1].id if same else None


@_FUZZ
@given(chat=_chats())
def test_exporter_round_trip(tmp_path: Path, chat: DemoChat) -> None:
    path = exporter.write(chat, tmp_path / "out")
    assert path.name == "产品交流群 · 北京_utf8.csv"
    records, ctx = _parse("wechat-memotrace", path)
    assert not ctx.skipped
    assert records[0].platform_id == "wechat:产品交流群 · 北京"
    messages = [r for r in records if isinstance(r, Message)]
    sent = [m for m in chat.items if isinstance(m, DemoMessage)]
    lost = {"media", "sticker"}  # WeChat images and stickers carry no caption
    assert [(m.text, m.sent_at, m.sender.platform_id, m.sender.name) for m in messages] == [
        ("" if m.kind in lost else m.text, m.sent_at, m.sender.id, m.sender.name) for m in sent
    ]
    assert [m.kind for m in messages] == [m.kind for m in sent]
    ids = {d.id: r.message_id for d, r in zip(sent, messages, strict=True)}
    replies = [_expected_reply(chat, m) if m.reply_to else None for m in sent]
    assert [r.reply_to for r in messages] == [ids[q] if q else None for q in replies]
    events = [r for r in records if isinstance(r, MembershipEvent)]
    written = [e for e in chat.items if isinstance(e, DemoEvent) and e.action != "leave"]
    assert [(e.action, e.at, e.member.name) for e in events] == [
        (e.action, e.at, e.member.name) for e in written
    ]
    for got, want in zip(events, written, strict=True):
        if want.action == "remove":
            assert got.actor is not None
            assert got.actor.name == (want.actor.name if want.actor else "我")
            continue
        assert (got.actor.name if got.actor else None) == (want.actor.name if want.actor else None)
        source = (
            "qr" if want.source == "qr" and want.actor else "invite" if want.actor else "unknown"
        )
        assert got.source == source


def test_exporter_writes_memotrace_rows(tmp_path: Path) -> None:
    at = datetime(2024, 3, 5, 12, 0, 5, tzinfo=UTC)
    chat = DemoChat(
        "20394857721@chatroom",
        "读书会",
        "Asia/Shanghai",
        list(_USERS),
        [
            DemoMessage("m1", at, _USERS[0], "第一条\n两行"),
            DemoEvent("e1", at, "join", _USERS[3], _USERS[0], "qr"),
            DemoEvent("e2", at, "leave", _USERS[1]),
            DemoMessage("m2", at, _USERS[2], "恭喜发财", kind="red_packet"),
            DemoMessage("m3", at, _USERS[1], "同意 <3 & more", reply_to="m1"),
        ],
    )
    path = exporter.write(chat, tmp_path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    assert [r[2:6] for r in rows[1:]] == [
        ["1", "0", "0", "1709640005"],
        ["10000", "0", "0", "1709640005"],
        ["49", "2001", "0", "1709640005"],
        ["49", "57", "0", "1709640005"],
    ]
    assert rows[1][7:] == [
        "第一条\n两行",
        "2024-03-05 20:00:05",
        "小明",
        "小明",
        "wxid_k3l9m2n8p1q4",
    ]
    assert rows[2][7] == '"新人小李"通过扫描"小明"分享的二维码加入群聊' and rows[2][9:] == [
        "",
        "",
        "",
    ]
    assert rows[3][7] == "[红包]恭喜发财" and rows[3][9] == "老_王_Jr"
    assert "<title>同意 &lt;3 &amp; more</title>" in rows[4][7]
    assert "<chatusr>wxid_k3l9m2n8p1q4</chatusr>" in rows[4][7]
    assert len({r[1] for r in rows[1:]}) == 1 and rows[1][1].isdigit()  # TalkerId: a row number


def test_memotrace_later_private_rows_name_both_sides(tmp_path: Path) -> None:
    """Later MemoTrace versions write the user's or the contact's own columns on 1:1 rows."""
    path = _write_rows(
        tmp_path / "张三_utf8.csv",
        [
            [1, 5, 1, 0, 0, 1709640000, 2, "在吗", "x", "张三", "张三", "wxid_zhangsan"],
            [2, 5, 1, 0, 1, 1709640060, 2, "在", "x", "阿杰", "阿杰", "wxid_ajie2024"],
            [
                3,
                5,
                10000,
                0,
                0,
                1709640120,
                2,
                "你已添加了张三",
                "x",
                "张三",
                "张三",
                "wxid_zhangsan",
            ],
        ],
    )
    records, _ = _parse("wechat-memotrace", path)
    assert records[0].chat_type == "private"
    assert [(m.sender.platform_id if m.sender else None) for m in records[1:]] == [
        "wxid_zhangsan",
        "wxid_ajie2024",
        None,
    ]


def test_progress_counts_each_file_once() -> None:
    seen: list[int] = []
    _parse("wechat-memotrace", GROUP, on_progress=seen.append)
    assert sum(seen) == GROUP.stat().st_size
    seen.clear()
    _parse("wechat-pywxdump", PYWXDUMP, on_progress=seen.append, tz=SHANGHAI)
    assert sum(seen) == sum(p.stat().st_size for p in PYWXDUMP.glob("*.csv"))
