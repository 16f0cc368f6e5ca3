"""Writes a DemoChat as Telegram Desktop writes a single-chat JSON export (result.json).

Faithful to tdesktop's export_output_json.cpp where a reader can tell:
- the layout: one space per nesting level, `"key": value` members, no newline at the end;
- strings as its SerializeString writes them: UTF-8 raw, \\n \\r \\t \\" \\\\ escaped, the
  other control characters as `\\xNN` (not valid JSON: readers must cope), U+2028/9 as \\u;
- `date` as the exporting machine's local time without an offset (here the chat's timezone),
  `date_unixtime` as a string; `edited`/`edited_unixtime`; `from`/`from_id`;
- `text` as a string when it is one plain part, else an array of strings and entity objects,
  and `text_entities` always as objects; reactions with `recent` reactors.

Memberships become service messages: a join by link -> join_group_by_link (inviter by name);
an invitation -> invite_members by the inviter; a join with no inviter (or an unknown way) ->
invite_members by the member themselves, which is how a public group shows someone joining;
a join by QR code -> join_group_by_link (a Telegram QR code holds an invite link); a leave ->
remove_members by the member; a removal -> remove_members by the remover.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.platforms.util import find_links

_SPECIAL = re.compile('[\x00-\x1f"\\\\\u2028\u2029]')
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}
_ESCAPES.update({"\u2028": "\\u2028", "\u2029": "\\u2029"})
_NUMBER = re.compile(r"-?\d{1,18}")


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\x{ord(char):02X}"


def serialize_string(value: str) -> str:
    """A JSON string as tdesktop's SerializeString writes it (control characters as \\xNN)."""
    return '"' + _SPECIAL.sub(_escape, value) + '"'


def dump(value: Any, level: int) -> str:
    """`value` as tdesktop's SerializeObject/SerializeArray lay it out, `level` spaces deep."""
    if isinstance(value, str):
        return serialize_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    inner = "\n" + " " * (level + 1)
    if isinstance(value, dict):
        items = (f"{inner}{serialize_string(k)}: {dump(v, level + 1)}" for k, v in value.items())
        return "{" + ",".join(items) + "\n" + " " * level + "}"
    if not value:
        return "[]"
    return "[" + ",".join(inner + dump(v, level + 1) for v in value) + "\n" + " " * level + "]"


def _id(value: str) -> int | str:
    """Telegram ids are numbers; the demo's may be any string, which is kept as a string."""
    return int(value) if _NUMBER.fullmatch(value) else value


def _user_number(user: DemoUser) -> int | None:
    digits = user.id.removeprefix("user")
    return int(digits) if digits.isdigit() else None


def entities(text: str, mentions: list[DemoUser]) -> list[dict[str, Any]]:
    """The text cut into tdesktop's parts: plain, mention, mention_name and link."""
    spans: list[tuple[int, int, dict[str, Any]]] = []
    for user in mentions:
        number = _user_number(user)
        if user.username and (i := text.find("@" + user.username)) >= 0:
            spans.append((i, i + len(user.username) + 1, {"type": "mention"}))
        elif number is not None and user.name and (i := text.find(user.name)) >= 0:
            spans.append((i, i + len(user.name), {"type": "mention_name", "user_id": number}))
    start = 0
    for url in find_links(text):
        i = text.find(url, start)
        spans.append((i, i + len(url), {"type": "link"}))
        start = i + len(url)
    parts: list[dict[str, Any]] = []
    at = 0
    for begin, end, entity in sorted(spans, key=lambda s: s[0]):
        if begin < at:
            continue  # overlaps an earlier entity
        if begin > at:
            parts.append({"type": "plain", "text": text[at:begin]})
        parts.append({"type": entity["type"], "text": text[begin:end]} | entity)
        at = end
    if at < len(text):
        parts.append({"type": "plain", "text": text[at:]})
    return parts


def _text_value(parts: list[dict[str, Any]]) -> str | list[Any]:
    if not parts:
        return ""
    if len(parts) == 1 and parts[0]["type"] == "plain":
        return str(parts[0]["text"])
    return [p["text"] if p["type"] == "plain" else p for p in parts]


class _Writer:
    def __init__(self, chat: DemoChat) -> None:
        self.tz = ZoneInfo(chat.timezone)

    def local(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%dT%H:%M:%S")

    def base(self, item_id: str, kind: str, at: datetime) -> dict[str, Any]:
        return {
            "id": _id(item_id),
            "type": kind,
            "date": self.local(at),
            "date_unixtime": str(int(at.timestamp())),
        }

    def message(self, m: DemoMessage) -> dict[str, Any]:
        out = self.base(m.id, "message", m.sent_at)
        if m.edited_at is not None:
            out["edited"] = self.local(m.edited_at)
            out["edited_unixtime"] = str(int(m.edited_at.timestamp()))
        out["from"] = m.sender.name
        out["from_id"] = m.sender.id
        if m.reply_to:
            out["reply_to_message_id"] = _id(m.reply_to)
        out.update(self.media(m))
        parts = entities(m.text, m.mentions)
        out["text"] = _text_value(parts)
        out["text_entities"] = parts
        if m.reactions:
            out["reactions"] = self.reactions(m)
        return out

    def media(self, m: DemoMessage) -> dict[str, Any]:
        size = 20_000 + sum(map(ord, m.id)) * 37 % 900_000
        stamp = m.sent_at.astimezone(self.tz).strftime("%d-%m-%Y_%H-%M-%S")
        if m.kind == "media":
            return {
                "photo": f"photos/photo_{m.id}@{stamp}.jpg",
                "photo_file_size": size,
                "width": 1280,
                "height": 960,
            }
        if m.kind == "sticker":
            return {
                "file": "stickers/sticker.webp",
                "file_name": "sticker.webp",
                "file_size": size % 60_000,
                "thumbnail": "stickers/sticker.webp_thumb.jpg",
                "thumbnail_file_size": size % 9_000,
                "media_type": "sticker",
                "sticker_emoji": "👍",
                "mime_type": "image/webp",
                "width": 512,
                "height": 512,
            }
        if m.kind == "file":
            return {
                "file": f"files/notes_{m.id}.pdf",
                "file_name": f"notes_{m.id}.pdf",
                "file_size": size,
                "mime_type": "application/pdf",
            }
        return {}  # text, links and red packets (Telegram has none) are plain messages

    def reactions(self, m: DemoMessage) -> list[dict[str, Any]]:
        by_emoji: dict[str, list[DemoUser]] = {}
        for emoji, who in m.reactions:
            by_emoji.setdefault(emoji, []).append(who)
        out = []
        for emoji, users in by_emoji.items():
            recent = [
                {
                    "from": u.name,
                    "from_id": u.id,
                    "date": self.local(m.sent_at + timedelta(minutes=3 * (i + 1))),
                }
                for i, u in enumerate(users)
            ]
            out.append({"type": "emoji", "count": len(users), "emoji": emoji, "recent": recent})
        return out

    def service(self, e: DemoEvent) -> dict[str, Any]:
        out = self.base(e.id, "service", e.at)
        actor: DemoUser | None
        if e.action == "join" and e.source in ("link", "qr"):
            actor, action = e.member, "join_group_by_link"
            extra: dict[str, Any] = {"inviter": e.actor.name if e.actor else None}
        elif e.action == "join":
            actor = e.actor if e.source == "invite" and e.actor else e.member
            action, extra = "invite_members", {"members": [e.member.name]}
        else:  # leave: removed by themselves; remove: by the remover (if known)
            actor = e.member if e.action == "leave" else e.actor
            action, extra = "remove_members", {"members": [e.member.name]}
        if actor is not None:
            out["actor"] = actor.name
            out["actor_id"] = actor.id
        out["action"] = action
        out.update(extra)
        out["text"] = ""
        out["text_entities"] = []
        return out


def write(chat: DemoChat, out_dir: Path) -> Path:
    """Write `chat` as `out_dir/result.json`, a private supergroup's single-chat export."""
    writer = _Writer(chat)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "result.json"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write(f'{{\n "name": {serialize_string(chat.name)},\n "type": "private_supergroup",\n')
        f.write(f' "id": {dump(_id(chat.platform_id), 1)},\n "messages": [')
        sep = "\n  "
        for item in chat.items:
            obj = writer.message(item) if isinstance(item, DemoMessage) else writer.service(item)
            f.write(sep + dump(obj, 2))
            sep = ",\n  "
        f.write("\n ]\n}")
    return path
