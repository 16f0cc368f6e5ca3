"""Writes a DemoChat as a MemoTrace / 留痕 group CSV, `{chat name}_utf8.csv`.

As MemoTrace writes it (LC044/WeChatMsg, exporter_csv.py): Python's csv writer, utf-8-sig,
CRLF rows, 12 columns `localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,
StrTime,Remark,NickName,Sender`; CreateTime in epoch seconds, StrTime the same instant in the
chat's zone (the exporting PC's local time); TalkerId a small number (the PC's Name2ID row, not
the chat id, which a MemoTrace CSV does not contain: the reader keys the group by its name);
Remark is the name with \\/:*?"<>| spaces and dots made `_`, as MemoTrace does; every row is
IsSender=0 (the exporting account only watches).

What the format cannot carry: reactions, edits and mentions' ids; captions of media; voluntary
leaves (WeChat does not announce them, so they are not written). Joins are Type 10000 lines
(`"A"邀请"B"加入了群聊`, `"B"通过扫描"A"分享的二维码加入群聊`, `"B"加入了群聊`), removals
`"A"将"B"移出了群聊` (`你将…` when the demo names no remover). Replies are Type 49/57 and links
and files 49/5 and 49/6 with the `<appmsg>` XML in StrContent, which the reader resolves; real
WeChat 3.9 keeps that XML in CompressContent, so real MemoTrace files have it empty. Red packets
are 49/2001 `[红包]<wish>`.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.platforms.util import find_links
from shequn.platforms.wechat_memotrace import HEADER

COLUMNS = HEADER  # the header MemoTrace writes, as the reader expects it
_REMARK = re.compile(r'[\\/:*?"<>|\s.]')  # MemoTrace's own clean-up of remarks
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def write(chat: DemoChat, out_dir: Path) -> Path:
    """Write `chat` as `out_dir/{name}_utf8.csv` and return the path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{chat.name.replace('/', '_').replace(chr(92), '_')}_utf8.csv"
    zone = ZoneInfo(chat.timezone)
    talker_id = 10 + int(hashlib.blake2b(chat.platform_id.encode(), digest_size=2).hexdigest(), 16)
    by_id = {item.id: item for item in chat.items if isinstance(item, DemoMessage)}
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        local_id = 0
        for item in chat.items:
            row = _row(item, chat, by_id)
            if row is None:
                continue
            local_id += 1
            type_, sub, content, who = row
            at = item.sent_at if isinstance(item, DemoMessage) else item.at
            local = at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
            out.writerow(
                [local_id, talker_id, type_, sub, 0, int(at.timestamp()), 2, content, local, *who]
            )
    return path


def _people(user: DemoUser | None) -> list[str]:
    if user is None:  # system lines: MemoTrace finds no sender
        return ["", "", ""]
    return [_REMARK.sub("_", user.name), user.name, user.id]


def _row(
    item: DemoMessage | DemoEvent, chat: DemoChat, by_id: dict[str, DemoMessage]
) -> tuple[int, int, str, list[str]] | None:
    if isinstance(item, DemoEvent):
        line = _event_line(item)
        return None if line is None else (10000, 0, line, _people(None))
    who = _people(item.sender)
    quoted = by_id.get(item.reply_to) if item.reply_to else None
    if quoted is not None:
        return 49, 57, _quote_xml(item, quoted, chat), who
    if item.kind == "media":
        return 3, 0, _image_xml(item), who
    if item.kind == "sticker":
        return 47, 0, _emoji_xml(item), who
    if item.kind == "file":
        return 49, 6, _app_xml(item, 6), who
    if item.kind == "link":
        return 49, 5, _app_xml(item, 5), who
    if item.kind == "red_packet":
        return 49, 2001, f"[红包]{item.text}", who
    return 1, 0, item.text, who


def _event_line(e: DemoEvent) -> str | None:
    member = f'"{e.member.name}"'
    actor = f'"{e.actor.name}"' if e.actor is not None else None
    if e.action == "join":
        if actor and e.source == "qr":
            return f"{member}通过扫描{actor}分享的二维码加入群聊"
        return f"{actor}邀请{member}加入了群聊" if actor else f"{member}加入了群聊"
    if e.action == "remove":
        return f"{actor or '你'}将{member}移出了群聊"
    return None  # WeChat does not announce voluntary leaves


def _x(text: str) -> str:
    """Text for an XML element: escaped, CR kept (XML parsers would make it LF)."""
    return escape(_NOT_XML.sub("", text), {"\r": "&#13;"})


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=16).hexdigest()


def _svrid(message_id: str) -> str:
    return str(int(_digest("svrid", message_id)[:15], 16))


def _image_xml(m: DemoMessage) -> str:
    md5 = _digest("img", m.id)[:32]
    return (
        '<?xml version="1.0"?>\n<msg>\n\t<img aeskey="'
        + _digest("key", m.id)[:32]
        + f'" encryver="1" length="{100_000 + int(md5[:4], 16) * 10}" md5="{md5}" '
        'hevc_mid_size="0" />\n</msg>\n'
    )


def _emoji_xml(m: DemoMessage) -> str:
    md5 = _digest("emoji", m.id)[:32]
    return (
        f'<msg><emoji fromusername="{m.sender.id}" type="2" md5="{md5}" len="31245" '
        f'cdnurl="http://wxapp.tc.qq.com/262/20304/stodownload?m={md5}" /></msg>'
    )


def _app_xml(m: DemoMessage, app_type: int) -> str:
    links = find_links(m.text)
    url = f"<url>{_x(links[0])}</url>" if app_type == 5 and links else "<url />"
    return (
        f'<msg><appmsg appid="" sdkver="0"><title>{_x(m.text)}</title><des />'
        f"<type>{app_type}</type>{url}</appmsg><fromusername>{m.sender.id}</fromusername></msg>"
    )


def _quote_xml(m: DemoMessage, quoted: DemoMessage, chat: DemoChat) -> str:
    return (
        '<?xml version="1.0"?>\n<msg>\n\t<appmsg appid="" sdkver="0">\n'
        f"\t\t<title>{_x(m.text)}</title>\n\t\t<des />\n\t\t<type>57</type>\n"
        f"\t\t<refermsg>\n\t\t\t<type>1</type>\n\t\t\t<svrid>{_svrid(quoted.id)}</svrid>\n"
        f"\t\t\t<fromusr>{_x(chat.platform_id)}</fromusr>\n"
        f"\t\t\t<chatusr>{_x(quoted.sender.id)}</chatusr>\n"
        f"\t\t\t<displayname>{_x(quoted.sender.name)}</displayname>\n"
        f"\t\t\t<content>{_x(quoted.text)}</content>\n"
        f"\t\t</refermsg>\n\t</appmsg>\n\t<fromusername>{_x(m.sender.id)}</fromusername>\n</msg>\n"
    )
