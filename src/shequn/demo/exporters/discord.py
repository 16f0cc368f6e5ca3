"""Writes a DemoChat as one DiscordChatExporter JSON file, the way DCE 2.4x writes it.

Faithful to the real output where it matters to a reader:
- the key order and the always-present keys of DCE's JsonMessageWriter, two-space indentation;
- times as .NET's System.Text.Json writes a DateTimeOffset: in the exporter's local zone (here
  the chat's timezone, not UTC), up to 7 fraction digits with trailing zeros dropped;
- non-ASCII text written raw, except characters outside the BMP (emoji), which .NET's relaxed
  encoder still escapes as UTF-16 surrogate pairs (dotnet/runtime#42847).

What Discord cannot say: joins become GuildMemberJoin system messages (who invited and how is
lost); leaves and removals have no Discord message at all, so they are skipped; red packets are
written as plain text messages. The guild is named after the chat and the channel "general",
unless the chat's name is already "<guild> / #<channel>".
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser

_NON_BMP = re.compile("[\U00010000-\U0010ffff]")
_AVATAR = "https://cdn.discordapp.com/embed/avatars/{}.png"


def _snowflake(*parts: str) -> str:
    """A stable 18-digit id for things the demo model has no id for (guild, attachments)."""
    digest = hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).digest()
    return str(10**17 + int.from_bytes(digest, "big") % (9 * 10**17))


def dotnet_time(at: datetime, tz: ZoneInfo) -> str:
    """`at` as System.Text.Json writes a DateTimeOffset in zone `tz` (whole-minute offset)."""
    offset = at.astimezone(tz).utcoffset() or timedelta(0)
    minutes = round(offset.total_seconds() / 60)  # .NET offsets are whole minutes (no LMT secs)
    local = at.astimezone(UTC).replace(tzinfo=None) + timedelta(minutes=minutes)
    fraction = f"{local.microsecond:06d}0".rstrip("0")
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}T{local.hour:02d}:"
        f"{local.minute:02d}:{local.second:02d}{'.' + fraction if fraction else ''}"
        f"{sign}{hours:02d}:{mins:02d}"
    )


def _json(value: Any, level: int) -> str:
    """Indented JSON like DCE's Utf8JsonWriter, nested `level` deep."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    text = _NON_BMP.sub(_surrogates, text)
    return text.replace("\n", "\n" + "  " * level)


def _surrogates(match: re.Match[str]) -> str:
    code = ord(match.group(0)) - 0x10000
    return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"


class _Writer:
    def __init__(self, chat: DemoChat) -> None:
        self.chat = chat
        self.tz = ZoneInfo(chat.timezone)
        guild, sep, channel = chat.name.partition(" / #")
        self.guild_name, self.channel_name = (guild, channel) if sep else (chat.name, "general")
        self.guild_id = _snowflake("guild", chat.platform_id)

    def time(self, at: datetime | None) -> str | None:
        return None if at is None else dotnet_time(at, self.tz)

    def user(self, u: DemoUser) -> dict[str, Any]:
        return {
            "id": u.id,
            "name": u.username or u.name,
            "discriminator": "0000",
            "nickname": u.name,
            "color": None,
            "isBot": u.is_bot,
            "roles": [],
            "avatarUrl": _AVATAR.format(int(_snowflake(u.id)) % 5),
        }

    def preamble(self) -> dict[str, Any]:
        last = self.chat.items[-1] if self.chat.items else None
        exported = last.sent_at if isinstance(last, DemoMessage) else last.at if last else None
        return {
            "guild": {
                "id": self.guild_id,
                "name": self.guild_name,
                "iconUrl": "https://cdn.discordapp.com/embed/avatars/0.png",
            },
            "channel": {
                "id": self.chat.platform_id,
                "type": "GuildTextChat",
                "categoryId": _snowflake("category", self.chat.platform_id),
                "category": "Text Channels",
                "name": self.channel_name,
                "topic": self.chat.topic,
            },
            "dateRange": {"after": None, "before": None},
            "exportedAt": self.time(exported),
        }

    def messages(self) -> Iterator[dict[str, Any]]:
        for item in self.chat.items:
            if isinstance(item, DemoMessage):
                yield self.message(item)
            elif isinstance(item, DemoEvent) and item.action == "join":
                yield self.join(item)
            # Leaves and removals: Discord posts no message for them, so DCE has nothing.

    def base(self, message_id: str, kind: str, at: datetime, author: DemoUser) -> dict[str, Any]:
        return {
            "id": message_id,
            "type": kind,
            "timestamp": self.time(at),
            "timestampEdited": None,
            "callEndedTimestamp": None,
            "isPinned": False,
            "content": "",
            "author": self.user(author),
            "attachments": [],
            "embeds": [],
            "stickers": [],
            "reactions": [],
            "mentions": [],
            "inlineEmojis": [],
        }

    def join(self, event: DemoEvent) -> dict[str, Any]:
        out = self.base(event.id, "GuildMemberJoin", event.at, event.member)
        out["content"] = "Joined the server."  # DCE's fallback text for system messages
        return out

    def message(self, m: DemoMessage) -> dict[str, Any]:
        out = self.base(m.id, "Reply" if m.reply_to else "Default", m.sent_at, m.sender)
        out["timestampEdited"] = self.time(m.edited_at)
        out["content"] = m.text
        if m.kind in ("media", "file"):
            out["attachments"] = [self.attachment(m)]
        elif m.kind == "sticker":
            sticker_id = _snowflake("sticker", m.id)
            out["stickers"] = [
                {
                    "id": sticker_id,
                    "name": "Wave",
                    "format": "Png",
                    "sourceUrl": f"https://media.discordapp.net/stickers/{sticker_id}.png",
                }
            ]
        out["reactions"] = self.reactions(m)
        out["mentions"] = [self.user(u) for u in m.mentions]
        if m.reply_to:
            out["reference"] = {
                "type": "Default",
                "messageId": m.reply_to,
                "channelId": self.chat.platform_id,
                "guildId": self.guild_id,
            }
        return out

    def attachment(self, m: DemoMessage) -> dict[str, Any]:
        attachment_id = _snowflake("attachment", m.id)
        name = "image.png" if m.kind == "media" else "notes.pdf"
        return {
            "id": attachment_id,
            "url": f"https://cdn.discordapp.com/attachments/{self.chat.platform_id}/"
            f"{attachment_id}/{name}",
            "fileName": name,
            "fileSizeBytes": 20000 + int(attachment_id) % 900000,
        }

    def reactions(self, m: DemoMessage) -> list[dict[str, Any]]:
        by_emoji: dict[str, list[DemoUser]] = {}
        for emoji, who in m.reactions:
            by_emoji.setdefault(emoji, []).append(who)
        return [
            {
                "emoji": {
                    "id": None,
                    "name": emoji,
                    "code": emoji,  # DCE's shortcode when it knows one; the emoji itself else
                    "isAnimated": False,
                    "imageUrl": "https://cdn.jsdelivr.net/gh/twitter/twemoji@latest/assets/svg/"
                    + "-".join(f"{ord(c):x}" for c in emoji)
                    + ".svg",
                },
                "count": len(users),
                "users": [
                    {k: v for k, v in self.user(u).items() if k not in ("color", "roles")}
                    for u in users
                ],
            }
            for emoji, users in by_emoji.items()
        ]


def write(chat: DemoChat, out_dir: Path) -> Path:
    """Write `chat` as `<guild> - <channel> [<channel id>].json` in `out_dir`; return its path."""
    writer = _Writer(chat)
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r'[\\/:*?"<>|]', "_", f"{writer.guild_name} - {writer.channel_name}")
    path = out_dir / f"{safe} [{chat.platform_id}].json"
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        f.write("{\n")
        for key, value in writer.preamble().items():
            f.write(f'  "{key}": {_json(value, 1)},\n')
        f.write('  "messages": [')
        for message in writer.messages():
            f.write(",\n    " if count else "\n    ")
            f.write(_json(message, 2))
            count += 1
        f.write("\n  ],\n" if count else "],\n")
        f.write(f'  "messageCount": {count}\n}}\n')
    return path
