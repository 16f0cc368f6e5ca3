"""DiscordChatExporter (DCE) JSON: one channel per file, or a folder of such files.

The root is `{guild, channel, dateRange, exportedAt, messages:[...], messageCount}` (FORMATS.md
§2). One community per channel: platform_id is the channel id and the name is
"<guild> / #<channel>" ("<guild> / <channel>" for direct-message channels, which have no '#').

A DCE file can be many GB, so it is streamed with ijson: the small `guild` and `channel` objects
are read first (DCE writes them before `messages`), then `messages.item` one at a time.

What becomes what:
- Default, Reply and any kind DCE itself treats as content (numbers above 18, e.g. "20" for
  slash-command replies) -> Message. Text is `content` exactly; a forward with an empty
  `content` takes the forwarded message's content (forwarded=True).
- GuildMemberJoin -> MembershipEvent join (source "unknown": Discord does not say how).
  RecipientAdd / RecipientRemove (group DMs) -> join (invite) / leave / remove.
- Other system kinds (pins, renames, icon changes, threads, calls, boosts, poll results) are not
  messages and yield nothing; reactions on them are dropped too, having no message to point at.
- Duplicate message ids (overlapping or partitioned exports) are yielded as found; the store
  dedupes them.
- Exports made by a fork in "normalized" mode (`authorId`, `mentionIds`, `userIds`, `emojiKey`)
  give ids only, because the names are in tables written after the messages.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import IO, ClassVar

import ijson

from shequn.errors import InputError
from shequn.model.records import Community, Record
from shequn.platforms.base import ParseContext, Parser, Source, open_binary, register
from shequn.platforms.discord_messages import MessageReader, opt_str, parse_id

log = logging.getLogger(__name__)

_BOM = b"\xef\xbb\xbf"


def _first_line(exc: Exception) -> str:
    msg = exc.args[0] if exc.args else str(exc)
    if isinstance(msg, bytes):
        msg = msg.decode("utf-8", "replace")
    # ijson quotes the surrounding JSON on the next lines; that may be message text.
    return str(msg).splitlines()[0] if str(msg) else type(exc).__name__


def _open(source: Source, ctx: ParseContext, name: str | None) -> IO[bytes]:
    stream = open_binary(source, ctx, name)
    if isinstance(stream, io.BufferedReader) and stream.peek(3)[:3] == _BOM:
        stream.read(3)  # DCE writes none, but a file re-saved by an editor may have one
    return stream


def _looks_like_dce(head: bytes) -> int:
    text = head.lstrip(_BOM).lstrip()
    if not text.startswith(b"{") or b'"guild"' not in text or b'"channel"' not in text:
        return 0
    return 95 if b'"dateRange"' in text or b'"messages"' in text else 60


@register
class DiscordChatExporterParser(Parser):
    """Reads DiscordChatExporter JSON exports (a file, or a folder or zip of them)."""

    name: ClassVar[str] = "discord"
    title: ClassVar[str] = "DiscordChatExporter JSON"
    platform: ClassVar[str] = "discord"

    @classmethod
    def sniff(cls, source: Source) -> int:
        if source.is_file:
            if not source.path.name.lower().endswith(".json"):
                return 0
            return _looks_like_dce(source.head(4096))
        jsons = [n for n in source.names() if n.lower().endswith(".json")][:20]
        return max((_looks_like_dce(source.head(4096, n)) for n in jsons), default=0)

    def parse(self, source: Source, ctx: ParseContext) -> Iterator[Record]:
        seen: set[str] = set()
        for name in self._files(source):
            yield from self._parse_file(source, name, ctx, seen)

    @staticmethod
    def _files(source: Source) -> list[str | None]:
        if source.is_file:
            return [None]
        found: list[str | None] = [
            n
            for n in source.names()
            if n.lower().endswith(".json") and _looks_like_dce(source.head(4096, n))
        ]
        if not found:
            raise InputError("no DiscordChatExporter .json file found", file=source.display())
        return found

    def _parse_file(
        self, source: Source, name: str | None, ctx: ParseContext, seen: set[str]
    ) -> Iterator[Record]:
        display = source.display(name)
        community = self._community(source, name, display)
        if community.platform_id not in seen:
            seen.add(community.platform_id)
            yield community
        reader = MessageReader(community.platform_id)
        with _open(source, ctx, name) as stream:
            items = ijson.items(stream, "messages.item", use_float=True)
            index = 0
            while True:
                try:
                    m = next(items)
                except StopIteration:
                    return
                except (ijson.JSONError, ValueError, OverflowError) as exc:
                    # Everything before the break was good; --skip-bad keeps it and goes on.
                    ctx.skip_or_raise(
                        InputError(
                            f"broken JSON: {_first_line(exc)}",
                            file=display,
                            record=f"messages[{index}]",
                        )
                    )
                    return
                yield from self._records(reader, m, index, display, ctx)
                index += 1

    @staticmethod
    def _records(
        reader: MessageReader, m: object, index: int, display: str, ctx: ParseContext
    ) -> list[Record]:
        record = f"messages[{index}]"
        try:
            if not isinstance(m, dict):
                raise InputError("expected a message object")
            if isinstance(m.get("id"), str | int):
                record = str(m["id"])
            return reader.records(m)
        except InputError as err:
            ctx.skip_or_raise(err.located(file=display, record=record))
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            log.debug("unexpected shape in %s %s", display, record, exc_info=True)
            ctx.skip_or_raise(InputError(f"malformed message: {exc}", file=display, record=record))
        return []

    @staticmethod
    def _community(source: Source, name: str | None, display: str) -> Community:
        scratch = ParseContext()  # the header is re-read by the counted pass; count it once
        objects: dict[str, object] = {}
        for key in ("guild", "channel"):
            with _open(source, scratch, name) as stream:
                try:
                    objects[key] = next(ijson.items(stream, key, use_float=True), None)
                except (ijson.JSONError, ValueError, OverflowError) as exc:
                    raise InputError(f"not valid JSON: {_first_line(exc)}", file=display) from exc
        guild, channel = objects["guild"], objects["channel"]
        if not isinstance(channel, dict):
            raise InputError(
                "no 'channel' object: not a DiscordChatExporter export",
                file=display,
                field="channel",
            )
        try:
            channel_id = parse_id(channel.get("id"), field="channel.id")
        except InputError as err:
            raise err.located(file=display) from None
        channel_name = opt_str(channel.get("name")) or channel_id
        chat_type = opt_str(channel.get("type"))
        guild_name = opt_str(guild.get("name")) if isinstance(guild, dict) else None
        hash_ = "" if (chat_type or "").startswith("Direct") else "#"
        return Community(
            platform="discord",
            platform_id=channel_id,
            name=f"{guild_name} / {hash_}{channel_name}" if guild_name else channel_name,
            chat_type=chat_type,
            topic=opt_str(channel.get("topic")),
        )
