"""Slack message objects -> shared records (used by `shequn.platforms.slack`).

The rules (what each subtype becomes, how names, times, text and markup are read) are described
in `shequn.platforms.slack`. Every field read is checked; errors name the field and the caller
adds the file and the record index.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from shequn.errors import InputError
from shequn.model.records import (
    AccountRef,
    ExportRole,
    MembershipEvent,
    Message,
    Reaction,
    Record,
)
from shequn.platforms.util import find_links

log = logging.getLogger(__name__)

SLACKBOT = "USLACKBOT"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TS = re.compile(r"([0-9]{1,11})(?:\.([0-9]{1,9}))?")
_MARKUP = re.compile(r"<([^<>]*)>")
_MEMBERSHIP = {
    "channel_join": "join",
    "group_join": "join",
    "channel_leave": "leave",
    "group_leave": "leave",
}
_NOTICES = frozenset(
    {"bot_add", "bot_remove", "bot_enable", "bot_disable", "pinned_item", "unpinned_item"}
    | {"reminder_add", "ekm_access_denied"}
)


def unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and > (and nothing else), as a single pass would."""
    if "&" not in text:
        return text
    # &amp; last, so that "&amp;lt;" (the user typed "&lt;") stays "&lt;"
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def parse_ts(value: object, *, field: str = "ts") -> datetime:
    """A Slack `ts` ("1433558319.000002") as aware UTC, exact to the microsecond."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = f"{value:.6f}"
    if not isinstance(value, str):
        raise InputError("missing or not a Slack ts", field=field)
    m = _TS.fullmatch(value)
    if m is None:
        raise InputError(f"not a Slack ts: {value[:40]!r}", field=field)
    micros = int((m.group(2) or "").ljust(6, "0")[:6])
    return _EPOCH + timedelta(seconds=int(m.group(1)), microseconds=micros)


def read_markup(raw: str) -> tuple[list[str], list[str]]:
    """(mentioned user ids, link URLs) of a message's stored (still escaped) text."""
    mentions: list[str] = []
    links: list[str] = []
    for m in _MARKUP.finditer(raw):
        target = m.group(1).split("|", 1)[0]
        if target.startswith("@") and len(target) > 1:
            mentions.append(target[1:])
        elif "://" in target:
            links.append(unescape(target))
    if "://" in raw:  # URLs Slack did not wrap (messages posted through the API)
        links.extend(find_links(unescape(_MARKUP.sub(" ", raw))))
    return list(dict.fromkeys(mentions)), list(dict.fromkeys(links))


def opt_str(value: object) -> str | None:
    """A non-empty string, or None for anything else."""
    return value if isinstance(value, str) and value else None


def opt_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def user_account(user: dict[str, Any]) -> AccountRef:
    """A users.json entry as an AccountRef (names in the order the module doc gives)."""
    uid = opt_str(user.get("id"))
    if uid is None:
        raise InputError("user has no id", field="id")
    profile = opt_dict(user.get("profile"))
    name = (
        opt_str(user.get("real_name"))
        or opt_str(profile.get("real_name"))
        or opt_str(profile.get("display_name"))
        or opt_str(user.get("name"))
    )
    return AccountRef(
        platform_id=uid,
        name=name,
        username=opt_str(user.get("name")),
        is_bot=user.get("is_bot") is True or uid == SLACKBOT,
    )


def user_role(user: dict[str, Any]) -> ExportRole | None:
    """The workspace role of a users.json entry: owner, admin, or None for everyone else."""
    if user.get("is_primary_owner") is True or user.get("is_owner") is True:
        return "owner"
    if user.get("is_admin") is True:
        return "admin"
    return None


class MessageReader:
    """Slack message objects of one conversation -> shared records."""

    def __init__(self, community_id: str, users: dict[str, AccountRef]) -> None:
        self.community_id = community_id
        self.users = users

    def account(self, uid: str, profile: object = None) -> AccountRef:
        """The account of a user id: from users.json, else from the message's `user_profile`."""
        known = self.users.get(uid)
        if known is not None:
            return known
        if uid == SLACKBOT:
            return AccountRef(platform_id=uid, name="Slackbot", username="slackbot", is_bot=True)
        p = opt_dict(profile)
        return AccountRef(
            platform_id=uid,
            name=opt_str(p.get("real_name")) or opt_str(p.get("display_name")),
            username=opt_str(p.get("name")),
        )

    def records(self, m: dict[str, Any]) -> list[Record]:
        """The records of one message object: nothing, a Message (+ Reactions) or an event."""
        ts = m.get("ts")
        sent_at = parse_ts(ts)
        message_id = ts if isinstance(ts, str) else f"{ts:.6f}"
        subtype = m.get("subtype")
        if subtype is not None and not isinstance(subtype, str):
            raise InputError("not a string", field="subtype")
        if subtype in _MEMBERSHIP:
            return [self._membership(m, _MEMBERSHIP[subtype], message_id, sent_at)]
        if subtype is not None and (
            subtype in _NOTICES or subtype.startswith(("channel_", "group_"))
        ):
            log.debug("skipping %s notice %s", subtype, message_id)
            return []
        message = self._message(m, subtype, message_id, sent_at)
        return [message, *self._reactions(m, message_id)]

    def _message(
        self, m: dict[str, Any], subtype: str | None, message_id: str, sent_at: datetime
    ) -> Message:
        raw = m.get("text")
        if raw is not None and not isinstance(raw, str):
            raise InputError("not a string", field="text")
        raw = raw or ""
        mentions, links = read_markup(raw)
        thread_ts = opt_str(m.get("thread_ts"))
        edited = m.get("edited")
        edited_at = None
        if isinstance(edited, dict) and edited.get("ts") is not None:
            edited_at = parse_ts(edited["ts"], field="edited.ts")
        files = m.get("files")
        has_files = subtype == "file_share" or (isinstance(files, list) and bool(files))
        return Message(
            community_id=self.community_id,
            message_id=message_id,
            sent_at=sent_at,
            sender=self._sender(m, subtype),
            text=unescape(raw),
            kind="file" if has_files else "text",
            reply_to=thread_ts if thread_ts and thread_ts != message_id else None,
            thread_id=thread_ts,
            mentions=mentions,
            links=links,
            edited_at=edited_at,
            deleted=subtype == "tombstone",
        )

    def _sender(self, m: dict[str, Any], subtype: str | None) -> AccountRef | None:
        if subtype == "bot_message":
            # Webhook and integration posts: the bot is the sender, whoever set it up.
            bot_id = opt_str(m.get("bot_id")) or opt_str(m.get("user"))
            bot_id = bot_id or opt_str(m.get("username"))
            if bot_id is None:
                return None
            profile = opt_dict(m.get("bot_profile"))
            name = opt_str(m.get("username")) or opt_str(profile.get("name"))
            return AccountRef(platform_id=bot_id, name=name, is_bot=True)
        # file_comment messages name the commenter only inside `comment`.
        uid = opt_str(m.get("user")) or opt_str(opt_dict(m.get("comment")).get("user"))
        return self.account(uid, m.get("user_profile")) if uid else None

    def _membership(
        self, m: dict[str, Any], action: str, message_id: str, at: datetime
    ) -> MembershipEvent:
        uid = opt_str(m.get("user"))
        if uid is None:
            raise InputError("a join or leave names no user", field="user")
        inviter = opt_str(m.get("inviter")) if action == "join" else None
        return MembershipEvent(
            community_id=self.community_id,
            member=self.account(uid, m.get("user_profile")),
            action="join" if action == "join" else "leave",
            at=at,
            actor=self.account(inviter) if inviter else None,
            source="invite" if inviter else "unknown",
            message_id=message_id,
        )

    def _reactions(self, m: dict[str, Any], message_id: str) -> list[Record]:
        found = m.get("reactions")
        if found is None:
            return []
        if not isinstance(found, list):
            raise InputError("expected an array", field="reactions")
        out: list[Record] = []
        for i, r in enumerate(found):
            field = f"reactions[{i}]"
            name = opt_str(opt_dict(r).get("name"))
            users = r.get("users") if isinstance(r, dict) else None
            if name is None or not isinstance(users, list):
                raise InputError("expected {name, users, count}", field=field)
            emoji = f":{name}:"
            ids = list(dict.fromkeys(u for u in users if isinstance(u, str) and u))
            for uid in ids:
                out.append(self._reaction(message_id, emoji, self.account(uid), 1))
            count = r.get("count")
            if isinstance(count, int | float) and count > len(ids):
                out.append(self._reaction(message_id, emoji, None, int(count) - len(ids)))
        return out

    def _reaction(
        self, message_id: str, emoji: str, reactor: AccountRef | None, count: int
    ) -> Reaction:
        return Reaction(
            community_id=self.community_id,
            message_id=message_id,
            emoji=emoji,
            reactor=reactor,
            count=count,
        )
