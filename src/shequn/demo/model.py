"""The generator's neutral description of a chat, which each exporter writes in its own format.

Exporters live in `shequn.demo.exporters.<platform>` and expose
`write(chat: DemoChat, out_dir: Path) -> Path` (the file or folder they wrote). They write the
chat as faithfully as the format allows (WhatsApp has no ids, no reactions, ...), so that
importing the written export through the matching parser gives back the chat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(slots=True, frozen=True)
class DemoUser:
    id: str  # platform-style id: "user123456" (telegram), "U0ABC" (slack), "wxid_x" (wechat)
    name: str  # display name
    username: str | None = None
    is_bot: bool = False


@dataclass(slots=True)
class DemoMessage:
    id: str
    sent_at: datetime  # aware UTC
    sender: DemoUser
    text: str
    kind: Literal["text", "media", "sticker", "file", "red_packet", "link"] = "text"
    reply_to: str | None = None
    mentions: list[DemoUser] = field(default_factory=list)
    reactions: list[tuple[str, DemoUser]] = field(default_factory=list)  # (emoji, who)
    edited_at: datetime | None = None


@dataclass(slots=True)
class DemoEvent:
    id: str
    at: datetime  # aware UTC
    action: Literal["join", "leave", "remove"]
    member: DemoUser
    actor: DemoUser | None = None  # inviter (join) or remover (remove)
    source: Literal["invite", "link", "qr", "unknown"] = "unknown"


@dataclass(slots=True)
class DemoChat:
    platform_id: str
    name: str
    timezone: str  # the group's zone, e.g. "Asia/Shanghai"; local-time formats are written in it
    users: list[DemoUser] = field(default_factory=list)
    items: list[DemoMessage | DemoEvent] = field(default_factory=list)  # in time order
    topic: str | None = None
