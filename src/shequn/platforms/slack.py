"""Slack workspace export: the folder Slack's "Export data" writes, or its zip (FORMATS.md §3).

Layout: `users.json` (`org_users.json` on Enterprise Grid), `channels.json` and, in
all-conversations exports, `groups.json`, `mpims.json` and `dms.json` at the root (or one folder
down inside a zip); one folder per conversation (its name, or its id for DMs) of `YYYY-MM-DD.json`
day files, each a JSON array of messages. Day files are read one at a time, in date order.

What becomes what:
- Each conversation -> Community (platform_id = its id, chat_type "channel", "private_channel",
  "mpim" or "dm"; topic = purpose, else topic). Its `members` list is a snapshot, not a history,
  so no joins are made from it. A DM is named after its members.
- Account names, in this order: `real_name`, `profile.real_name`, `profile.display_name`, `name`
  (the first non-empty one). The full name comes first because it is what tells people apart
  when accounts are linked across platforms; `name` (the handle) is kept as `username`.
  USLACKBOT and `is_bot` users are bots. Users missing from users.json are named from the
  message's `user_profile` when it has one.
- Roles: Slack's roles are workspace-wide (users.json `is_primary_owner`/`is_owner` -> owner,
  `is_admin` -> admin; there are no channel admins in an export). Each such user is given that
  role (a MemberRole after the Community) in every channel, public or private, whose `members`
  list names them; not in DMs.
- Time comes from `ts` only (never from the day file's name: the day is cut in some zone the
  export does not state). `ts` ("epoch.micro", unique per channel) is the message id.
- Replies: `thread_ts` != `ts` -> reply_to = thread_id = `thread_ts` (Slack threads are flat, so
  that is the thread's first message). The first message itself gets thread_id = its own ts.
- Subtypes: channel_join / group_join -> MembershipEvent join (actor = `inviter`, source "invite"
  when there is one); channel_leave / group_leave -> leave (Slack writes removals the same way).
  Other channel_* / group_* notices, bot_add/remove, pinned/unpinned_item and reminder_add are
  not messages and yield nothing; reactions on them are dropped too, having no message to name.
  file_share (or a non-empty `files`) -> kind "file"; bot_message -> sent by the bot (`bot_id`,
  else `user`, else `username`), is_bot; tombstone -> deleted; file_comment -> a message by the
  commenter. Every other subtype is kept as an ordinary message.
- Text: Slack stores `&`, `<` and `>` HTML-escaped; those three (only) are unescaped because the
  user typed "&", not "&amp;". Markup (`<@U123|name>`, `<#C123|chan>`, `<url|label>`) is kept as
  stored. Mentions (user ids) and links are read from the markup *before* unescaping, so an
  escaped "&lt;@U1&gt;" the user typed is not taken for a mention.
- Reactions: one Reaction per listed user, emoji ":name:". Slack lists at most ~50 users; the
  rest of `count` becomes one Reaction with no reactor.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import ijson

from shequn.errors import InputError
from shequn.model.records import AccountRef, Community, ExportRole, MemberRole, Record
from shequn.platforms.base import (
    ParseContext,
    Parser,
    Source,
    open_binary,
    open_text,
    register,
)
from shequn.platforms.slack_messages import (
    MessageReader,
    opt_dict,
    opt_str,
    unescape,
    user_account,
    user_role,
)

log = logging.getLogger(__name__)

_DAY_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_USER_FILES = ("users.json", "org_users.json")
_CONVERSATION_FILES = (
    ("channels.json", "channel"),
    ("groups.json", "private_channel"),
    ("mpims.json", "mpim"),
    ("dms.json", "dm"),
)
_ROOT_FILES = frozenset({*_USER_FILES, *(name for name, _ in _CONVERSATION_FILES)})
_BOM = b"\xef\xbb\xbf"


def _first_line(exc: Exception) -> str:
    msg = exc.args[0] if exc.args else type(exc).__name__
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    lines = str(msg).splitlines()  # parsers may quote the JSON (message text) on later lines
    return lines[0] if lines else type(exc).__name__


def _is_root(folder: Path) -> bool:
    return (folder / "channels.json").is_file() and any((folder / u).is_file() for u in _USER_FILES)


class _Export:
    """Where things are: the root folder (inside a zip too) and the day files per folder."""

    def __init__(self, source: Source) -> None:
        self.source = source
        names = source.names()
        roots = [n for n in names if PurePosixPath(n).name in _ROOT_FILES]
        best = min(roots, key=lambda n: n.count("/"), default=None)
        if best is None or best.count("/") > 1:
            raise InputError(
                "no channels.json or users.json: not a Slack export", file=source.display()
            )
        self.prefix = best.rpartition("/")[0] + "/" if "/" in best else ""
        self.days: dict[str, list[str]] = {}
        for n in names:
            if not n.startswith(self.prefix):
                continue
            parts = n[len(self.prefix) :].split("/")
            if len(parts) == 2 and _DAY_FILE.match(parts[1]):
                self.days.setdefault(parts[0], []).append(n)
        for files in self.days.values():
            files.sort()
        self.members = set(names)

    def member(self, basename: str) -> str | None:
        name = self.prefix + basename
        return name if name in self.members else None


def _roles(
    conv: dict[str, Any],
    community_id: str,
    users: dict[str, AccountRef],
    roles: dict[str, ExportRole],
) -> Iterator[MemberRole]:
    """The owners and admins among a conversation's members (a snapshot, like the list)."""
    members = conv.get("members")
    for uid in members if isinstance(members, list) else []:
        role = roles.get(uid) if isinstance(uid, str) else None
        if role is not None:  # only users.json gives roles, so the user is in `users`
            yield MemberRole(community_id, users[uid], role)


@register
class SlackExportParser(Parser):
    """Reads Slack workspace exports (a folder, or a zip of one)."""

    name: ClassVar[str] = "slack"
    title: ClassVar[str] = "Slack workspace export (folder or zip)"
    platform: ClassVar[str] = "slack"

    @classmethod
    def sniff(cls, source: Source) -> int:
        if source.is_file:
            return 0
        if source.is_dir:
            if _is_root(source.path):
                return 95
            # A folder holding the export folder (as unzipping often makes): one level down.
            subdirs = [p for p in source.path.iterdir() if p.is_dir()]
            return 90 if any(_is_root(p) for p in subdirs[:20]) else 0
        tops = {n for n in source.names() if n.count("/") <= 1}
        for n in tops:
            if PurePosixPath(n).name == "channels.json":
                folder = n.rpartition("/")[0]
                if any(f"{folder}/{u}".lstrip("/") in tops for u in _USER_FILES):
                    return 95
        return 0

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        export = _Export(source)
        roles: dict[str, ExportRole] = {}
        users = self._users(export, ctx, roles)
        claimed: set[str] = set()
        for basename, chat_type in _CONVERSATION_FILES:
            member = export.member(basename)
            if member is None:
                continue
            for conv in self._conversations(export, member, ctx):
                folder = self._folder(export, conv, chat_type)
                if folder is not None:
                    claimed.add(folder)
                community = self._community(conv, chat_type, users)
                yield community
                if chat_type in ("channel", "private_channel"):  # DMs have no one in charge
                    yield from _roles(conv, community.platform_id, users, roles)
                reader = MessageReader(community.platform_id, users)
                for day in export.days.get(folder or "", []):
                    yield from self._day(source, day, reader, ctx)
        orphans = sorted(set(export.days) - claimed)
        if orphans:
            ctx.warnings.append(
                f"{len(orphans)} folder(s) of day files name no conversation in the export's "
                f"lists and were not imported: {', '.join(orphans[:5])}"
            )

    @staticmethod
    def _stream(export: _Export, member: str, ctx: ParseContext) -> Iterator[Any]:
        """The items of a root JSON array, one at a time (users.json can be very large)."""
        display = export.source.display(member)
        with open_binary(export.source, ctx, member) as stream:
            if isinstance(stream, io.BufferedReader) and stream.peek(3)[:3] == _BOM:
                stream.read(3)
            try:
                yield from ijson.items(stream, "item", use_float=True)
            except (ijson.JSONError, ValueError, OverflowError) as exc:
                raise InputError(f"not valid JSON: {_first_line(exc)}", file=display) from exc

    def _users(
        self, export: _Export, ctx: ParseContext, roles: dict[str, ExportRole]
    ) -> dict[str, AccountRef]:
        """Accounts by user id; fills `roles` with the workspace owners and admins."""
        users: dict[str, AccountRef] = {}
        found = [m for m in map(export.member, _USER_FILES) if m is not None]
        if not found:
            ctx.warnings.append("the export has no users.json; accounts have ids but no names")
        for member in found:
            for index, user in enumerate(self._stream(export, member, ctx)):
                try:
                    if not isinstance(user, dict):
                        raise InputError("expected a user object")
                    ref = user_account(user)
                except InputError as err:
                    ctx.skip_or_raise(
                        err.located(file=export.source.display(member), record=f"[{index}]")
                    )
                    continue
                users[ref.platform_id] = ref
                if (role := user_role(user)) is not None:
                    roles[ref.platform_id] = role
        return users

    def _conversations(
        self, export: _Export, member: str, ctx: ParseContext
    ) -> Iterator[dict[str, Any]]:
        for index, conv in enumerate(self._stream(export, member, ctx)):
            if isinstance(conv, dict) and opt_str(conv.get("id")):
                yield conv
            else:
                err = InputError(
                    "expected a conversation object with an id",
                    file=export.source.display(member),
                    record=f"[{index}]",
                    field="id",
                )
                ctx.skip_or_raise(err)

    @staticmethod
    def _folder(export: _Export, conv: dict[str, Any], chat_type: str) -> str | None:
        # The folder is the name, except for DMs (which have none): the id. Try both.
        keys = [conv["id"]] if chat_type == "dm" else [opt_str(conv.get("name")), conv["id"]]
        return next((k for k in keys if k and k in export.days), None)

    @staticmethod
    def _community(conv: dict[str, Any], chat_type: str, users: dict[str, AccountRef]) -> Community:
        name = opt_str(conv.get("name"))
        if name is None:
            members = conv.get("members")
            ids = [m for m in members if isinstance(m, str)] if isinstance(members, list) else []
            names = [(users[m].name if m in users else None) or m for m in ids]
            name = ", ".join(names) or conv["id"]
        about = opt_str(opt_dict(conv.get("purpose")).get("value")) or opt_str(
            opt_dict(conv.get("topic")).get("value")
        )
        return Community(
            platform="slack",
            platform_id=conv["id"],
            name=name,
            chat_type=chat_type,
            topic=unescape(about) if about else None,
        )

    @staticmethod
    def _day(
        source: Source, day: str, reader: MessageReader, ctx: ParseContext
    ) -> Iterator[Record]:
        display = source.display(day)
        try:
            with open_text(source, ctx, day) as f:
                messages = json.load(f)
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            ctx.skip_or_raise(InputError(f"not valid JSON: {_first_line(exc)}", file=display))
            return
        if not isinstance(messages, list):
            ctx.skip_or_raise(InputError("expected a JSON array of messages", file=display))
            return
        for index, m in enumerate(messages):
            try:
                if not isinstance(m, dict):
                    raise InputError("expected a message object")
                yield from reader.records(m)
            except InputError as err:
                ctx.skip_or_raise(err.located(file=display, record=f"[{index}]"))
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
                log.debug("unexpected shape in %s [%d]", display, index, exc_info=True)
                ctx.skip_or_raise(
                    InputError(f"malformed message: {exc}", file=display, record=f"[{index}]")
                )
