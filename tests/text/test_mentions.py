"""@mentions resolved to accounts (`text.mentions.resolve_pending`), on the shapes each importer
really writes: the committed fixture exports (FORMATS.md shapes) go through `import_path`, then
the step runs; SQLite and PostgreSQL (the `engine` fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from shequn.errors import InputError
from shequn.importing import import_path
from shequn.store import schema as t
from shequn.text.mentions import resolve_pending

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# (message platform id, sender platform id, mentioned account's platform id), in message order
QUERY = text(
    "SELECT m.platform_msg_id, s.platform_id, a.platform_id FROM message_mention mm "
    "JOIN message m ON m.id = mm.message_id JOIN account a ON a.id = mm.account_id "
    "LEFT JOIN account s ON s.id = m.account_id "
    "WHERE mm.community_id = m.community_id ORDER BY m.id, a.platform_id"
)


def resolved(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(QUERY)]


def imported(engine: Engine, rel: str, **kw) -> Engine:
    import_path(engine, FIXTURES / rel, tz="UTC", **kw)
    return engine


def test_slack_user_ids(engine):
    """workspace/general: Alice mentions <@U05BOB0002>; Dave <@U05ALICE01> and <@U05CAROL03>;
    Dave again <@U05DAVE004> (himself: no row) and <@U05CAROL03>."""
    written = resolve_pending(imported(engine, "slack/workspace"))
    assert resolved(engine) == [
        ("1709317920.000500", "U05ALICE01", "U05BOB0002"),
        ("1709342160.000700", "U05DAVE004", "U05ALICE01"),
        ("1709342160.000700", "U05DAVE004", "U05CAROL03"),
        ("1709406420.000800", "U05DAVE004", "U05CAROL03"),
    ]
    assert written == 4
    assert resolve_pending(engine) == 0  # a second run adds nothing
    assert len(resolved(engine)) == 4


def test_telegram_mention_name_by_id_and_username_unresolved(engine):
    """single_chat.json: a `mention_name` entity with user_id 5007 → account "user5007"; a
    `mention` "@lin_xiao" is a username, which tdesktop exports never give for senders:
    unresolved (no row), as documented."""
    assert resolve_pending(imported(engine, "telegram/single_chat.json")) == 1
    assert resolved(engine) == [("14", "user5001", "user5007")]


def test_discord_ids(engine):
    """guild_channel.json: the second message mentions user 611234567890123456 (老王)."""
    assert resolve_pending(imported(engine, "discord/guild_channel.json")) == 1
    assert resolved(engine) == [("1213001000000000002", "402157319370637313", "611234567890123456")]


def test_generic_ids_and_names(engine):
    """chats.jsonl: message 1003 by 502 mentions [501] (an id); 阿杰's message (no id, a built
    one) mentions ["Priya", "Lin 林"]: names, each carried by one member of team-42."""
    assert resolve_pending(imported(engine, "generic/chats.jsonl")) == 3
    rows = resolved(engine)
    assert rows[0] == ("1003", "502", "501")
    assert [(sender, target) for _, sender, target in rows[1:]] == [
        ("阿杰", "501"),
        ("阿杰", "502"),
    ]


def test_wechat_names_the_file_resolved_to_wxids(engine):
    """memotrace_group: "@李华\u2005" was turned into wxid_lihua8899 by the parser's name book."""
    assert resolve_pending(imported(engine, "wechat/memotrace_group")) == 1
    assert [(s, a) for _, s, a in resolved(engine)] == [("wxid_left99", "wxid_lihua8899")]


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", "utf-8")
    return path


def _msg(mid: int, minute: int, sender: tuple[str, str], mentions: list[str]) -> dict:
    return {
        "group_id": "g1",
        "group_name": "读书会",
        "message_id": mid,
        "time": f"2024-05-20T09:{minute:02d}:00Z",
        "sender_id": sender[0],
        "sender_name": sender[1],
        "text": "hi @someone",
        "mentions": mentions,
    }


def test_names_ambiguous_unknown_past_and_later(engine, tmp_path):
    """Generic JSONL, group g1: two members called "Sam" (s1, s2) → "Sam" is ambiguous; "Anna"
    was a's name before "Anna Li" (account_name keeps both) → resolves to a; "Zoe" speaks only
    in a later import, so the mention of her in the first stays unresolved even after it;
    a message mentioning its own sender by id gives no row; the same account by id and by
    name gives one row."""
    a, s1, s2, z = ("a", "Anna"), ("s1", "Sam"), ("s2", "Sam"), ("z", "Zoe")
    first = [
        _msg(1, 0, a, []),
        _msg(2, 1, ("a", "Anna Li"), []),
        _msg(3, 2, s1, ["Sam", "Anna", "Zoe"]),
        _msg(4, 3, s2, ["s2", "a", "Anna Li"]),
    ]
    import_path(engine, _jsonl(tmp_path / "one.jsonl", first))
    assert resolve_pending(engine) == 2
    import_path(engine, _jsonl(tmp_path / "two.jsonl", [_msg(5, 4, z, ["Sam", "s1"])]))
    assert resolve_pending(engine) == 1
    assert resolved(engine) == [("3", "s1", "a"), ("4", "s2", "a"), ("5", "z", "s1")]


def test_blank_and_malformed_entries_are_skipped(engine, tmp_path):
    """A `mentions` value that is not a JSON array of strings reads as none (logged, no text)."""
    import_path(engine, _jsonl(tmp_path / "one.jsonl", [_msg(1, 0, ("a", "A"), [])]))
    with engine.begin() as conn:
        cid = conn.execute(select(t.community.c.id)).scalar_one()
        sent = conn.execute(select(t.message.c.sent_at)).scalar_one()
        rows = [
            {"platform_msg_id": str(k), "mentions": v}
            for k, v in ((2, "not json"), (3, '{"a": 1}'), (4, '["", "  ", "a", true]'))
        ]
        for r in rows:
            conn.execute(
                t.message.insert().values(
                    community_id=cid,
                    account_id=None,
                    sent_at=sent,
                    kind="text",
                    text="x",
                    **r,
                )
            )
    # only message 4's "a" resolves (a system notice has no sender, so it is no self-mention)
    assert resolve_pending(engine) == 1
    assert resolved(engine) == [("4", None, "a")]


def test_batches_and_watermark(engine):
    """batch=1 takes one mentioning message per transaction; the watermark ends at the newest
    message, so the next run reads nothing."""
    imported(engine, "slack/workspace")
    assert resolve_pending(engine, batch=1) == 4
    with engine.connect() as conn:
        mark = conn.execute(
            select(t.search_state.c.last_message_id).where(t.search_state.c.name == "mentions")
        ).scalar_one()
        newest = conn.execute(select(t.message.c.id).order_by(t.message.c.id.desc())).first()
    assert newest is not None and mark == newest[0]
    with pytest.raises(InputError):
        resolve_pending(engine, batch=0)


def test_rerun_after_lost_watermark_adds_nothing(engine):
    """A crash between the rows and the watermark: ON CONFLICT DO NOTHING keeps one copy."""
    imported(engine, "generic/chats.csv")
    assert resolve_pending(engine) == 4
    with engine.begin() as conn:
        conn.execute(t.search_state.update().values(last_message_id=0))
    assert resolve_pending(engine) == 0
    assert len(resolved(engine)) == 4
