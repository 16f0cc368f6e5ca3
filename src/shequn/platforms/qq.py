"""QQ message-manager .txt export (the old PC QQ 消息管理器 "导出为 .txt"), FORMATS.md §5.

```
消息记录（此消息记录为文本格式，不支持重新导入）

================================================================
消息分组:我的QQ群
================================================================
消息对象:产品交流群
================================================================

2019-07-16 18:15:05 【管理员】地瓜(23333233)
第一行
第二行

2019-07-16 18:15:11 土豆<tudou@example.com>
...
```

- A file may hold several `消息对象` sections, each one community: platform_id is the number
  when the object is written `群名(123456)`, else `qq:<群名>` (the export gives no group number).
- A message header is `date time sender`; the time is local (24-hour, or `8:43:38 PM` on
  English Windows) -> `ctx.localize`. The sender is `昵称(QQ号)`, `昵称<email>` (the number or
  email is the platform_id) or, in discussion groups, the name alone (then the platform_id).
  Titles before the name: `【群主】` makes the sender the group's owner and `【管理员】` an admin
  (a MemberRole for each such sender, yielded at the end of the file; when one sender's title
  changes within the file, the latest header wins, a header without a title meaning "member").
  Level titles (`【活跃】`, `【LV5】`, …) are dropped.
- The content is every line up to the next header, exactly; only the blank line the exporter
  writes after each message is removed. A whole-message `[图片]` is media, `[表情]` a sticker,
  and so on (with an empty text: the placeholder is the tool's word, not the sender's).
- `系统消息(10000)` lines become membership events where recognised, by display name:
  `X加入本群`, `X邀请Y加入本群` (invite), `X通过扫描二维码加入本群` (qr), `X退出了群聊`/`退出本群`
  (leave), `X被管理员移出本群`/`被群主移出本群` (remove), `X撤回了一条消息` (a deleted-message
  marker); other system lines become `system` messages. Names seen on headers resolve to QQ
  numbers; others stay name-only for the store to resolve.
- Message ids are deterministic (the export has none). The file is UTF-8 (BOM or not), UTF-16
  with a BOM, or GB18030; a non-UTF-8 encoding is reported in ctx.warnings.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, ClassVar, Literal

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    Community,
    ExportRole,
    JoinSource,
    MemberRole,
    MembershipEvent,
    Message,
    MessageKind,
    Record,
)
from shequn.platforms.base import (
    ParseContext,
    Parser,
    Source,
    open_binary,
    register,
)
from shequn.platforms.util import find_links
from shequn.platforms.wechat_common import MessageIds, NameBook, not_utf8

log = logging.getLogger(__name__)

TITLE = "消息记录（此消息记录为文本格式，不支持重新导入）"
_HEADER = re.compile(
    r"^(?P<date>\d{4}[-/]\d{1,2}[-/]\d{1,2}) (?:(?P<cn>上午|下午) ?)?"
    r"(?P<time>\d{1,2}:\d{2}:\d{2})(?: (?P<en>[AaPp][Mm]))? (?P<who>.+)$"
)
_WHO = re.compile(
    r"^(?P<tags>(?:【[^】]*】\s*)*)(?P<name>.*?)"
    r"(?:\((?P<qq>\d{4,12})\)|<(?P<email>[^<>\s]+)>)?\s*$"
)
_GROUP = re.compile(r"^消息分组[:：](?P<v>.*)$")
_OBJECT = re.compile(r"^消息对象[:：](?P<v>.*)$")
_NUMBERED = re.compile(r"^(?P<name>.*?)[(（](?P<id>\d{5,12})[)）]$")
_SYSTEM_IDS = ("10000", "1000000")
_TITLES: dict[str, ExportRole] = {"群主": "owner", "管理员": "admin"}
_TAG = re.compile(r"【([^】]*)】")
_PLACEHOLDERS: dict[str, MessageKind] = {
    "[图片]": "media",
    "[闪照]": "media",
    "[视频]": "media",
    "[表情]": "sticker",
    "[语音]": "voice",
    "[文件]": "file",
    "[红包]": "red_packet",
    "[QQ红包]": "red_packet",
    "[位置]": "location",
    "[窗口抖动]": "other",
}
_Action = Literal["join", "leave", "remove", "revoke"]
_SYSTEM: list[tuple[re.Pattern[str], _Action, JoinSource]] = [
    (re.compile(r"^(?P<a>.+?)邀请(?P<m>.+?)加入(?:了)?(?:本群|群聊)。?$"), "join", "invite"),
    (re.compile(r"^(?P<m>.+?)通过扫描二维码加入(?:了)?(?:本群|群聊)。?$"), "join", "qr"),
    (re.compile(r"^(?P<m>.+?)加入(?:了)?(?:本群|群聊)。?$"), "join", "unknown"),
    (re.compile(r"^(?P<m>.+?)被(?:管理员|群主)?移出(?:了)?(?:本群|群聊)。?$"), "remove", "unknown"),
    (re.compile(r"^(?P<m>.+?)(?:已经|已)?退出(?:了)?(?:本群|群聊)。?$"), "leave", "unknown"),
    (re.compile(r"^(?P<a>.+?)撤回了一条(?:成员)?消息"), "revoke", "unknown"),
]


def detect_encoding(head: bytes) -> str:
    """The codec of a QQ .txt from its first bytes: a BOM, NUL-byte pattern, UTF-8 or GB18030."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if len(head) >= 8 and head[1::2].count(0) > len(head) // 4:
        return "utf-16-le"
    if len(head) >= 8 and head[0::2].count(0) > len(head) // 4:
        return "utf-16-be"
    if TITLE.encode("gb18030") in head:
        return "gb18030"
    # GB18030 text read as UTF-8 is almost all errors; a few bad bytes in UTF-8 are just that
    text = head.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return "utf-8" if bad <= 1 or good >= 4 * bad else "gb18030"


def _looks_like_qq(head: bytes) -> int:
    text = head.decode(detect_encoding(head), "ignore").lstrip("\ufeff")
    if TITLE in text[:200]:
        return 95
    lines = text.splitlines()[:40]
    if any(_OBJECT.match(x) for x in lines) and any(_HEADER.match(x) for x in lines):
        return 70
    return 0


@register
class QQTextParser(Parser):
    """Reads QQ message-manager .txt exports (a file, or a folder or zip of them)."""

    name: ClassVar[str] = "qq"
    title: ClassVar[str] = "QQ message-manager .txt"
    platform: ClassVar[str] = "qq"
    naive_times: ClassVar[bool] = True

    @classmethod
    def sniff(cls, source: Source) -> int:
        if source.is_file:
            return _looks_like_qq(source.head(4096))
        txts = [n for n in source.names() if n.lower().endswith(".txt")][:50]
        return max((_looks_like_qq(source.head(4096, n)) - 5 for n in txts), default=0)

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        if source.is_file:
            yield from _QQFile(source, None, ctx).records()
            return
        found = [
            n
            for n in source.names()
            if n.lower().endswith(".txt") and _looks_like_qq(source.head(4096, n))
        ]
        if not found:
            raise InputError("no QQ message-manager .txt found", file=source.display())
        for name in found:
            yield from _QQFile(source, name, ctx).records()


@dataclass
class _Pending:
    line: int
    at: datetime
    sender: AccountRef | None  # None: 系统消息
    lines: list[str] = field(default_factory=list)


@dataclass
class _QQFile:
    source: Source
    member: str | None
    ctx: ParseContext
    ids: MessageIds = field(default_factory=MessageIds)
    names: NameBook = field(default_factory=NameBook)
    seen: set[str] = field(default_factory=set)
    community: Community | None = None
    group_label: str = ""
    pending: _Pending | None = None
    # (group, account) -> the account and the role of its latest header, once it had a title
    roles: dict[tuple[str, str], tuple[AccountRef, ExportRole]] = field(default_factory=dict)

    def records(self) -> Iterator[Record]:
        display = self.source.display(self.member)
        encoding = detect_encoding(self.source.head(4096, self.member))
        if encoding not in ("utf-8", "utf-8-sig"):
            self.ctx.warnings.append(f"{display}: read as {encoding}")
        number = 0
        held: str | None = None  # a '====' line: framing before a section, else content
        try:
            with self._open(encoding) as stream:
                for number, raw in enumerate(stream, 1):
                    line = raw.rstrip("\r\n").lstrip("\ufeff")
                    if not_utf8(line):  # undecodable bytes, kept as surrogates: this line only
                        err = InputError(f"not {encoding} text", file=display, line=number)
                        self.ctx.skip_or_raise(err)
                        continue
                    if held is not None:
                        starts_section = _GROUP.match(line) or _OBJECT.match(line)
                        if self.pending is not None and not starts_section:
                            self.pending.lines.append(held)
                        held = None
                    if line.startswith("====") and line.strip("=") == "":
                        held = line
                        continue
                    try:
                        yield from self._line(number, line, display)
                    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
                        log.debug("unexpected line %d in %s", number, display, exc_info=True)
                        bad = InputError(f"malformed line: {exc}", file=display, line=number)
                        self.ctx.skip_or_raise(bad)
        except UnicodeDecodeError as exc:  # UTF-16 only: other codecs escape bad bytes
            err = InputError(f"not {encoding} text ({exc.reason})", file=display, line=number + 1)
            self.ctx.skip_or_raise(err)
        yield from self._flush()
        for (cid, _pid), (ref, role) in self.roles.items():
            yield MemberRole(cid, ref, role)

    def _open(self, encoding: str) -> IO[str]:
        errors = "strict" if encoding.startswith("utf-16") else "surrogateescape"
        raw = open_binary(self.source, self.ctx, self.member)
        return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")

    def _line(self, number: int, line: str, display: str) -> Iterator[Record]:
        group = _GROUP.match(line)
        if line == TITLE or group:
            yield from self._flush()
            if group:
                self.group_label = group.group("v").strip()
            return
        if obj := _OBJECT.match(line):
            yield from self._flush()
            yield from self._section(obj.group("v").strip())
            return
        header = _HEADER.match(line)
        if header is None or not header.group("who").strip():
            if self.pending is not None:
                self.pending.lines.append(line)
            return
        yield from self._flush()
        try:
            at = _time(header, self.ctx)
        except InputError as err:
            self.ctx.skip_or_raise(err.located(file=display, line=number))
            return
        if self.community is None:
            yield from self._section(PurePosixPath(self.member or self.source.path.name).stem)
        self.pending = _Pending(number, at, self._sender(header.group("who")))

    def _section(self, label: str) -> Iterator[Record]:
        numbered = _NUMBERED.match(label)
        name = (numbered.group("name").strip() if numbered else label) or label
        pid = numbered.group("id") if numbered else f"qq:{label}"
        kind = self.group_label
        chat_type = "private" if "好友" in kind else "discussion" if "讨论组" in kind else "group"
        self.community = Community("qq", pid, name=name or pid, chat_type=chat_type)
        self.names = NameBook()  # a name means someone else in another group
        if pid not in self.seen:
            self.seen.add(pid)
            yield self.community

    def _sender(self, who: str) -> AccountRef | None:
        m = _WHO.match(who)
        if m is None:  # cannot happen: every part is optional
            return AccountRef(who, name=who)
        name = m.group("name").strip()
        if name == "系统消息" and m.group("qq") in _SYSTEM_IDS:
            return None
        pid = m.group("qq") or m.group("email")
        if pid is None:  # discussion groups: the name is all there is, and it is the identity
            name = name or who.strip()
            return AccountRef(name, name=name)
        ref = AccountRef(pid, name=name or None)
        self.names.saw(ref, name)
        self._saw_titles(ref, m.group("tags"))
        return ref

    def _saw_titles(self, ref: AccountRef, tags: str) -> None:
        role = next((_TITLES[x] for x in _TAG.findall(tags) if x in _TITLES), None)
        if self.community is None:  # cannot happen: a header's section is made before it
            return
        key = (self.community.platform_id, ref.platform_id)
        if role is not None or key in self.roles:  # untitled senders need no row
            self.roles[key] = (ref, role or "member")

    def _flush(self) -> Iterator[Record]:
        p, self.pending = self.pending, None
        if p is None or self.community is None:
            return
        if p.lines and p.lines[-1] == "":
            p.lines.pop()  # the blank line the exporter writes after every message
        text = "\n".join(p.lines)
        cid = self.community.platform_id
        mid = self.ids.make(p.at, p.sender.platform_id if p.sender else "", text)
        if p.sender is None:
            yield from self._system(cid, mid, p.at, text)
            return
        kind = _PLACEHOLDERS.get(text.strip(), "text")
        yield Message(
            cid,
            mid,
            p.at,
            p.sender,
            "" if kind != "text" else text,
            kind=kind,
            links=find_links(text) if kind == "text" else [],
        )

    def _system(self, cid: str, mid: str, at: datetime, text: str) -> Iterator[Record]:
        for pattern, action, source in _SYSTEM:
            m = pattern.match(text.strip())
            if m is None:
                continue
            actor = self._ref(m.group("a")) if "a" in m.groupdict() else None
            if action == "revoke":
                yield Message(cid, mid, at, actor, "", deleted=True)
                return
            member = self._ref(m.group("m"))
            yield MembershipEvent(cid, member, action, at, actor, source, message_id=mid)
            return
        if text:
            yield Message(cid, mid, at, None, text, kind="system")

    def _ref(self, name: str) -> AccountRef:
        if name == "你":
            return AccountRef("self", name="我")
        return self.names.ref(name.strip())


def _time(m: re.Match[str], ctx: ParseContext) -> datetime:
    """The header's local time as aware UTC."""
    date = re.split(r"[-/]", m.group("date"))
    hour, minute, second = (int(x) for x in m.group("time").split(":"))
    half = (m.group("en") or m.group("cn") or "").lower()
    if half in ("am", "pm", "上午", "下午"):
        hour = hour % 12 + (12 if half in ("pm", "下午") else 0)
    try:
        naive = datetime(int(date[0]), int(date[1]), int(date[2]), hour, minute, second)  # noqa: DTZ001
        return ctx.localize(naive)
    except (ValueError, OverflowError) as exc:  # 2019-02-30; year 1 east of UTC
        raise InputError(f"not a valid time: {m.group(0)[:40]!r} ({exc})", field="time") from None
