"""DiscordChatExporter message objects -> shared records (used by `shequn.platforms.discord`).

Validates every field it reads, raising InputError naming the field; the caller adds the file and
the message id. Lenient about keys older DCE versions lack (stickers, forwardedMessage, ...).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    JoinSource,
    MembershipAction,
    MembershipEvent,
    Message,
    MessageKind,
    Reaction,
    Record,
)
from shequn.platforms.util import find_links

log = logging.getLogger(__name__)

# .NET writes up to 7 fractional digits (ticks); older Pythons' fromisoformat stops at 6.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")
# DCE treats kinds 1..18 as system notifications; these are their enum names. Unnamed kinds are
# written as their number, PollResult (46) is named and also a notification.
# fmt: off
_SYSTEM_KINDS = frozenset({
    "RecipientAdd", "RecipientRemove", "Call", "ChannelNameChange", "ChannelIconChange",
    "ChannelPinnedMessage", "GuildMemberJoin", "ThreadCreated", "PollResult",
})
_IMAGE_VIDEO = frozenset({
    "png", "jpg", "jpeg", "gif", "webp", "bmp", "heic", "heif", "avif", "tif", "tiff", "svg",
    "mp4", "mov", "webm", "mkv", "avi", "m4v",
})
# fmt: on


def parse_time(value: object, *, field: str) -> datetime:
    """A DCE timestamp (ISO 8601 with its UTC offset, up to 7 fraction digits) as aware UTC."""
    if not isinstance(value, str):
        raise InputError(
            f"expected an ISO 8601 time string, got {type(value).__name__}", field=field
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", value, count=1))
        except ValueError as exc:
            raise InputError(f"not an ISO 8601 time: {value[:40]!r}", field=field) from exc
    if parsed.tzinfo is None:
        # DCE always writes an offset; guessing a zone would silently shift every message.
        raise InputError(f"time has no UTC offset: {value[:40]!r}", field=field)
    return parsed.astimezone(UTC)


def parse_id(value: object, *, field: str) -> str:
    """A snowflake id (DCE writes strings; numbers are accepted) as a string."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise InputError("missing or not an id", field=field)


def opt_str(value: object) -> str | None:
    """A non-empty string, or None for anything else (null, missing, wrong type)."""
    return value if isinstance(value, str) and value else None


def _list(value: object, *, field: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"expected an array, got {type(value).__name__}", field=field)
    return value


def _account(user: object, *, field: str) -> AccountRef:
    """A DCE user object (or a bare id, in normalized exports) as an AccountRef."""
    if isinstance(user, str | int) and not isinstance(user, bool):
        return AccountRef(platform_id=parse_id(user, field=field))
    if not isinstance(user, dict):
        raise InputError("expected a user object", field=field)
    name = opt_str(user.get("name"))
    return AccountRef(
        platform_id=parse_id(user.get("id"), field=f"{field}.id"),
        name=opt_str(user.get("nickname")) or name,
        username=name,
        is_bot=user.get("isBot") is True,
    )


def _is_system(kind: str) -> bool:
    if kind in _SYSTEM_KINDS:
        return True
    return kind.isascii() and kind.isdigit() and 1 <= int(kind) <= 18


def _attachment_kind(attachments: list[Any]) -> MessageKind:
    """The first attachment decides: images and videos are media, the rest files."""
    first = attachments[0]
    name = ""
    if isinstance(first, dict):
        name = opt_str(first.get("fileName")) or opt_str(first.get("url")) or ""
    name = PurePosixPath(name.split("?", 1)[0]).name.lower()
    if name.startswith("voice-message."):
        return "voice"  # Discord's voice messages are attachments with this name
    return "media" if name.rsplit(".", 1)[-1] in _IMAGE_VIDEO else "file"


class MessageReader:
    """Turns one DCE message object into records, for one channel of one file."""

    def __init__(self, channel_id: str) -> None:
        self.channel_id = channel_id

    def records(self, m: dict[str, Any]) -> list[Record]:
        message_id = parse_id(m.get("id"), field="id")
        kind = m.get("type", "Default")
        if not isinstance(kind, str):
            raise InputError("expected a message type name", field="type")
        sent_at = parse_time(m.get("timestamp"), field="timestamp")
        if kind == "GuildMemberJoin" or kind.startswith("Recipient"):
            return self._membership(m, kind, message_id, sent_at)
        if _is_system(kind):
            log.debug("skipping system message %s of kind %s", message_id, kind)
            return []
        return [self._message(m, message_id, sent_at), *self._reactions(m, message_id)]

    def _author(self, m: dict[str, Any]) -> AccountRef | None:
        if "author" in m:
            return _account(m["author"], field="author")
        if "authorId" in m:
            return _account(m["authorId"], field="authorId")
        return None

    def _mentions(self, m: dict[str, Any]) -> list[AccountRef]:
        if "mentionIds" in m:
            return [
                _account(u, field="mentionIds") for u in _list(m["mentionIds"], field="mentionIds")
            ]
        return [_account(u, field="mentions") for u in _list(m.get("mentions"), field="mentions")]

    def _message(self, m: dict[str, Any], message_id: str, sent_at: datetime) -> Message:
        content = m.get("content")
        if content is not None and not isinstance(content, str):
            raise InputError("expected a string", field="content")
        text = content or ""
        attachments = _list(m.get("attachments"), field="attachments")
        stickers = _list(m.get("stickers"), field="stickers")
        reference = m.get("reference")
        if reference is not None and not isinstance(reference, dict):
            raise InputError("expected an object", field="reference")
        ref_type = reference.get("type") if reference else None
        forward = m.get("forwardedMessage")
        forwarded = isinstance(forward, dict) or ref_type == "Forward"
        if isinstance(forward, dict):
            inner = forward.get("content")
            if not text and isinstance(inner, str):
                text = inner
            attachments = attachments or _list(
                forward.get("attachments"), field="forwardedMessage.attachments"
            )
            stickers = stickers or _list(forward.get("stickers"), field="forwardedMessage.stickers")
        edited = m.get("timestampEdited")
        return Message(
            community_id=self.channel_id,
            message_id=message_id,
            sent_at=sent_at,
            sender=self._author(m),
            text=text,
            kind=self._kind(attachments, stickers),
            reply_to=self._reply_to(reference, ref_type),
            mentions=[a.platform_id for a in self._mentions(m)],
            links=find_links(text),
            edited_at=None if edited is None else parse_time(edited, field="timestampEdited"),
            forwarded=forwarded,
        )

    @staticmethod
    def _kind(attachments: list[Any], stickers: list[Any]) -> MessageKind:
        if stickers:
            return "sticker"
        if attachments:
            return _attachment_kind(attachments)
        return "text"

    def _reply_to(self, reference: dict[str, Any] | None, ref_type: object) -> str | None:
        # A reference also marks forwards and thread starters, which point into other channels.
        if not reference or ref_type == "Forward":
            return None
        channel = reference.get("channelId")
        if channel is not None and str(channel) != self.channel_id:
            return None
        target = reference.get("messageId")
        return None if target is None else parse_id(target, field="reference.messageId")

    def _reactions(self, m: dict[str, Any], message_id: str) -> list[Record]:
        out: list[Record] = []
        for j, r in enumerate(_list(m.get("reactions"), field="reactions")):
            where = f"reactions[{j}]"
            if not isinstance(r, dict):
                raise InputError("expected a reaction object", field=where)
            emoji = self._emoji(r, where)
            users = [
                _account(u, field=f"{where}.users")
                for u in _list(r.get("users", r.get("userIds")), field=f"{where}.users")
            ]
            count = r.get("count", len(users) or 1)
            if isinstance(count, float) and count.is_integer():
                count = int(count)
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise InputError("expected a reaction count", field=f"{where}.count")
            out.extend(Reaction(self.channel_id, message_id, emoji, reactor=u) for u in users)
            if count > len(users):
                # No user list (or a partial one): keep the rest of the count anonymously.
                out.append(Reaction(self.channel_id, message_id, emoji, count=count - len(users)))
        return out

    @staticmethod
    def _emoji(r: dict[str, Any], where: str) -> str:
        emoji = r.get("emoji")
        if isinstance(emoji, dict):
            for key in ("name", "code", "id"):
                if opt_str(emoji.get(key)):
                    return str(emoji[key])
        elif opt_str(r.get("emojiKey")):
            return str(r["emojiKey"])
        raise InputError("reaction without an emoji name", field=f"{where}.emoji")

    def _membership(
        self, m: dict[str, Any], kind: str, message_id: str, at: datetime
    ) -> list[Record]:
        author = self._author(m)
        if author is None:
            raise InputError("system message without an author", field="author")
        mentioned = self._mentions(m)
        first = mentioned[0] if mentioned else None

        def event(
            member: AccountRef,
            action: MembershipAction,
            actor: AccountRef | None = None,
            source: JoinSource = "unknown",
        ) -> list[Record]:
            return [
                MembershipEvent(
                    self.channel_id,
                    member,
                    action,
                    at,
                    actor=actor,
                    source=source,
                    message_id=message_id,
                )
            ]

        if kind == "GuildMemberJoin":
            return event(author, "join")
        if kind == "RecipientAdd":
            if first is None:
                log.debug("RecipientAdd %s names nobody; skipped", message_id)
                return []
            return event(first, "join", author, "invite")
        if kind == "RecipientRemove":
            if first is None or first.platform_id == author.platform_id:
                return event(author, "leave")
            return event(first, "remove", author)
        return []  # another Recipient* kind Discord may add: nothing we can read from it
