"""Write a demo chat as WhatsApp's Android "Export chat" (without media) .txt file.

The layout is the 24-hour, day-first one: `DD/MM/YYYY, HH:MM - Name: text`, in the chat's own
zone, to the minute (WhatsApp writes no seconds). Multi-line text continues on the next lines
without a header; media is `<Media omitted>`; joins, leaves and removals are WhatsApp's English
system lines. WhatsApp has no ids, replies or reactions, so those are not written.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from shequn.demo.model import DemoChat, DemoEvent, DemoMessage

E2E_NOTICE = (
    "Messages and calls are end-to-end encrypted. No one outside of this chat, not "
    "even WhatsApp, can read or listen to them. Tap to learn more."
)
MEDIA = "<Media omitted>"
EDITED = " <This message was edited>"


def _header(at: datetime, tz: ZoneInfo) -> str:
    local = at.astimezone(tz)
    return (
        f"{local.day:02d}/{local.month:02d}/{local.year:04d}, "
        f"{local.hour:02d}:{local.minute:02d} - "
    )


def _event_line(event: DemoEvent) -> str:
    member = event.member.name
    if event.action == "join":
        if event.actor is not None:
            return f"{event.actor.name} added {member}"
        return f"{member} joined using this group's invite link"
    if event.action == "leave":
        return f"{member} left"
    remover = event.actor.name if event.actor is not None else "You"
    return f"{remover} removed {member}"


def _message_line(message: DemoMessage) -> str:
    text = MEDIA if message.kind in ("media", "sticker", "file") else message.text
    if message.edited_at is not None:
        text += EDITED
    return f"{message.sender.name}: {text}"


def write(chat: DemoChat, out_dir: Path) -> Path:
    """Write `chat` to out_dir/"WhatsApp Chat with NAME.txt" and return that path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    safe_name = chat.name.replace("/", "_").replace("\\", "_")
    path = out_dir / f"WhatsApp Chat with {safe_name}.txt"
    tz = ZoneInfo(chat.timezone)
    headers: dict[int, str] = {}  # minute -> header; formatting dates is the slow part
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for n, item in enumerate(chat.items):
            at = item.sent_at if isinstance(item, DemoMessage) else item.at
            minute = int(at.timestamp()) // 60
            header = headers.get(minute)
            if header is None:
                if len(headers) > 10_000:
                    headers.clear()
                header = headers[minute] = _header(at, tz)
            if n == 0:
                out.write(f"{header}{E2E_NOTICE}\n")
            if isinstance(item, DemoMessage):
                out.write(f"{header}{_message_line(item)}\n")
            else:
                out.write(f"{header}{_event_line(item)}\n")
    return path
