"""The shared parsed format: every platform reader yields these records, the store writes them.

A reader yields a `Community` before any record that names it (by `community_id`, the
platform's own id of the group). People are named by `AccountRef`: the platform's id of the
account where the export has one, else only the display name (`by_name=True`), which the store
resolves against the names it has seen in that group.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

MessageKind = Literal[
    "text",
    "media",
    "sticker",
    "file",
    "link",
    "voice",
    "location",
    "contact",
    "poll",
    "system",
    "red_packet",
    "transfer",
    "call",
    "other",
]
MembershipAction = Literal["join", "leave", "remove"]
JoinSource = Literal["invite", "link", "qr", "request", "create", "unknown"]
CommunityType = Literal["interest", "brand", "knowledge", "product", "learning"]
ExportRole = Literal["owner", "admin", "operator", "member"]


@dataclass(slots=True, frozen=True)
class AccountRef:
    """One platform identity as the export names it."""

    platform_id: str
    name: str | None = None
    username: str | None = None
    is_bot: bool = False
    by_name: bool = False  # platform_id is unknown; `name` is all the export gives


@dataclass(slots=True)
class Community:
    """A chat group (or channel) as the export describes it."""

    platform: str
    platform_id: str
    name: str
    chat_type: str | None = None  # the platform's own word: supergroup, channel, group, ...
    topic: str | None = None
    timezone: str | None = None


@dataclass(slots=True)
class Message:
    """One message. `sent_at` and `edited_at` are timezone-aware UTC datetimes."""

    community_id: str
    message_id: str
    sent_at: datetime
    sender: AccountRef | None
    text: str
    kind: MessageKind = "text"
    reply_to: str | None = None  # platform message id of the message replied to
    thread_id: str | None = None
    mentions: list[str] = field(default_factory=list)  # platform ids (or names) of accounts
    links: list[str] = field(default_factory=list)
    edited_at: datetime | None = None
    deleted: bool = False
    forwarded: bool = False


@dataclass(slots=True)
class MembershipEvent:
    """A join, voluntary leave or removal of `member` at `at` (UTC)."""

    community_id: str
    member: AccountRef
    action: MembershipAction
    at: datetime
    actor: AccountRef | None = None  # who invited or removed; None when unknown
    source: JoinSource = "unknown"
    message_id: str | None = None  # the service message that announced it, if any


@dataclass(slots=True)
class Reaction:
    """A reaction on a message; `reactor` None when the export gives only a count."""

    community_id: str
    message_id: str
    emoji: str
    reactor: AccountRef | None = None
    count: int = 1
    at: datetime | None = None


@dataclass(slots=True)
class MemberRole:
    """A role the export states for a member of a group (QQ 【群主】, a Slack admin, …).

    Yielded after the group's Community; the store keeps it as an "import" role, which never
    replaces a role the operator set (shequn.store.roles). When an export names a member's role
    more than once, the last record wins.
    """

    community_id: str
    member: AccountRef
    role: ExportRole


Record = Community | Message | MembershipEvent | Reaction | MemberRole
