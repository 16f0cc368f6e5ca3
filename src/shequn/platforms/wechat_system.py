"""WeChat system lines (Type 10000 text, Type 10002 `<sysmsg>` XML) as membership records.

They name people by display name in quotes. `parse_system_text` recognises the lines that matter
to membership, in Chinese and English WeChat:

- joins: `"A"邀请"B"、"C"加入了群聊`, `你邀请"B"加入了群聊`, `"A"邀请你(和"B")加入了群聊`,
  `"B"通过扫描"A"分享的二维码加入群聊` (source qr), `"B"通过"A"的邀请二维码加入群聊` (qr),
  `"B"加入了群聊` (source unknown); `"A" invited "B" to the group chat`,
  `"B" joined the group chat via the QR code shared by "A"`, `"B" joined the group chat`;
- removals: `你将"B"移出了群聊`, `"A"将"B"移出了群聊`, `你被"A"移出群聊`,
  `You removed "B" from the group chat`, `"A" removed "B" from the group chat`;
- revokes: `"A" 撤回了一条消息`, `你撤回了一条消息`, `"A" recalled a message`;
- pats: `"A" 拍了拍 "B"`, `"A" patted "B"` (recognised so they yield nothing).

WeChat does not announce voluntary leaves to the group, so WeChat imports never have leaves.
Newer clients store joins as `sysmsgtemplate` XML (`"$username$"邀请"$names$"加入了群聊` plus a
`<link_list>` giving each `$var$`'s wxids and nicknames); the template is parsed with the same
patterns and its `$var$` names expand to real accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shequn.model.records import AccountRef, JoinSource, MembershipEvent, Message, Record
from shequn.platforms.wechat_common import NameBook, parse_xml

SELF = "\x00self"  # the exporting user: 你 / You / 我 in system lines
SystemAction = Literal["join", "remove", "revoke", "pat"]

_Q = '["“”]'  # Chinese WeChat writes ASCII quotes; some builds and copies use curly ones
_NAME = rf"{_Q}.+?{_Q}"
_WHO = rf"(?:{_NAME}|你|我)"
_WHO_EN = rf"(?:{_NAME}|[Yy]ou|I)"
_QUOTED = re.compile(rf"{_Q}(.*?){_Q}")


@dataclass(frozen=True, slots=True)
class SystemEvent:
    """A recognised system line: who did what to whom (names as shown, SELF for the user)."""

    action: SystemAction
    members: tuple[str, ...] = ()
    actor: str | None = None
    source: JoinSource = "unknown"


def _who(raw: str | None) -> str | None:
    if raw is None:
        return None
    if raw in ("你", "我") or raw.lower() in ("you", "i"):
        return SELF
    return raw[1:-1]


def _names(segment: str) -> tuple[str, ...]:
    """`"B"、"C"` / `你和"B"` / `you and "B"` / `"B", "C"` as names (SELF first)."""
    seg = segment.strip()
    found: list[str] = [SELF] if seg.startswith("你") or seg.lower().startswith("you") else []
    found.extend(_QUOTED.findall(seg))
    return tuple(n for n in found if n)


_ZH: list[tuple[re.Pattern[str], SystemAction, JoinSource]] = [
    (re.compile(rf"^(?P<m>{_WHO})通过扫描(?P<a>{_WHO})分享的二维码加入群聊"), "join", "qr"),
    (re.compile(rf"^(?P<m>{_WHO})通过(?P<a>{_WHO})的邀请二维码加入群聊"), "join", "qr"),
    (re.compile(rf"^(?P<m>{_WHO})通过扫描二维码加入群聊"), "join", "qr"),
    (re.compile(rf"^(?P<a>{_WHO})邀请(?P<n>.+?)加入了群聊"), "join", "invite"),
    (re.compile(rf"^(?P<a>{_WHO})将(?P<n>.+?)移出了群聊"), "remove", "unknown"),
    (re.compile(rf"^(?P<m>你)被(?P<a>{_NAME})移出群聊"), "remove", "unknown"),
    (re.compile(rf"^(?P<n>{_Q}.+{_Q})加入了群聊"), "join", "unknown"),
    (re.compile(rf"^(?P<a>{_WHO})\s*撤回了一条消息"), "revoke", "unknown"),
    (re.compile(rf"^(?P<a>{_WHO})\s*拍了拍"), "pat", "unknown"),
]
_EN: list[tuple[re.Pattern[str], SystemAction, JoinSource]] = [
    (
        re.compile(
            rf"^(?P<m>{_WHO_EN}) joined the group chat via the QR [Cc]ode"
            rf" shared by (?P<a>{_WHO_EN})"
        ),
        "join",
        "qr",
    ),
    (
        re.compile(rf"^(?P<m>{_WHO_EN}) joined the group chat via (?:a |the )?QR [Cc]ode"),
        "join",
        "qr",
    ),
    (
        re.compile(rf"^(?P<a>{_WHO_EN}) invited (?P<n>.+?) to (?:join )?the group chat"),
        "join",
        "invite",
    ),
    (re.compile(rf"^(?P<a>{_WHO_EN}) removed (?P<n>.+?) from the group chat"), "remove", "unknown"),
    (
        re.compile(rf"^(?P<m>You) were removed from the group chat by (?P<a>{_NAME})"),
        "remove",
        "unknown",
    ),
    (re.compile(rf"^(?P<n>{_Q}.+{_Q}) joined the group chat"), "join", "unknown"),
    (re.compile(rf"^(?P<a>{_WHO_EN}) (?:has )?recalled a message"), "revoke", "unknown"),
    (re.compile(rf"^(?P<a>{_WHO_EN}) (?:patted|tapped) "), "pat", "unknown"),
]
_PATTERNS = _ZH + _EN
_MARKUP = re.compile(r"<(a|_wc_custom_link_)\b[^>]*>.*?</\1>|<!\[CDATA\[|\]\]>", re.DOTALL)


def clean_system_text(text: str) -> str:
    """A Type 10000 line without the CDATA wrapper and link markup WeChat stores in it."""
    return _MARKUP.sub("", text).strip()


def parse_system_text(text: str) -> SystemEvent | None:
    """The membership/revoke/pat event a WeChat system line announces, or None."""
    line = clean_system_text(text)
    for pattern, action, source in _PATTERNS:
        m = pattern.match(line)
        if m is None:
            continue
        groups = m.groupdict()
        members = _names(groups["n"]) if groups.get("n") else ()
        if groups.get("m"):
            members = (_who(groups["m"]) or "",)
        return SystemEvent(action, members, _who(groups.get("a")), source)
    return None


# -- <sysmsg> XML ------------------------------------------------------------------------
Links = dict[str, list[tuple[str, str]]]  # "$var$" -> [(wxid, nickname)]


def read_sysmsg(text: str) -> tuple[str, Links] | None:
    """The human line inside a `<sysmsg>` (revoke replacemsg, or a template) and its links."""
    root = parse_xml(text)
    if root is None or root.tag != "sysmsg":
        return None
    kind = root.get("type", "")
    if kind == "revokemsg":
        return (root.findtext("revokemsg/replacemsg") or "").strip(), {}
    if kind == "pat":
        return "", {}
    template = root.find(".//content_template")
    if template is None:
        return None
    links: Links = {}
    for link in template.iterfind("link_list/link"):
        members = [
            ((m.findtext("username") or "").strip(), (m.findtext("nickname") or "").strip())
            for m in link.iterfind("memberlist/member")
        ]
        links[f"${link.get('name', '')}$"] = members
    return (template.findtext("template") or "").strip(), links


def render_template(template: str, links: Links) -> str:
    """A `sysmsgtemplate` as the client shows it: every `$var$` replaced by its nicknames."""
    return re.sub(
        r"\$\w+\$",
        # several members show as "A"、"B": the template already has the outer quotes
        lambda m: '"、"'.join(nick or wxid for wxid, nick in links.get(m.group(0), [])),
        template,
    )


# -- records from a system line -------------------------------------------------------------
_TAGS = re.compile(r"<[^>]*>")


def system_line(content: str) -> tuple[str, Links] | None:
    """The human line of a Type 10000/10002 StrContent and its template links, or None."""
    text = content.strip()
    if text.startswith(("<sysmsg", "<?xml")):
        return read_sysmsg(text)
    if text.startswith("<revokemsg>"):  # some 10000 revoke rows wrap the line in this tag
        return _TAGS.sub("", text).strip(), {}
    return clean_system_text(text), {}


@dataclass(slots=True)
class SystemLine:
    """Where a system line sits: its chat, time and the id its records point at."""

    community_id: str
    at: datetime
    message_id: str
    self_ref: AccountRef
    names: NameBook


def system_records(content: str, line: SystemLine) -> Iterator[Record]:
    """Records for a system line: joins/removals, a deleted-message marker, or a system message.

    A revoke yields a Message with deleted=True and empty text from the revoker at the revoke
    time: the original message cannot be found from a CSV row, so the marker records that the
    person deleted something then. Pats yield nothing; lines not recognised become `system`
    messages without a sender (templates rendered as the client shows them).
    """
    found = system_line(content)
    if found is None:
        return
    text, links = found
    event = parse_system_text(text)
    if event is None:
        shown = render_template(text, links) if links else text
        if shown:
            yield Message(line.community_id, line.message_id, line.at, None, shown, kind="system")
        return

    def resolve(name: str) -> list[AccountRef]:
        if name == SELF:
            return [line.self_ref]
        if name in links:
            return [
                AccountRef(wxid, name=nick or None) if wxid else line.names.ref(nick)
                for wxid, nick in links[name]
                if wxid or nick
            ]
        return [line.names.ref(name)]

    actors = resolve(event.actor) if event.actor else []
    actor = actors[0] if actors else None
    if event.action == "revoke":
        yield Message(line.community_id, line.message_id, line.at, actor, "", deleted=True)
        return
    if event.action == "pat":
        return
    for name in event.members:
        for member in resolve(name):
            yield MembershipEvent(
                line.community_id,
                member,
                event.action,
                line.at,
                actor=actor,
                source=event.source if event.action == "join" else "unknown",
                message_id=line.message_id,
            )
