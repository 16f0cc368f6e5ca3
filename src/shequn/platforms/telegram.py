"""Telegram Desktop "Export chat history" JSON (result.json), FORMATS.md §1.

Both shapes: a single chat `{name, type, id, messages}` and a full-account export, whose
`chats.list` and `left_chats.list` each hold such chats. Every chat is a community
(platform_id = the chat id), personal and bot chats included, except "saved_messages" and
"replies" inside a full-account export. A single-chat file of saved messages is imported (as
"Saved Messages"): the operator pointed at that file. A folder or zip is read for every
result.json in it. Splitting the file into messages is telegram_stream's job.

What becomes what:
- "message" -> Message, plus a Reaction per `reactions[].recent[]` entry and one count-only
  Reaction for the rest of `count` (`recent` lists only the last few). "unsupported" -> nothing.
- "service" -> MembershipEvent for member actions, nothing for the others (pins, titles, calls,
  migrations, ...): records keep to what members said and did.
  invite_members -> join (invite; members by name), except a member adding themselves, which is
  how a public group shows someone joining on their own (source unknown; by id);
  join_group_by_link -> join (link; inviter by name); join_group_by_request -> join (request);
  remove_members -> leave when the member is the actor, else remove (by name);
  create_group / create_channel -> join (create) of the creator and of the members.
- Times come from `date_unixtime`; `date` (the exporting machine's local time, no offset) is
  read through --tz only in older exports that lack it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import Any, ClassVar

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    Community,
    JoinSource,
    MembershipAction,
    MembershipEvent,
    Message,
    MessageKind,
    Reaction,
    Record,
)
from shequn.platforms.base import ParseContext, Parser, Source, register
from shequn.platforms.telegram_stream import chat_events
from shequn.platforms.util import find_links

log = logging.getLogger(__name__)

_SKIPPED_IN_ACCOUNT = {"saved_messages", "replies"}
_UNNAMED = {"saved_messages": "Saved Messages", "replies": "Replies"}
_MEDIA_KIND: dict[str, MessageKind] = {
    "sticker": "sticker",
    "voice_message": "voice",
    "video_message": "media",
    "animation": "media",
    "video_file": "media",
    "audio_file": "file",
}
_RARE_KINDS: dict[str, MessageKind] = {
    "poll": "poll",
    "location_information": "location",
    "place_name": "location",
    "contact_information": "contact",
    "game_title": "other",
    "invoice_information": "other",
    "giveaway_information": "other",
    "paid_stars_amount": "other",
}
_RARE_KEYS = frozenset(_RARE_KINDS)
_MEMBER_ACTIONS = frozenset(
    {"invite_members", "remove_members", "join_group_by_link", "join_group_by_request"}
    | {"create_group", "create_channel"}
)
_BAD_DATA = (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError)
_fromtimestamp = datetime.fromtimestamp


class _Chats:
    """Turns the events of one file into records."""

    def __init__(self, ctx: ParseContext, display: str, seen: set[str]) -> None:
        self.ctx = ctx
        self.display = display
        self.seen = seen  # communities already yielded (over all files of one source)
        self.cid: str | None = None  # the chat being read; None while skipping one
        self.accounts: dict[tuple[Any, Any], AccountRef | None] = {}
        self.repeats: dict[tuple[int, str, str], int] = {}  # for messages without an id
        self.warned_local = False

    def chat(self, header: dict[str, Any], section: str) -> Community | None:
        """The community of a chat whose messages start; None if known or not imported."""
        chat_type = header.get("type") if isinstance(header.get("type"), str) else None
        name = header.get("name") if isinstance(header.get("name"), str) else None
        chat_id = header.get("id")
        self.cid = None
        if section and chat_type in _SKIPPED_IN_ACCOUNT:
            return None
        if isinstance(chat_id, int | str) and not isinstance(chat_id, bool):
            cid = str(chat_id)
        elif section and name:
            # chat-miner's minimal account file has chats without ids; the name is all there is
            cid = f"name:{name}"
            self.ctx.warnings.append(f"{self.display}: chat {name!r} has no id; named by its name")
        else:
            raise InputError(
                "no chat 'id' before the messages: Telegram Desktop writes name, type and id "
                "first; this file has them in another order or has no id",
                file=self.display,
                field="id",
            )
        self.cid = cid
        if cid in self.seen:
            return None
        self.seen.add(cid)
        name = name or _UNNAMED.get(chat_type or "", cid)
        return Community(platform="telegram", platform_id=cid, name=name, chat_type=chat_type)

    def batch(self, objects: list[Any]) -> list[Record]:
        """The records of a batch of message objects; bad ones go to ctx.skip_or_raise."""
        out: list[Record] = []
        cid = self.cid
        if cid is None:
            return out
        for m in objects:
            try:
                kind = m.get("type", "message")
                if kind == "message":
                    message = self.message(cid, m)
                    out.append(message)
                    if "reactions" in m:
                        out.extend(self.reactions(cid, m, message))
                elif kind == "service":
                    if m.get("action") in _MEMBER_ACTIONS:
                        out.extend(self.service(cid, m))
                elif kind != "unsupported":
                    raise InputError(f"unknown message type {kind!r}", field="type")
            except InputError as err:
                self.ctx.skip_or_raise(err.located(file=self.display, record=_record(m)))
            except _BAD_DATA as exc:
                log.debug("malformed message in %s", self.display, exc_info=True)
                self.ctx.skip_or_raise(
                    InputError(f"malformed message: {exc!r}", file=self.display, record=_record(m))
                )
        return out

    def message(self, cid: str, m: dict[str, Any]) -> Message:
        # The hot path: a few dict look-ups per message, the rare cases in helpers.
        unix = m.get("date_unixtime")
        if unix is None:
            sent_at = self.local_time(m)
        else:
            try:
                sent_at = _fromtimestamp(int(unix), UTC)
            except _BAD_DATA as exc:
                raise InputError(f"not an epoch time: {unix!r}", field="date_unixtime") from exc
        key = (m.get("from_id"), m.get("from"))
        try:
            sender = self.accounts[key]
        except KeyError:
            sender = self.account(*key)
        parts = m.get("text_entities")
        if parts is not None and len(parts) == 1 and parts[0].get("type") == "plain":
            text = parts[0]["text"]
            if type(text) is not str:
                raise InputError("entity text is not a string", field="text_entities")
            mentions: list[str] = []
            links = find_links(text) if "://" in text else []
        elif parts == []:
            text, mentions, links = "", [], []
        else:
            text, mentions, links = _text(m if parts is None else parts)
        if "media_type" in m:
            kind = _MEDIA_KIND.get(m["media_type"], "media")
        elif "photo" in m:
            kind = "media"
        elif "file" in m:
            kind = "file"
        elif _RARE_KEYS.isdisjoint(m):
            kind = "text"
        else:
            kind = next(_RARE_KINDS[k] for k in _RARE_KINDS if k in m)
        reply = m.get("reply_to_message_id")
        if reply is not None:
            reply = _reply_to(m, reply)
        # Caveat (tdesktop #30647): the server marks a message edited when it gets its first
        # reaction, so edited_at may be the time of that reaction rather than of an edit.
        edited = m.get("edited_unixtime")
        if edited is not None:
            edited_at: datetime | None = _epoch(edited, "edited_unixtime")
        else:
            edited_at = None if unix is not None else self.old_edited(m, sent_at)
        mid = m.get("id")
        if type(mid) is int:
            message_id = str(mid)
        elif mid is None:
            message_id = self.made_up_id(sent_at, sender, text)
        else:
            message_id = _message_id(mid, "id")
        forwarded = "forwarded_from" in m
        return Message(
            cid, message_id, sent_at, sender, text, kind, reply, None, mentions, links,
            edited_at, False, forwarded,
        )  # fmt: skip

    def local_time(self, m: dict[str, Any]) -> datetime:
        """`date` of an export older than date_unixtime: local time, read through --tz."""
        if not self.warned_local:
            self.warned_local = True
            self.ctx.warnings.append(
                f"{self.display}: an older export without date_unixtime; its local times "
                f"were read in {self.ctx.tz} (set --tz to the exporting computer's zone)"
            )
        return self.local(m.get("date"), "date")

    def local(self, value: Any, field: str) -> datetime:
        when = _date(value, field)
        return self.ctx.localize(when) if when.tzinfo is None else when.astimezone(UTC)

    def old_edited(self, m: dict[str, Any], sent_at: datetime) -> datetime | None:
        """An older export's local `edited`, which is "1970-01-01T…" when never edited."""
        when = None if m.get("edited") is None else self.local(m["edited"], "edited")
        return when if when is not None and when > sent_at else None

    def account(self, peer: Any, name: Any) -> AccountRef | None:
        """from_id "user123" / "channel123" (or an older plain int) and the display name."""
        if len(self.accounts) > 200_000:
            self.accounts.clear()
        if name is not None and not isinstance(name, str):
            raise InputError(f"a name is not a string: {name!r}", field="from")
        ref = None
        if isinstance(peer, str):
            ref = AccountRef(platform_id=peer, name=name)
        elif isinstance(peer, int) and not isinstance(peer, bool):
            ref = AccountRef(platform_id=f"user{peer}", name=name)
        elif peer is not None:
            raise InputError(f"not a Telegram id: {peer!r}", field="from_id")
        elif name:
            ref = _by_name(name)  # no id: chat-miner's minimal files
        self.accounts[(peer, name)] = ref
        return ref

    def made_up_id(self, sent_at: datetime, sender: AccountRef | None, text: str) -> str:
        """A deterministic id for a message the export gives none (chat-miner's test file)."""
        key = sender.platform_id if sender else ""
        seconds = int(sent_at.timestamp())
        k = self.repeats.get((seconds, key, text), 0)
        self.repeats[(seconds, key, text)] = k + 1
        digest = blake2b((key + "\x00" + text).encode(), digest_size=6).hexdigest()
        return f"{seconds}-{digest}-{k}"

    def reactions(self, cid: str, m: dict[str, Any], message: Message) -> list[Reaction]:
        out: list[Reaction] = []
        offset = _local_offset(m, message.sent_at)
        for r in m["reactions"] or ():
            kind = r.get("type")
            if kind == "emoji":
                emoji = r.get("emoji")
            elif kind == "custom_emoji":
                emoji = f"custom:{r.get('document_id')}"
            else:
                emoji = str(kind)  # "paid" (stars), and types newer than this reader
            count = r.get("count", 1)
            if not isinstance(emoji, str) or not emoji or not isinstance(count, int):
                raise InputError(f"a reaction without emoji or count: {r!r}", field="reactions")
            recent = r.get("recent") or []
            for who in recent:
                key = (who.get("from_id"), who.get("from"))
                try:
                    reactor = self.accounts[key]
                except KeyError:
                    reactor = self.account(*key)
                date = who.get("date")
                at = None if date is None else self.reaction_time(date, offset)
                out.append(Reaction(cid, message.message_id, emoji, reactor, 1, at))
            if count > len(recent):  # `recent` names only the last few who reacted
                out.append(Reaction(cid, message.message_id, emoji, None, count - len(recent)))
        return out

    def reaction_time(self, date: Any, offset: timedelta | None) -> datetime:
        """`recent[].date` is local time without an offset, and has no unixtime companion."""
        if offset is None:
            return self.local(date, "reactions.recent.date")
        local = _date(date, "reactions.recent.date")
        return local.astimezone(UTC) if local.tzinfo else local.replace(tzinfo=UTC) - offset

    def service(self, cid: str, m: dict[str, Any]) -> Iterator[MembershipEvent]:
        """The joins and departures a service message announces (see the module docstring)."""
        action = m["action"]
        at = self.local_time(m) if m.get("date_unixtime") is None else _epoch(m["date_unixtime"])
        actor = self.account(m.get("actor_id"), m.get("actor"))
        message_id = _record(m)
        members = m.get("members") or []
        if not isinstance(members, list):
            raise InputError("'members' is not a list", field="members")
        names = [n for n in members if isinstance(n, str) and n]  # null: a deleted account

        def event(
            who: AccountRef, what: MembershipAction, by: AccountRef | None, how: JoinSource
        ) -> MembershipEvent:
            return MembershipEvent(cid, who, what, at, by, how, message_id)

        me = actor.name if actor is not None else None
        if action == "invite_members":
            for name in names:
                if actor is not None and name == me:
                    yield event(actor, "join", None, "unknown")
                else:
                    yield event(_by_name(name), "join", actor, "invite")
        elif action == "remove_members":
            for name in names:
                if actor is not None and name == me:
                    yield event(actor, "leave", None, "unknown")
                else:
                    yield event(_by_name(name), "remove", actor, "unknown")
        elif actor is None:
            log.debug("%s without an actor in %s", action, self.display)
        elif action == "join_group_by_link":
            inviter = m.get("inviter")
            by = _by_name(inviter) if isinstance(inviter, str) and inviter else None
            yield event(actor, "join", by, "link")
        elif action == "join_group_by_request":
            yield event(actor, "join", None, "request")
        else:  # create_group, create_channel: the creator, then whom they added
            yield event(actor, "join", None, "create")
            for name in names:
                if name != me:
                    yield event(_by_name(name), "join", actor, "create")


def _by_name(name: str) -> AccountRef:
    return AccountRef(platform_id=name, name=name, by_name=True)


def _message_id(value: Any, field: str) -> str:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return str(value)
    raise InputError(f"not a message id: {value!r}", field=field)


def _reply_to(m: dict[str, Any], reply: Any) -> str | None:
    if "reply_to_peer_id" in m:
        return None  # a reply to another chat's message points outside this community
    return _message_id(reply, "reply_to_message_id")


def _record(m: Any) -> str | None:
    if isinstance(m, dict) and m.get("id") is not None:
        return str(m["id"])
    return None


def _epoch(value: Any, field: str = "date_unixtime") -> datetime:
    try:
        return _fromtimestamp(int(value), UTC)
    except _BAD_DATA as exc:
        raise InputError(f"not an epoch time: {value!r}", field=field) from exc


def _local_offset(m: dict[str, Any], sent_at: datetime) -> timedelta | None:
    """The exporting machine's UTC offset at `sent_at`, from the message's `date` (local) and
    `date_unixtime`; right for its reactions unless a DST change falls in between."""
    date = m.get("date")
    if date is None or m.get("date_unixtime") is None:
        return None
    local = _date(date, "date")
    return None if local.tzinfo is not None else local.replace(tzinfo=UTC) - sent_at


def _date(value: Any, field: str) -> datetime:
    """tdesktop's `date`: local time of the exporting machine, without an offset."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not a date: {value!r}", field=field) from exc


def _text(source: Any) -> tuple[str, list[str], list[str]]:
    """Text, mentions and links from `text_entities`, or from an older export's `text` (a
    string or an array mixing strings and entity objects) when `source` is the message."""
    parts = source.get("text", "") if isinstance(source, dict) else source
    if isinstance(parts, str):
        return parts, [], find_links(parts)
    if not isinstance(parts, list):
        raise InputError("text is neither a string nor a list", field="text_entities")
    texts: list[str] = []
    mentions: list[str] = []
    links: list[str] = []
    for part in parts:
        text = part if isinstance(part, str) else part["text"]
        if not isinstance(text, str):
            raise InputError("entity text is not a string", field="text_entities")
        texts.append(text)
        kind = None if isinstance(part, str) else part.get("type")
        if kind == "mention":
            mentions.append(text[1:] if text.startswith("@") else text)
        elif kind == "mention_name":
            user_id = part.get("user_id")
            mentions.append(user_id if isinstance(user_id, str) else f"user{int(user_id)}")
        elif kind == "link":
            links.append(text)
        elif kind == "text_link":
            links.append(part.get("href") or text)
    joined = "".join(texts)
    return joined, mentions, links or find_links(joined)


def _looks_like_telegram(head: bytes) -> int:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"{") or b'"guild"' in text:
        return 0
    if b'"personal_information"' in text or (b'"chats"' in text and b'"list"' in text):
        return 90
    if b'"messages"' not in text:
        return 0
    markers = (b'"date_unixtime"', b'"from_id"', b'"text_entities"', b'"actor_id"')
    types = (b'_supergroup"', b'_channel"', b'"private_group"', b'_chat"', b'"saved_messages"')
    if any(k in text for k in markers) or any(t in text for t in types):
        return 95
    return 40 if b'"date"' in text else 0


@register
class TelegramDesktopParser(Parser):
    """Reads Telegram Desktop JSON exports (result.json, or a folder or zip holding them)."""

    name: ClassVar[str] = "telegram"
    title: ClassVar[str] = "Telegram Desktop JSON (result.json)"
    platform: ClassVar[str] = "telegram"

    @classmethod
    def sniff(cls, source: Source) -> int:
        if source.is_file:
            if not source.path.name.lower().endswith(".json"):
                return 0
            return _looks_like_telegram(source.head(4096))
        found = [n for n in source.names() if n.rsplit("/", 1)[-1] == "result.json"]
        return max((_looks_like_telegram(source.head(4096, n)) for n in found[:5]), default=0)

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        if source.is_file:
            names: list[str | None] = [None]
        else:
            names = [n for n in source.names() if n.rsplit("/", 1)[-1] == "result.json"]
            if not names:
                raise InputError("no result.json in this folder or zip", file=source.display())
        seen: set[str] = set()
        for name in names:
            chats = _Chats(ctx, source.display(name), seen)
            started = False
            for kind, value, extra in chat_events(source, ctx, name):
                if kind == "batch":
                    yield from chats.batch(value)
                elif kind == "chat":
                    started = True
                    community = chats.chat(value, extra)
                    if community is not None:
                        yield community
                elif not started:  # broken before any chat: not an export we can read
                    raise value
                else:  # a message that is not JSON, or a break that ends the file
                    ctx.skip_or_raise(value)
                    if extra != "record":
                        break
            if not started:
                raise InputError(
                    "no chat with a 'messages' array: not a Telegram Desktop JSON export",
                    file=source.display(name),
                )
