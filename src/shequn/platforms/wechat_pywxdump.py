"""WeChat CSV written by PyWxDump (xaoyaoo) `export_csv`: `{wxid}_{i}_{i+5000}.csv` + users.json.

Columns `id,MsgSvrID,type_name,is_sender,talker,room_name,msg,src,CreateTime` (FORMATS.md §5;
older versions write one JSON `content` column `{"src", "msg"}` instead of `msg,src`, which is
read the same way). The chat is `room_name` (xxx@chatroom for groups, the contact's wxid for 1:1);
in groups `talker` is the sender's wxid, "我" for the exporting user (newer versions may write
the user's wxid), "未知"/"系统" when WeChat stored none. `users.json` beside the CSVs maps wxids
to `{nickname, remark, ...}`: the nickname (else the remark) names senders.

- Times: `CreateTime` is a naive local time (the exporting PC's zone) -> `ctx.localize`.
- Message ids are `MsgSvrID`, WeChat's server id, the same in every export; rows without one
  (0 or empty) get the deterministic id of the common rule.
- `msg` is PyWxDump's rendering: kept as the text for text, files, links (the title and
  description; the url goes to `links`), locations and transfers; placeholders the tool writes
  for images, voice, video and stickers ("图片", "语音时长：…") become an empty text.
- A quote (引用回复) is `{reply}\\n\\n[引用]({time}){displayname}:{content}`: the reply is the
  text, and `reply_to` is the most recent earlier message in the chat from `displayname` with
  that text (PyWxDump drops the quoted message's server id).
- System lines (系统通知, 邀请加群, 消息撤回…) go through wechat_system; 拍一拍 yields nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, ClassVar

from shequn.errors import InputError
from shequn.model.records import AccountRef, Community, Message, MessageKind, Record
from shequn.platforms.base import ParseContext, Parser, Source, register
from shequn.platforms.util import find_links
from shequn.platforms.wechat_common import (
    MessageIds,
    NameBook,
    RecentMessages,
    csv_members,
    file_stem,
    mention_names,
    open_csv,
    read_csv,
    sniff_csv,
)
from shequn.platforms.wechat_system import SystemLine, system_records

log = logging.getLogger(__name__)

COLUMNS = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src"]
COLUMNS += ["CreateTime"]
OLD_COLUMNS = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "content"]
OLD_COLUMNS += ["CreateTime"]
_KINDS: dict[str, MessageKind] = {
    "文本": "text",
    "引用回复": "text",
    "图片": "media",
    "视频": "media",
    "语音": "voice",
    "动画表情": "sticker",
    "用户上传的GIF表情": "sticker",
    "位置": "location",
    "文件": "file",
    "文件(猜)": "file",
    "转账": "transfer",
    "红包": "red_packet",
    "微信红包": "red_packet",
    "语音通话": "call",
    "推荐公众号": "contact",
}
_PLACEHOLDER_KINDS = {"media", "voice", "sticker"}  # msg is the tool's word, not the sender's
_SYSTEM = ("系统通知", "邀请加群", "消息撤回")
_NO_SENDER = ("", "未知", "系统")
_SELF = "我"
_QUOTE = "\n\n[引用]("
_ANCHOR = re.compile(r'\n*<a href="([^"]*)">点击查看详情</a>\s*$')


@register
class PyWxDumpParser(Parser):
    """Reads PyWxDump CSV exports: one CSV, or a folder or zip of them with users.json."""

    name: ClassVar[str] = "wechat-pywxdump"
    title: ClassVar[str] = "WeChat CSV from PyWxDump"
    platform: ClassVar[str] = "wechat"
    naive_times: ClassVar[bool] = True

    @classmethod
    def sniff(cls, source: Source) -> int:
        return sniff_csv(source, COLUMNS[:4], 95)

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        if source.is_file:
            members: list[str | None] = [None]
            users = _load_users(source, None)
        else:
            found = sorted(csv_members(source, COLUMNS[:4], "PyWxDump"), key=_chunk_order)
            members = list(found)
            users = _load_users(source, source.find("users.json"))
        reader = _Reader(ctx, users)
        for member in members:
            yield from reader.file(source, member)


def _chunk_order(name: str) -> tuple[str, int]:
    """`wxid_x_5000_10000.csv` sorts as (wxid_x, 5000): the chunks of a chat in order."""
    head, _, rest = file_stem(name).rpartition("_")
    chat, _, start = head.rpartition("_")
    return (chat, int(start)) if start.isdigit() and rest.isdigit() else (name, 0)


def _load_users(source: Source, member: str | None) -> dict[str, tuple[str, str]]:
    """users.json as wxid -> (nickname, remark); beside a single CSV, read from its folder."""
    if member is not None:
        display = source.display(member)
        opened: IO[bytes] | None = source.open(member)
    else:
        path = source.path.parent / "users.json"
        display, opened = str(path), (path.open("rb") if path.is_file() else None)
    if opened is None:
        return {}
    with opened as f:
        try:
            data = json.load(f)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"not valid JSON: {exc}", file=display) from None
    if not isinstance(data, dict):
        raise InputError("expected an object of wxid -> user", file=display)
    users: dict[str, tuple[str, str]] = {}
    for wxid, user in data.items():
        if not isinstance(user, dict):
            raise InputError("expected a user object", file=display, record=str(wxid))
        nick, remark = user.get("nickname"), user.get("remark")
        users[str(wxid)] = (
            nick if isinstance(nick, str) else "",
            remark if isinstance(remark, str) else "",
        )
    return users


@dataclass
class _Row:
    server_id: str | None
    type_name: str
    outgoing: bool
    talker: str
    room: str
    msg: str
    at: datetime


@dataclass
class _Reader:
    ctx: ParseContext
    users: dict[str, tuple[str, str]]
    ids: MessageIds = field(default_factory=MessageIds)
    books: dict[str, NameBook] = field(default_factory=dict)  # per chat: names are local
    recent: RecentMessages = field(default_factory=RecentMessages)
    seen: set[str] = field(default_factory=set)

    def file(self, source: Source, member: str | None) -> Iterator[Record]:
        display = source.display(member)
        with open_csv(source, self.ctx, member) as stream:
            header, rows = read_csv(stream, display, self.ctx)
            if header not in (COLUMNS, OLD_COLUMNS):
                expected = ",".join(COLUMNS)
                raise InputError(f"not a PyWxDump CSV header: expected {expected}", file=display)
            for line, raw in rows:
                try:
                    yield from self._records(self._row(header, raw))
                except InputError as err:
                    self.ctx.skip_or_raise(err.located(file=display, line=line))
                except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
                    log.debug("unexpected row in %s line %d", display, line, exc_info=True)
                    bad = InputError(f"malformed row: {exc}", file=display, line=line)
                    self.ctx.skip_or_raise(bad)

    def _row(self, header: list[str], raw: list[str]) -> _Row:
        if len(raw) != len(header):
            raise InputError(f"expected {len(header)} fields, found {len(raw)}")
        row = dict(zip(header, raw, strict=True))
        if row["is_sender"].strip() not in ("0", "1"):
            raise InputError(f"expected 0 or 1, found {row['is_sender']!r}", field="is_sender")
        if not row["room_name"].strip():
            raise InputError("no chat id", field="room_name")
        try:
            naive = datetime.strptime(row["CreateTime"].strip(), "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007
            at = self.ctx.localize(naive)
        except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC
            raise InputError(
                f"expected YYYY-MM-DD HH:MM:SS, found {row['CreateTime']!r}", field="CreateTime"
            ) from None
        server_id = row["MsgSvrID"].strip()
        return _Row(
            server_id=server_id if server_id.isdigit() and server_id != "0" else None,
            type_name=row["type_name"].strip(),
            outgoing=row["is_sender"].strip() == "1",
            talker=row["talker"].strip(),
            room=row["room_name"].strip(),
            msg=row["msg"] if "msg" in row else _old_content(row["content"]),
            at=at,
        )

    def _community(self, room: str) -> Community:
        nick, remark = self.users.get(room, ("", ""))
        chat_type = "group" if room.endswith("@chatroom") else "private"
        return Community("wechat", room, name=remark or nick or room, chat_type=chat_type)

    def _book(self, room: str) -> NameBook:
        """users.json lists the chat's senders: their names resolve system lines from the start."""
        book = self.books[room] = NameBook()
        for wxid, (nick, remark) in self.users.items():
            if wxid != room:
                book.saw(AccountRef(wxid, name=nick or remark or None), nick, remark)
        return book

    def _sender(self, r: _Row) -> AccountRef | None:
        nick, remark = self.users.get(r.talker, ("", ""))
        if r.outgoing:
            wxid = r.talker if r.talker and r.talker != _SELF else "self"
            return AccountRef(wxid, name=nick or remark or _SELF)
        if r.talker in _NO_SENDER:
            return None
        return AccountRef(r.talker, name=nick or remark or None)

    def _records(self, r: _Row) -> Iterator[Record]:
        if r.room not in self.seen:
            self.seen.add(r.room)
            yield self._community(r.room)
        names = self.books.get(r.room) or self._book(r.room)
        sender = self._sender(r)
        key = sender.platform_id if sender is not None else ""
        mid = r.server_id or self.ids.make(r.at, key, r.msg)
        if r.type_name.startswith(_SYSTEM):
            self_ref = AccountRef("self", name=_SELF)
            yield from system_records(r.msg, SystemLine(r.room, r.at, mid, self_ref, names))
            return
        if r.type_name == "拍一拍":
            return
        if sender is not None:
            names.saw(sender, *self.users.get(r.talker, ("", "")))
        yield self._message(r, sender, mid, names)

    def _message(self, r: _Row, sender: AccountRef | None, mid: str, names: NameBook) -> Message:
        kind = _KINDS.get(r.type_name) or ("link" if r.type_name.startswith("(分享)") else "other")
        text, links, reply_to = r.msg, find_links(r.msg), None
        if kind in _PLACEHOLDER_KINDS or r.msg == r.type_name:
            text, links = "", []
        elif r.type_name == "引用回复":
            text, reply_to = self._quote(r)
            links = find_links(text)
        elif kind == "link" and (anchor := _ANCHOR.search(r.msg)):
            text, links = r.msg[: anchor.start()], [anchor.group(1)]
        msg = Message(
            r.room,
            mid,
            r.at,
            sender,
            text,
            kind=kind,
            reply_to=reply_to,
            forwarded=r.type_name == "合并转发的聊天记录",
            links=links,
            mentions=[names.ref(n).platform_id for n in mention_names(text)],
        )
        if kind == "text" and sender is not None:
            nick, remark = self.users.get(r.talker, ("", ""))
            keys = tuple(f"name:{n}" for n in (nick, remark, sender.name) if n)
            self.recent.remember(r.room, keys, text, mid)
        return msg

    def _quote(self, r: _Row) -> tuple[str, str | None]:
        cut = r.msg.rfind(_QUOTE)
        if cut < 0:
            return r.msg, None
        quote = r.msg[cut + len(_QUOTE) :]
        quote = quote[quote.find(")") + 1 :]  # after the quoted message's time
        # `{displayname}:{content}`: a name may itself hold ':', so try each split
        for at in [i for i, ch in enumerate(quote) if ch == ":"][:8]:
            found = self.recent.find(r.room, f"name:{quote[:at]}", quote[at + 1 :])
            if found is not None:
                return r.msg[:cut], found
        return r.msg[:cut], None


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _old_content(raw: str) -> str:
    try:
        content: Any = json.loads(raw)
    except ValueError:
        raise InputError("expected JSON {src, msg}", field="content") from None
    msg = content.get("msg") if isinstance(content, dict) else None
    return msg if isinstance(msg, str) else ""
