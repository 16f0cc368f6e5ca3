"""Writes a DemoChat as a Slack workspace export folder, the way Slack's "Export data" does.

`<out_dir>/slack-export/` gets `users.json`, `channels.json` (one public channel: id = the chat's
platform_id, name = the chat's name slugged the way Slack names channels) and a folder of that
name with one `YYYY-MM-DD.json` per day, the day taken in the chat's timezone.

Faithful to real exports where it matters to a reader:
- JSON as Slack writes it: four-space indentation, non-ASCII as \\uXXXX escapes, "/" as "\\/";
- `ts` is "epoch.micro" (6 digits) and unique in the channel: a message at the same microsecond
  as an earlier one is moved on by one microsecond;
- text escaped as Slack stores it (&amp; &lt; &gt;); a mention of a user is the markup
  `<@U…>` in place of "@name" (put in front when the text does not say "@name"), and URLs are
  wrapped as `<url>`, so the reader sees the markup a real export has;
- replies carry the parent's `thread_ts` and `parent_user_id`; the parent gets `thread_ts` (its
  own ts), `reply_count`, `reply_users` and `replies`. Slack threads are flat: a reply to a reply
  goes into the first message's thread;
- reactions are `{name, users, count}` with Slack's short names (👍 -> "+1"); an emoji with no
  known short name becomes "emoji-<codepoints>" (a custom emoji, as a workspace would add);
- files and media are `file_share` messages with a `files` entry; bots' messages carry `bot_id`
  and `bot_profile` as app messages do; stickers and red packets are plain messages.

What Slack cannot say: joins are `channel_join` messages (with `inviter` when there was one; how
they joined, link or QR, is lost); leaves and removals are both `channel_leave` (Slack has no
removal record, so who removed them is lost too).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_URL = re.compile(r"https?://[^\s<>\"'，。！？、）】」]+")
_EMOJI_NAMES = {
    "👍": "+1",
    "👎": "-1",
    "❤️": "heart",
    "❤": "heart",
    "😂": "joy",
    "🎉": "tada",
    "👏": "clap",
    "🙏": "pray",
    "🔥": "fire",
    "😄": "smile",
    "😊": "blush",
    "😮": "open_mouth",
    "😢": "cry",
    "👀": "eyes",
    "✅": "white_check_mark",
    "💯": "100",
    "🤔": "thinking_face",
    "🚀": "rocket",
    "😍": "heart_eyes",
    "👌": "ok_hand",
    "💪": "muscle",
    "🌹": "rose",
    "☕": "coffee",
    "🍉": "watermelon",
}
_TEAM = "T0DEMO0001"


def emoji_name(emoji: str) -> str:
    """The Slack reaction name for an emoji (":name:" and known emoji map to their short name)."""
    if len(emoji) > 2 and emoji.startswith(":") and emoji.endswith(":"):
        return emoji[1:-1]
    known = _EMOJI_NAMES.get(emoji)
    if known is not None:
        return known
    return "emoji-" + "-".join(f"{ord(c):x}" for c in emoji)


def slack_channel_name(name: str) -> str:
    """A chat name as Slack would allow it for a channel: lower case, no spaces, max 80."""
    slug = re.sub(r"[^\w-]+", "-", name.lower(), flags=re.UNICODE).strip("-_")
    return slug[:80] or "channel"


def escape(text: str) -> str:
    """Text as Slack stores it: &, < and > HTML-escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ts(micros: int) -> str:
    seconds, micro = divmod(micros, 1_000_000)
    return f"{seconds}.{micro:06d}"


def _micros(at: datetime) -> int:
    delta = at.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dump(value: Any) -> str:
    # Slack's exporter escapes non-ASCII and "/" ("/" only occurs inside strings in JSON).
    return json.dumps(value, ensure_ascii=True, indent=4).replace("/", "\\/")


def _id(*parts: str, length: int = 10) -> str:
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).hexdigest()[:length]


class _Writer:
    def __init__(self, chat: DemoChat) -> None:
        self.chat = chat
        self.tz = ZoneInfo(chat.timezone)
        self.ts: dict[str, str] = {}  # demo item id -> ts
        self.thread: dict[str, str] = {}  # demo message id -> ts of its thread's first message
        self.replies: dict[str, list[tuple[str, str]]] = {}  # thread ts -> [(user id, ts)]
        self.author: dict[str, str] = {}  # message ts -> sender id
        self.users: dict[str, DemoUser] = {u.id: u for u in chat.users}
        self.order: list[tuple[int, DemoMessage | DemoEvent]] = []
        self._plan()

    def _plan(self) -> None:
        """Give every item a unique ts; find threads; gather every user the chat names."""
        used: set[int] = set()
        for item in self.chat.items:
            micros = _micros(item.sent_at if isinstance(item, DemoMessage) else item.at)
            while micros in used:
                micros += 1
            used.add(micros)
            self.ts[item.id] = _ts(micros)
            self.order.append((micros, item))
            for user in self._people(item):
                self.users.setdefault(user.id, user)
            if isinstance(item, DemoMessage):
                self.author[self.ts[item.id]] = item.sender.id
                parent = self.thread.get(item.reply_to or "")
                self.thread[item.id] = parent or self.ts[item.id]
                if parent is not None:
                    self.replies.setdefault(parent, []).append((item.sender.id, self.ts[item.id]))
        self.order.sort(key=lambda pair: pair[0])

    @staticmethod
    def _people(item: DemoMessage | DemoEvent) -> list[DemoUser]:
        if isinstance(item, DemoEvent):
            return [item.member] + ([item.actor] if item.actor else [])
        return [item.sender, *item.mentions, *(who for _, who in item.reactions)]

    @staticmethod
    def handle(u: DemoUser) -> str:
        """The user's Slack `name` (handle): the username, else one made from the name."""
        return u.username or slack_channel_name(u.name).replace("-", ".")

    def user(self, u: DemoUser) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": u.name,
            "real_name_normalized": u.name,
            "display_name": u.name,
            "display_name_normalized": u.name,
            "status_text": "",
            "status_emoji": "",
            "avatar_hash": "g" + _id("avatar", u.id, length=11),
            "image_72": f"https://secure.gravatar.com/avatar/{_id(u.id, length=32)}.jpg?s=72",
            "team": _TEAM,
        }
        if u.is_bot:
            profile["bot_id"] = self.bot_id(u)
        return {
            "id": u.id,
            "team_id": _TEAM,
            "name": self.handle(u),
            "deleted": False,
            "color": _id("color", u.id, length=6),
            "real_name": u.name,
            "tz": self.chat.timezone,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": u.is_bot,
            "is_app_user": False,
        }

    @staticmethod
    def bot_id(u: DemoUser) -> str:
        return "B" + _id("bot", u.id).upper()

    def channel(self) -> dict[str, Any]:
        first = self.order[0] if self.order else None
        creator = self._people(first[1])[0].id if first else ""
        created = first[0] // 1_000_000 if first else 0
        topic = escape(self.chat.topic or "")
        return {
            "id": self.chat.platform_id,
            "name": slack_channel_name(self.chat.name),
            "created": created,
            "creator": creator,
            "is_archived": False,
            "is_general": False,
            "members": list(self.users),
            "pins": [],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {
                "value": topic,
                "creator": creator if topic else "",
                "last_set": created if topic else 0,
            },
        }

    def text(self, m: DemoMessage) -> str:
        text = _URL.sub(lambda u: f"<{u.group(0)}>", escape(m.text))
        for u in dict.fromkeys(m.mentions):
            at = escape(f"@{u.name}")
            found = bool(u.name) and at in text
            text = text.replace(at, f"<@{u.id}>") if found else f"<@{u.id}> {text}"
        return text

    def message(self, m: DemoMessage) -> dict[str, Any]:
        ts = self.ts[m.id]
        out: dict[str, Any] = {
            "client_msg_id": "-".join(_id("msg", m.id, length=32)[i : i + 8] for i in (0, 8)),
            "type": "message",
            "text": self.text(m),
            "user": m.sender.id,
            "ts": ts,
            "team": _TEAM,
            "user_team": _TEAM,
            "source_team": _TEAM,
            "user_profile": {
                "avatar_hash": "g" + _id("avatar", m.sender.id, length=11),
                "first_name": m.sender.name.split(" ")[0],
                "real_name": m.sender.name,
                "display_name": m.sender.name,
                "team": _TEAM,
                "name": self.handle(m.sender),
                "is_restricted": False,
                "is_ultra_restricted": False,
            },
        }
        if m.sender.is_bot:
            out["bot_id"] = self.bot_id(m.sender)
            out["bot_profile"] = {"id": out["bot_id"], "name": m.sender.name, "deleted": False}
        if m.kind in ("media", "file"):
            out["subtype"] = "file_share"
            out["files"] = [self.file(m)]
            out["upload"] = True
            out["display_as_bot"] = False
        if m.edited_at is not None:
            out["edited"] = {"user": m.sender.id, "ts": _ts(_micros(m.edited_at))}
        self.threading(m, out)
        reactions = self.reactions(m)
        if reactions:
            out["reactions"] = reactions
        return out

    def threading(self, m: DemoMessage, out: dict[str, Any]) -> None:
        ts, root = self.ts[m.id], self.thread[m.id]
        if root != ts:
            out["thread_ts"] = root
            out["parent_user_id"] = self.author.get(root, "")
            return
        replies = self.replies.get(ts)
        if not replies:
            return
        users = list(dict.fromkeys(u for u, _ in replies))
        out.update(
            thread_ts=ts,
            reply_count=len(replies),
            reply_users_count=len(users),
            latest_reply=replies[-1][1],
            reply_users=users,
            replies=[{"user": u, "ts": r} for u, r in replies],
            is_locked=False,
            subscribed=False,
        )

    def file(self, m: DemoMessage) -> dict[str, Any]:
        file_id = "F" + _id("file", m.id).upper()
        image = m.kind == "media"
        name, kind = ("image.png", "png") if image else ("notes.pdf", "pdf")
        created = int(self.ts[m.id].split(".")[0])
        return {
            "id": file_id,
            "created": created,
            "timestamp": created,
            "name": name,
            "title": name,
            "mimetype": "image/png" if image else "application/pdf",
            "filetype": kind,
            "pretty_type": kind.upper(),
            "user": m.sender.id,
            "mode": "hosted",
            "size": 20_000 + int(_id("size", m.id, length=6), 16) % 900_000,
            "url_private": f"https://files.slack.com/files-pri/{_TEAM}-{file_id}/{name}",
        }

    def reactions(self, m: DemoMessage) -> list[dict[str, Any]]:
        by_name: dict[str, list[str]] = {}
        for emoji, who in m.reactions:
            users = by_name.setdefault(emoji_name(emoji), [])
            if who.id not in users:
                users.append(who.id)
        return [{"name": n, "users": u, "count": len(u)} for n, u in by_name.items()]

    def event(self, e: DemoEvent) -> dict[str, Any]:
        joined = e.action == "join"
        out: dict[str, Any] = {
            "type": "message",
            "subtype": "channel_join" if joined else "channel_leave",
            "ts": self.ts[e.id],
            "user": e.member.id,
            "text": f"<@{e.member.id}> has {'joined' if joined else 'left'} the channel",
        }
        if joined and e.actor is not None:
            out["inviter"] = e.actor.id
        return out

    def day(self, micros: int) -> str:
        return (_EPOCH + timedelta(microseconds=micros)).astimezone(self.tz).date().isoformat()


def write(chat: DemoChat, out_dir: Path) -> Path:
    """Write `chat` as a Slack export folder `out_dir/slack-export`; return that folder."""
    writer = _Writer(chat)
    root = out_dir / "slack-export"
    channel = writer.channel()
    folder = root / channel["name"]
    folder.mkdir(parents=True, exist_ok=True)
    (root / "users.json").write_text(
        _dump([writer.user(u) for u in writer.users.values()]), encoding="utf-8"
    )
    (root / "channels.json").write_text(_dump([channel]), encoding="utf-8")
    day: str | None = None
    batch: list[dict[str, Any]] = []
    for micros, item in writer.order:
        this_day = writer.day(micros)
        if this_day != day and batch:
            (folder / f"{day}.json").write_text(_dump(batch), encoding="utf-8")
            batch = []
        day = this_day
        batch.append(writer.message(item) if isinstance(item, DemoMessage) else writer.event(item))
    if batch:
        (folder / f"{day}.json").write_text(_dump(batch), encoding="utf-8")
    return root
