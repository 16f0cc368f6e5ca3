"""WeChat CSV written by MemoTrace / 留痕 (LC044/WeChatMsg): one `{remark}_utf8.csv` per chat.

The rows are WeChat's PC `MSG` table (FORMATS.md §5), read from the tool's source:
`localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,NickName,
Sender`, utf-8-sig. Group rows fill the last three (the sender's remark, nickname and wxid; the
exporting user's own for IsSender=1; empty for system lines; the wxid three times for people who
left, whom the tool cannot look up). Old versions write only 9 fields on 1:1 rows; later ones
write the user's or the contact's own three.

What the CSV cannot say, and what we do instead:
- `TalkerId` is the row number of the chat in the PC database's Name2ID table, local to the
  exporting PC, not the chat's wxid. The community is keyed `wechat:<name>` by the file's name
  (the user's remark for the chat, with \\/:*?"<>| spaces and dots made `_`), unless TalkerId
  holds a real id (contains '@'). A PyWxDump export of the same group gets its xxx@chatroom id,
  so the two land in two communities.
- `localId` is local to the PC too, so message ids follow the deterministic rule with the
  sender's wxid as sender key and the raw StrContent as text (the same across re-exports from
  another PC; system lines have an empty sender key).
- Times come from `CreateTime` (epoch seconds); `StrTime` is the exporting PC's local time.
- For Type 49 (links, files, quotes, transfers) WeChat 3.9 keeps the XML in `CompressContent`,
  which MemoTrace does not write: such rows usually arrive with an empty `StrContent` and keep
  only their kind. When `StrContent` holds the `<appmsg>` XML, the title is the text, and a
  quote (49/57) is linked to the most recent earlier message in the chat with the quoted
  sender (refermsg/chatusr, else displayname) and text: WeChat's `refermsg/svrid` is a server
  id this CSV does not carry.
- System lines (Type 10000, 10002) become joins, removals and revoke markers (wechat_common);
  other system lines become `system` messages without a sender; pats yield nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, islice
from typing import ClassVar

from shequn.errors import InputError
from shequn.model.records import AccountRef, Community, Message, MessageKind, Record
from shequn.platforms.base import ParseContext, Parser, Source, register
from shequn.platforms.util import find_links, from_epoch
from shequn.platforms.wechat_common import (
    MessageIds,
    NameBook,
    RecentMessages,
    appmsg_fields,
    csv_members,
    file_stem,
    mention_names,
    open_csv,
    quoted_text,
    read_csv,
    sniff_csv,
)
from shequn.platforms.wechat_system import SystemLine, system_records

log = logging.getLogger(__name__)

HEADER = [
    "localId",
    "TalkerId",
    "Type",
    "SubType",
    "IsSender",
    "CreateTime",
    "Status",
    "StrContent",
    "StrTime",
    "Remark",
    "NickName",
    "Sender",
]
_LOOKAHEAD = 1_000  # rows read ahead to learn the user's own wxid and whether it is a group
_PLAIN: dict[int, MessageKind] = {
    1: "text",
    3: "media",
    34: "voice",
    42: "contact",
    43: "media",
    47: "sticker",
    48: "location",
    50: "call",
    436207665: "red_packet",  # the full (SubType<<...|49) code some tools write
    419430449: "transfer",
}
_APP: dict[int, MessageKind] = {
    3: "link",
    4: "link",
    5: "link",
    6: "file",
    8: "sticker",
    19: "other",
    33: "link",
    36: "link",
    57: "text",
    2000: "transfer",
    2001: "red_packet",
}
_PAT_APP = 62


@register
class MemoTraceParser(Parser):
    """Reads MemoTrace `{remark}_utf8.csv` files (a file, or a folder or zip of them)."""

    name: ClassVar[str] = "wechat-memotrace"
    title: ClassVar[str] = "WeChat CSV from MemoTrace/留痕"
    platform: ClassVar[str] = "wechat"

    @classmethod
    def sniff(cls, source: Source) -> int:
        return sniff_csv(source, HEADER[:6], 95)

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        if source.is_file:
            yield from _ChatFile(source, None, ctx).records()
            return
        for name in csv_members(source, HEADER[:6], "MemoTrace _utf8.csv"):
            yield from _ChatFile(source, name, ctx).records()


@dataclass
class _Row:
    line: int
    type: int
    subtype: int
    outgoing: bool
    at: datetime
    content: str
    remark: str
    nick: str
    sender: str


@dataclass
class _ChatFile:
    source: Source
    member: str | None
    ctx: ParseContext
    ids: MessageIds = field(default_factory=MessageIds)
    names: NameBook = field(default_factory=NameBook)
    recent: RecentMessages = field(default_factory=RecentMessages)

    def __post_init__(self) -> None:
        self.display = self.source.display(self.member)
        self.chat_name = file_stem(self.member or self.source.path.name, "_utf8")
        self.self_ref = AccountRef("self", name="我")
        self.contact_ref = AccountRef(self.chat_name, name=self.chat_name, by_name=True)
        self.community_id = f"wechat:{self.chat_name}"

    def records(self) -> Iterator[Record]:
        with open_csv(self.source, self.ctx, self.member) as stream:
            header, rows = read_csv(stream, self.display, self.ctx)
            if header != HEADER:
                raise InputError(
                    f"not a MemoTrace CSV header: expected {','.join(HEADER)}",
                    file=self.display,
                    line=1,
                )
            ahead = list(islice(rows, _LOOKAHEAD))
            yield self._community(ahead)
            for line, row in chain(ahead, rows):
                try:
                    yield from self._records(self._row(line, row))
                except InputError as err:
                    self.ctx.skip_or_raise(err.located(file=self.display, line=line))
                except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
                    log.debug("unexpected row in %s line %d", self.display, line, exc_info=True)
                    bad = InputError(f"malformed row: {exc}", file=self.display, line=line)
                    self.ctx.skip_or_raise(bad)

    def _community(self, ahead: list[tuple[int, list[str]]]) -> Community:
        talker = ahead[0][1][1].strip() if ahead and len(ahead[0][1]) > 1 else ""
        real_id = bool(talker) and not talker.isdigit()  # not the PC's Name2ID row number
        if real_id:
            self.community_id = talker
        others: set[str] = set()
        group_hint = talker.endswith("@chatroom")
        private_hint = real_id and not group_hint
        for _line, row in ahead:
            if len(row) != 12:
                private_hint = private_hint or len(row) == 9  # old versions: groups only
                continue
            sender = row[11].strip()
            if sender and row[10] != sender:  # names seen early resolve the first system lines
                self.names.saw(AccountRef(sender, name=row[10]), row[10], row[9])
            if row[4].strip() == "1" and sender and self.self_ref.platform_id == "self":
                self.self_ref = AccountRef(sender, name=row[10] or None)  # the first one seen
            elif row[4].strip() == "0":
                others.add(sender)
        group = group_hint or (not private_hint and ("" in others or len(others) > 1))
        chat_type = "group" if group else ("private" if ahead else None)
        return Community(
            platform="wechat",
            platform_id=self.community_id,
            name=self.chat_name,
            chat_type=chat_type,
        )

    @staticmethod
    def _row(line: int, row: list[str]) -> _Row:
        if len(row) not in (9, 12):
            raise InputError(f"expected 9 or 12 fields, found {len(row)}")
        extra = row[9:12] if len(row) == 12 else ["", "", ""]
        if row[4].strip() not in ("0", "1"):
            raise InputError(f"expected 0 or 1, found {row[4]!r}", field="IsSender")
        return _Row(
            line=line,
            type=_int(row[2], "Type"),
            subtype=_int(row[3] or "0", "SubType"),
            outgoing=row[4].strip() == "1",
            at=from_epoch(_int(row[5], "CreateTime"), field="CreateTime"),
            content=row[7],
            remark=extra[0],
            nick=extra[1],
            sender=extra[2].strip(),
        )

    def _sender(self, r: _Row) -> AccountRef | None:
        if r.outgoing:
            return AccountRef(r.sender, name=r.nick or None) if r.sender else self.self_ref
        if r.sender:
            # a member who left is written with the wxid as name: the tool could not look them up
            return AccountRef(r.sender, name=r.nick if r.nick and r.nick != r.sender else None)
        return None if r.type in (10000, 10002) else self.contact_ref

    def _records(self, r: _Row) -> Iterator[Record]:
        if r.type in (10000, 10002):
            yield from self._system(r)
            return
        kind = _PLAIN.get(r.type, "other") if r.type != 49 else _APP.get(r.subtype, "other")
        if r.type == 49 and r.subtype == _PAT_APP:
            return
        sender = self._sender(r)
        if sender is not None:
            self.names.saw(sender, r.nick, r.remark)
        yield self._message(r, sender, kind)

    def _message(self, r: _Row, sender: AccountRef | None, kind: MessageKind) -> Message:
        app = appmsg_fields(r.content) if r.type == 49 else {}
        if r.type == 1:
            text = r.content
        elif app:
            text = app.get("title", "")
        elif r.content.lstrip().startswith("<"):
            text = ""  # the XML of an image, voice, sticker... is not something anyone wrote
        else:
            text = r.content.removeprefix("[红包]") if kind == "red_packet" else r.content
        key = sender.platform_id if sender is not None else ""
        msg = Message(
            self.community_id,
            self.ids.make(r.at, key, r.content),
            r.at,
            sender,
            text,
            kind=kind,
            forwarded=r.type == 49 and r.subtype == 19,
            reply_to=self._quoted(app),
            links=[app["url"]] if app.get("url") else find_links(text),
            mentions=[self.names.ref(n).platform_id for n in mention_names(text)],
        )
        if kind == "text" and sender is not None:
            names = (f"name:{n}" for n in (r.nick, r.remark, sender.name) if n)
            keys = (sender.platform_id, *names)
            self.recent.remember(self.community_id, keys, text, msg.message_id)
        return msg

    def _quoted(self, app: dict[str, str]) -> str | None:
        if "refer_content" not in app:
            return None
        text = quoted_text(app["refer_content"])
        name = app.get("refer_displayname")
        for key in (app.get("refer_chatusr"), f"name:{name}" if name else None):
            found = self.recent.find(self.community_id, key, text) if key else None
            if found is not None:
                return found
        return None

    def _system(self, r: _Row) -> Iterator[Record]:
        mid = self.ids.make(r.at, "", r.content)
        line = SystemLine(self.community_id, r.at, mid, self.self_ref, self.names)
        yield from system_records(r.content, line)


def _int(value: str, name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise InputError(f"expected a whole number, found {value!r}", field=name) from None
