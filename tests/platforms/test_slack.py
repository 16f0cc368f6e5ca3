"""Slack workspace export reader and the demo exporter that writes the same format."""

from __future__ import annotations

import contextlib
import json
import shutil
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, assert_golden, parse_to_dicts, realdata
from shequn.demo.exporters import slack as exporter
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser
from shequn.errors import InputError
from shequn.model.records import Community, MembershipEvent, Message, Reaction
from shequn.platforms.base import ParseContext, Source, detect, get_parser
from shequn.platforms.slack_messages import parse_ts, read_markup, unescape

DIR = FIXTURES / "slack"
EXPORT = DIR / "workspace"
HOUSTON = "slack/houstondatavis_2016_official_export"


def _parse(path: Path, **ctx_kwargs) -> tuple[list, ParseContext]:
    ctx = ParseContext(**ctx_kwargs)
    source = Source(path)
    try:
        return list(get_parser("slack")().parse(source, ctx)), ctx
    finally:
        source.close()


def _of(records: list[dict], kind: str) -> list[dict]:
    return [r for r in records if r["type"] == kind]


def _zip(folder: Path, target: Path, *, top: str | None = None, reverse: bool = False) -> Path:
    """Zip an export folder (inside a `top` folder when given), members in reverse if asked."""
    files = sorted((p for p in folder.rglob("*") if p.is_file()), reverse=reverse)
    with zipfile.ZipFile(target, "w") as zf:
        for p in files:
            rel = p.relative_to(folder).as_posix()
            zf.write(p, f"{top}/{rel}" if top else rel)
    return target


def _copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(EXPORT, tmp_path / "export"))


# --- golden file --------------------------------------------------------------------------


def test_golden_workspace_export() -> None:
    records = parse_to_dicts("slack", EXPORT)
    assert_golden(records, DIR / "workspace.golden.jsonl")

    communities = _of(records, "Community")
    assert [(c["platform_id"], c["name"], c["chat_type"]) for c in communities] == [
        ("C05GENERAL", "general", "channel"),
        ("C05RANDOM1", "random", "channel"),
        ("G05CORE001", "core-team", "private_channel"),
        ("D05ALIBOB1", "王爱丽, Bobby Tables", "dm"),  # a DM is named after its members
    ]
    # purpose before topic; &amp; &lt; unescaped; topic when the purpose is empty
    assert communities[0]["topic"] == "Shanghai & Bay Area data people <3"
    assert communities[1]["topic"] == "随便聊聊"
    # every record comes after its community
    current = None
    for r in records:
        if r["type"] == "Community":
            current = r["platform_id"]
        else:
            assert r["community_id"] == current


def test_messages_of_the_general_channel() -> None:
    records = [r for r in parse_to_dicts("slack", EXPORT) if r.get("community_id") == "C05GENERAL"]
    messages = {m["message_id"]: m for m in _of(records, "Message")}
    # joins, leave, topic and pin notices are not messages; file_comment is
    assert list(messages) == [
        "1709317800.000300",
        "1709317860.000400",
        "1709317920.000500",
        "1709342100.000600",
        "1709342160.000700",
        "1709406000.000100",
        "1709406060.000200",
        "1709406120.000300",
        "1709406180.000400",
        "1709406420.000800",
    ]
    welcome = messages["1709317800.000300"]
    assert welcome["text"] == (
        "大家好！欢迎来到 <Shanghai & Bay Area> 数据可视化社群 :wave:\n第二行  两个空格，全角！？"
    )
    assert welcome["sent_at"] == "2024-03-01T18:30:00.000300+00:00"
    assert welcome["sender"] == {
        "platform_id": "U05ALICE01",
        "name": "王爱丽",
        "username": "alice.wang",
        "is_bot": False,
        "by_name": False,
    }
    parent, reply, ghost = (
        messages[k] for k in ("1709317860.000400", "1709317920.000500", "1709342100.000600")
    )
    assert parent["text"] == "Where is the meetup on 3/16? 聚会在哪里？"
    assert parent["reply_to"] is None and parent["thread_id"] == "1709317860.000400"
    assert parent["sender"]["name"] == "Bobby Tables"  # display_name when real names are empty
    assert reply["reply_to"] == reply["thread_id"] == "1709317860.000400"
    assert reply["edited_at"] == "2024-03-01T18:33:20+00:00"
    # markup is kept in the text; mentions and the unescaped link come from it
    assert reply["text"] == (
        "<@U05BOB0002|bob> 看这里 <https://example.com/map?a=1&b=2|地图>，或者去 "
        "<#C05RANDOM1|random> 问问"
    )
    assert reply["mentions"] == ["U05BOB0002"]
    assert reply["links"] == ["https://example.com/map?a=1&b=2"]
    # a user not in users.json: named from user_profile; time from ts, not from the day file
    assert ghost["sender"]["platform_id"] == "U05GHOST99"
    assert ghost["sender"]["name"] == "李雷"
    assert ghost["sent_at"] == "2024-03-02T01:15:00.000600+00:00"
    assert ghost["text"] == "我也想去 >_<"
    dave = messages["1709342160.000700"]
    assert dave["mentions"] == ["U05ALICE01", "U05CAROL03"]  # <!here> is not a user
    assert dave["links"] == ["https://shequn.example/faq"]  # a URL Slack did not wrap
    assert dave["text"].startswith("ping <@U05ALICE01> and <@U05CAROL03|carol.li>: 1 < 2 && 3 > 2")
    assert dave["sender"]["name"] == "dave"  # no real or display name: the handle

    shared = messages["1709406000.000100"]
    assert shared["kind"] == "file" and shared["text"] == "会议纪要在这里 📄"
    assert shared["sender"]["name"] == "李卡洛"
    bot = messages["1709406060.000200"]
    assert bot["sender"] == {
        "platform_id": "B05GITHUB1",
        "name": "github",
        "username": None,
        "is_bot": True,
        "by_name": False,
    }
    tomb = messages["1709406120.000300"]
    assert tomb["deleted"] is True and tomb["sender"]["platform_id"] == "USLACKBOT"
    assert tomb["sender"]["is_bot"] is True
    assert messages["1709406180.000400"]["reply_to"] == "1709406120.000300"
    comment = messages["1709406420.000800"]
    assert comment["sender"]["platform_id"] == "U05DAVE004"  # only in `comment.user`


def test_joins_leaves_and_reactions() -> None:
    records = parse_to_dicts("slack", EXPORT)
    events = [
        (
            e["community_id"],
            e["member"]["platform_id"],
            e["action"],
            (e["actor"] or {}).get("platform_id"),
            e["source"],
            e["message_id"],
        )
        for e in _of(records, "MembershipEvent")
    ]
    # channels.json `members` (carol, dave in #general) do not become joins
    assert events == [
        ("C05GENERAL", "U05ALICE01", "join", None, "unknown", "1709312400.000100"),
        ("C05GENERAL", "U05BOB0002", "join", "U05ALICE01", "invite", "1709312712.000200"),
        ("C05GENERAL", "U05CAROL03", "leave", None, "unknown", "1709406360.000700"),
        ("G05CORE001", "U05BOB0002", "join", "U05ALICE01", "invite", "1709313000.000100"),
    ]
    reactions = [
        (r["message_id"], r["emoji"], (r["reactor"] or {}).get("platform_id"), r["count"])
        for r in _of(records, "Reaction")
    ]
    # one per user; the 2 uncounted "tada" users become one reaction without a reactor;
    # the reaction on the join notice has no message to point at and is dropped
    assert reactions == [
        ("1709317800.000300", ":+1:", "U05BOB0002", 1),
        ("1709317800.000300", ":+1:", "U05CAROL03", 1),
        ("1709317800.000300", ":tada:", "U05BOB0002", 1),
        ("1709317800.000300", ":tada:", None, 2),
        ("1709313660.000300", ":clap::skin-tone-2:", "U05BOB0002", 1),
    ]


def test_bot_user_and_private_channel_and_dm() -> None:
    records = parse_to_dicts("slack", EXPORT)
    by_id = {m["message_id"]: m for m in _of(records, "Message")}
    standup = by_id["1709313600.000200"]
    assert standup["community_id"] == "G05CORE001"
    assert standup["sender"]["platform_id"] == "U05STANDUP" and standup["sender"]["is_bot"]
    assert standup["text"] == "今日站会：\n1. 发布 v0.2\n2. 修 bug"
    dm = by_id["1709406600.000100"]
    assert dm["community_id"] == "D05ALIBOB1"  # the DM's folder is its id
    assert dm["text"] == "私聊一下 🙂 can you host on 3/16?"
    assert "1709431260.000200" not in by_id  # channel_archive notice


def test_orphan_folder_is_reported_not_imported() -> None:
    records, ctx = _parse(EXPORT)
    assert not any(getattr(r, "message_id", "").startswith("1704103200") for r in records)
    assert len(ctx.warnings) == 1 and "old-channel" in ctx.warnings[0]


def test_zip_one_level_down_in_any_member_order(tmp_path: Path) -> None:
    archive = _zip(EXPORT, tmp_path / "export.zip", top="shequn Slack export", reverse=True)
    assert parse_to_dicts("slack", archive) == parse_to_dicts("slack", EXPORT)


# --- sniffing -----------------------------------------------------------------------------


def test_sniff(tmp_path: Path) -> None:
    cls = get_parser("slack")
    assert cls.sniff(Source(EXPORT)) == 95
    assert cls.sniff(Source(DIR)) == 90  # the folder that holds the export folder
    flat = Source(_zip(EXPORT, tmp_path / "flat.zip"))
    nested = Source(_zip(EXPORT, tmp_path / "nested.zip", top="export"))
    deep = Source(_zip(EXPORT, tmp_path / "deep.zip", top="a/b"))
    assert (cls.sniff(flat), cls.sniff(nested), cls.sniff(deep)) == (95, 95, 0)
    assert cls.sniff(Source(EXPORT / "users.json")) == 0
    assert cls.sniff(Source(EXPORT / "general")) == 0
    assert detect(Source(EXPORT)).parser is cls
    for s in (flat, nested, deep):
        s.close()


# --- bad input ----------------------------------------------------------------------------


def test_day_file_that_is_not_json(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    bad = root / "general" / "2024-03-02.json"
    bad.write_text('[{"type": "message", "ts": "1709406000.000100", "text": "cut off', "utf-8")
    with pytest.raises(InputError) as info:
        _parse(root)
    assert info.value.file == str(bad)
    assert "not valid JSON" in info.value.message

    records, ctx = _parse(root, skip_bad=True)
    assert [e.file for e in ctx.skipped] == [str(bad)]
    ids = {r.message_id for r in records if isinstance(r, Message)}
    assert "1709317800.000300" in ids and "1709431200.000100" in ids  # other days, channels
    assert "1709406000.000100" not in ids


def test_message_without_ts(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    day = root / "random" / "2024-03-03.json"
    data = json.loads(day.read_text("utf-8"))
    data.insert(0, {"type": "message", "user": "U05DAVE004", "text": "no ts"})
    data.append({"type": "message", "user": "U05DAVE004", "text": "bad", "ts": "yesterday"})
    day.write_text(json.dumps(data), "utf-8")
    with pytest.raises(InputError) as info:
        _parse(root)
    err = info.value
    assert (err.file, err.record, err.field) == (str(day), "[0]", "ts")
    assert str(day) in str(err) and "[0]" in str(err)

    records, ctx = _parse(root, skip_bad=True)
    assert [(e.record, e.field) for e in ctx.skipped] == [("[0]", "ts"), ("[3]", "ts")]
    random = [r for r in records if isinstance(r, Message) and r.community_id == "C05RANDOM1"]
    assert [m.text for m in random] == ["random 里的第一条 🎲"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": 42}, "text"),
        ({"edited": {"ts": "soon"}}, "edited.ts"),
        ({"reactions": "lots"}, "reactions"),
        ({"reactions": [{"name": "+1"}]}, "reactions[0]"),
        ({"subtype": "channel_join", "user": None}, "user"),
        ({"subtype": ["x"]}, "subtype"),
    ],
)
def test_bad_fields_are_named(tmp_path: Path, change: dict, field: str) -> None:
    root = _copy(tmp_path)
    day = root / "D05ALIBOB1" / "2024-03-02.json"
    data = json.loads(day.read_text("utf-8"))
    data[0].update(change)
    day.write_text(json.dumps(data), "utf-8")
    with pytest.raises(InputError) as info:
        _parse(root)
    assert (info.value.file, info.value.record, info.value.field) == (str(day), "[0]", field)


def test_broken_users_json_and_missing_lists(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    (root / "users.json").write_text('[{"id": "U1", "name": "x"}, {"id": ', "utf-8")
    with pytest.raises(InputError) as info:
        _parse(root)
    assert info.value.file == str(root / "users.json")

    (root / "users.json").write_text('[{"id": "U1"}, {"name": "no id"}, 7]', "utf-8")
    with pytest.raises(InputError) as info:
        _parse(root)
    assert (info.value.record, info.value.field) == ("[1]", "id")
    _, ctx = _parse(root, skip_bad=True)
    assert [e.record for e in ctx.skipped] == ["[1]", "[2]"]

    with pytest.raises(InputError, match="not a Slack export"):
        _parse(root / "general")


def test_helpers() -> None:
    assert unescape("&amp;lt; &lt;b&gt; &quot;") == "&lt; <b> &quot;"  # one pass, three only
    assert parse_ts("1433558319.000002") == datetime(2015, 6, 6, 2, 38, 39, 2, tzinfo=UTC)
    assert parse_ts("1433558319") == datetime(2015, 6, 6, 2, 38, 39, tzinfo=UTC)
    for bad in ("", "1.2.3", "-5", None, "1e9", "123\n", "١٢٣", "nan", float("inf")):
        with pytest.raises(InputError):
            parse_ts(bad)
    # a "<@U1>" the user typed is stored escaped and is no mention
    assert read_markup("&lt;@U1&gt; <@U2|bo> <mailto:a@b.c|a@b.c> <http://x/?a&amp;b|x>") == (
        ["U2"],
        ["http://x/?a&b"],
    )


# --- the real 2016 export -----------------------------------------------------------------

CONTENT = {None, "file_share", "file_comment", "bot_message", "tombstone"}
EVENTS = {"channel_join": "join", "channel_leave": "leave"}
NOTICES = {"channel_purpose", "channel_topic", "channel_name", "channel_archive", "bot_add",
           "pinned_item"}  # fmt: skip


def _real_days(root: Path) -> list[tuple[str, str, list[dict]]]:
    """(folder, date, messages) of every day file, read straight from the JSON."""
    return [
        (p.parent.name, p.stem, json.loads(p.read_text("utf-8")))
        for p in sorted(root.glob("*/*.json"))
    ]


def _exact(ts: str) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(Decimal(ts) * 10**6))


@pytest.mark.realdata
def test_real_export() -> None:
    root = realdata(HOUSTON)
    channels = json.loads((root / "channels.json").read_text("utf-8"))
    users = {u["id"]: u for u in json.loads((root / "users.json").read_text("utf-8"))}
    days = _real_days(root)
    records, ctx = _parse(root)
    assert ctx.warnings == [] and ctx.skipped == []

    communities = [r for r in records if isinstance(r, Community)]
    assert len(communities) == len(channels) == 16
    assert [(c.platform_id, c.name) for c in communities] == [
        (c["id"], c["name"]) for c in channels
    ]
    name_of = {c["id"]: c["name"] for c in channels}

    subtypes = Counter(m.get("subtype") for _, _, ms in days for m in ms)
    assert set(subtypes) <= CONTENT | set(EVENTS) | NOTICES  # no subtype this test ignores
    expected_per_channel = Counter(
        folder for folder, _, ms in days for m in ms if m.get("subtype") in CONTENT
    )
    messages = [r for r in records if isinstance(r, Message)]
    assert Counter(name_of[m.community_id] for m in messages) == expected_per_channel
    assert len(messages) == sum(expected_per_channel.values()) == 1031

    events = [r for r in records if isinstance(r, MembershipEvent)]
    actions = Counter(e.action for e in events)
    assert actions == Counter({EVENTS[k]: subtypes[k] for k in EVENTS})
    assert (actions["join"], actions["leave"]) == (320, 3)
    invited = sum(1 for _, _, ms in days for m in ms if m.get("inviter"))
    assert sum(1 for e in events if e.source == "invite" and e.actor) == invited == 11

    # accounts seen: everyone the files name as author, member, inviter or reactor
    named: set[str] = set()
    for _, _, ms in days:
        for m in ms:
            if m.get("subtype") in CONTENT or m.get("subtype") in EVENTS:
                named.add(m.get("user") or m["comment"]["user"])
                named.update(r for r in [m.get("inviter")] if r)
                if m.get("subtype") in CONTENT:
                    named.update(u for r in m.get("reactions", []) for u in r["users"])
    seen = {}
    for r in records:
        for ref in (getattr(r, "sender", None), getattr(r, "member", None),
                    getattr(r, "actor", None), getattr(r, "reactor", None)):  # fmt: skip
            if ref is not None:
                seen[ref.platform_id] = ref
    assert set(seen) == named
    for uid, ref in seen.items():
        u = users[uid]
        want = (u.get("real_name") or u["profile"].get("real_name")
                or u["profile"].get("display_name") or u["name"])  # fmt: skip
        assert (ref.name, ref.username) == (want, u["name"])

    # time comes from ts, exactly; and the day files are cut in America/Los_Angeles
    id_of = {c["name"]: c["id"] for c in channels}
    file_of = {(id_of[folder], m["ts"]): date for folder, date, ms in days for m in ms}
    timed = [(m.community_id, m.message_id, m.sent_at) for m in messages]
    timed += [(e.community_id, e.message_id, e.at) for e in events]
    assert len(timed) == 1031 + 323
    outside = Counter()
    for cid, ts, at in timed:
        assert at == _exact(ts)
        for zone in ("America/Los_Angeles", "UTC"):
            local = at.astimezone(ZoneInfo(zone)).date().isoformat()
            outside[zone] += local != file_of[(cid, ts)]
    assert outside["America/Los_Angeles"] == 0
    assert outside["UTC"] > 300  # so the file dates are not UTC days: the check has teeth


@pytest.mark.realdata
def test_real_export_zipped_parses_identically(tmp_path: Path) -> None:
    root = realdata(HOUSTON)
    archive = _zip(root, tmp_path / "houston.zip", top=root.name)
    assert get_parser("slack").sniff(Source(archive)) == 95
    assert parse_to_dicts("slack", archive) == parse_to_dicts("slack", root)


# --- hypothesis: never anything but InputError --------------------------------------------

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_message_like = st.fixed_dictionaries(
    {},
    optional={
        "ts": st.one_of(st.text(max_size=20), st.from_regex(r"\A\d{1,12}\.\d{6}\Z"),
                        st.integers(), st.floats()),
        "type": st.just("message"),
        "subtype": st.sampled_from(["channel_join", "channel_leave", "bot_message", "tombstone",
                                    "file_share", "channel_topic", "x"]) | _json_values,
        "user": st.text(max_size=5) | _json_values,
        "inviter": _json_values,
        "text": st.text() | _json_values,
        "thread_ts": _json_values,
        "edited": st.fixed_dictionaries({"ts": _json_values}) | _json_values,
        "reactions": st.lists(st.fixed_dictionaries(
            {"name": _json_values, "users": _json_values, "count": _json_values}), max_size=2)
        | _json_values,
        "files": _json_values,
        "comment": _json_values,
        "user_profile": _json_values,
    },
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_never_crash(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    root = Path(shutil.copytree(EXPORT, tmp_path_factory.mktemp("x") / "e"))
    for rel in ("general/2024-03-01.json", "users.json", "channels.json"):
        target = root / rel
        original = target.read_bytes()
        target.write_bytes(data)
        with contextlib.suppress(InputError):
            _parse(root)
        if rel.endswith("2024-03-01.json"):
            _, ctx = _parse(root, skip_bad=True)  # a bad day file is skippable
            assert len(ctx.skipped) <= 1
        target.write_bytes(original)


@settings(max_examples=60, deadline=None)
@given(day=st.lists(_message_like, max_size=5) | _json_values)
def test_arbitrary_messages_never_crash(tmp_path_factory: pytest.TempPathFactory, day) -> None:
    root = tmp_path_factory.mktemp("x")
    shutil.copy(EXPORT / "users.json", root / "users.json")
    shutil.copy(EXPORT / "channels.json", root / "channels.json")
    (root / "general").mkdir()
    (root / "general" / "2024-03-01.json").write_text(json.dumps(day), "utf-8")
    with contextlib.suppress(InputError):
        _parse(root)
    records, _ = _parse(root, skip_bad=True)
    for r in records:
        if isinstance(r, Message | MembershipEvent):
            t = r.sent_at if isinstance(r, Message) else r.at
            assert t.tzinfo is not None and t.utcoffset() == timedelta(0)


# --- the exporter -------------------------------------------------------------------------

ALICE = DemoUser("U0ALICE", "王爱丽", "alice")
BOB = DemoUser("U0BOB", "Bob Smith")
BOT = DemoUser("U0BOT", "周报机器人", "weekly_bot", is_bot=True)
T0 = datetime(2024, 3, 1, 15, 30, 0, 123456, tzinfo=UTC)  # 23:30 in Shanghai


def _chat(items: list) -> DemoChat:
    return DemoChat(
        platform_id="C0DEMO",
        name="上海 Python 交流群 & Friends",
        timezone="Asia/Shanghai",
        users=[ALICE, BOB, BOT],
        items=items,
        topic="每周四 <晚上> 8 点 & 线上",
    )


def test_exporter_writes_a_real_looking_export(tmp_path: Path) -> None:
    items = [
        DemoEvent("e1", T0 - timedelta(hours=1), "join", ALICE),
        DemoEvent("e2", T0 - timedelta(minutes=30), "join", BOB, actor=ALICE, source="invite"),
        DemoMessage("m1", T0, ALICE, "欢迎 @Bob Smith 加入！<b> & 看 https://x.cn/a?b=1&c=2",
                    mentions=[BOB], reactions=[("👍", BOB), ("🎉", BOB), ("👍", ALICE)]),
        DemoMessage("m2", T0, BOB, "same microsecond", reply_to="m1",
                    edited_at=T0 + timedelta(minutes=5)),
        DemoMessage("m3", T0 + timedelta(hours=1), ALICE, "slides", kind="file", reply_to="m2"),
        DemoMessage("m4", T0 + timedelta(hours=2), BOT, "📊 上周活跃榜：@王爱丽", mentions=[ALICE]),
        DemoEvent("e3", T0 + timedelta(hours=3), "leave", BOB),
        DemoEvent("e4", T0 + timedelta(hours=4), "remove", ALICE, actor=BOB),
    ]  # fmt: skip
    root = exporter.write(_chat(items), tmp_path)
    assert root == tmp_path / "slack-export"
    channels = json.loads((root / "channels.json").read_text("utf-8"))
    assert channels[0]["id"] == "C0DEMO" and channels[0]["name"] == "上海-python-交流群-friends"
    assert "\\u4e0a" in (root / "channels.json").read_text("utf-8")  # Slack's \uXXXX escapes
    folder = root / channels[0]["name"]
    assert sorted(p.name for p in folder.iterdir()) == ["2024-03-01.json", "2024-03-02.json"]
    raw = [m for p in sorted(folder.iterdir()) for m in json.loads(p.read_text("utf-8"))]
    assert [m["ts"] for m in raw][2:4] == ["1709307000.123456", "1709307000.123457"]  # bumped
    m1 = raw[2]
    assert m1["text"] == ("欢迎 <@U0BOB> 加入！&lt;b&gt; &amp; 看 <https://x.cn/a?b=1&amp;c=2>")
    assert m1["reactions"] == [
        {"name": "+1", "users": ["U0BOB", "U0ALICE"], "count": 2},
        {"name": "tada", "users": ["U0BOB"], "count": 1},
    ]
    assert m1["thread_ts"] == m1["ts"] and m1["reply_count"] == 2
    assert raw[1]["inviter"] == "U0ALICE" and raw[6]["subtype"] == raw[7]["subtype"]

    records, ctx = _parse(root)
    assert ctx.skipped == [] and ctx.warnings == []
    community = records[0]
    assert community.topic == "每周四 <晚上> 8 点 & 线上"
    msgs = {m.message_id: m for m in records if isinstance(m, Message)}
    ts = {m["text"][:4]: m["ts"] for m in raw if "subtype" not in m or m["subtype"] == "file_share"}
    first = msgs[raw[2]["ts"]]
    assert first.text == "欢迎 <@U0BOB> 加入！<b> & 看 <https://x.cn/a?b=1&c=2>"
    assert first.mentions == ["U0BOB"] and first.links == ["https://x.cn/a?b=1&c=2"]
    assert (
        first.sent_at == T0 and first.sender.name == "王爱丽" and first.sender.username == "alice"
    )
    second = msgs[ts["same"]]
    assert second.reply_to == raw[2]["ts"] and second.edited_at == T0 + timedelta(minutes=5)
    assert second.sent_at == T0 + timedelta(microseconds=1)
    third = msgs[ts["slid"]]
    assert third.kind == "file" and third.reply_to == raw[2]["ts"]  # flat threads: the root
    bot = msgs[ts["📊 上周"]]
    assert bot.text == "📊 上周活跃榜：<@U0ALICE>" and bot.sender.is_bot
    assert bot.sender.platform_id == "U0BOT"
    reactions = [(r.emoji, r.reactor.platform_id) for r in records if isinstance(r, Reaction)]
    assert reactions == [(":+1:", "U0BOB"), (":+1:", "U0ALICE"), (":tada:", "U0BOB")]
    events = [(e.member.platform_id, e.action, e.actor and e.actor.platform_id, e.source, e.at)
              for e in records if isinstance(e, MembershipEvent)]  # fmt: skip
    assert events == [
        ("U0ALICE", "join", None, "unknown", T0 - timedelta(hours=1)),
        ("U0BOB", "join", "U0ALICE", "invite", T0 - timedelta(minutes=30)),
        ("U0BOB", "leave", None, "unknown", T0 + timedelta(hours=3)),
        ("U0ALICE", "leave", None, "unknown", T0 + timedelta(hours=4)),  # a removal: no record
    ]


def test_exporter_days_are_local_days(tmp_path: Path) -> None:
    items = [
        DemoMessage(f"m{i}", T0 + timedelta(hours=3 * i), ALICE, f"消息 {i}") for i in range(20)
    ]
    root = exporter.write(_chat(items), tmp_path)
    shanghai = ZoneInfo("Asia/Shanghai")
    for day in (root / "上海-python-交流群-friends").iterdir():
        for m in json.loads(day.read_text("utf-8")):
            assert _exact(m["ts"]).astimezone(shanghai).date().isoformat() == day.stem


_times = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)
# what Slack escapes or reads as markup, typed by the user, among any other text
_texts = st.lists(
    st.text(max_size=8)
    | st.sampled_from(["&", "<", ">", "&amp;", "&lt;", "<@U0BOB>", "🙂", "群聊", "\n", "  "]),
    max_size=8,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_times, _texts, st.sampled_from([ALICE, BOB, BOT]), st.none() | _times),
        min_size=1,
        max_size=8,
        unique_by=lambda r: r[0],
    ),
    zone=st.sampled_from(["Asia/Shanghai", "America/Los_Angeles", "UTC", "Asia/Kathmandu"]),
)
def test_exporter_round_trip(
    tmp_path_factory: pytest.TempPathFactory, rows: list, zone: str
) -> None:
    assume(all("://" not in r[1] for r in rows))  # URLs come back as Slack's <url> markup
    rows.sort(key=lambda r: r[0])
    items = [
        DemoMessage(f"m{i}", at, who, text, edited_at=edited)
        for i, (at, text, who, edited) in enumerate(rows)
    ]
    chat = _chat(items)
    chat.timezone = zone
    root = exporter.write(chat, tmp_path_factory.mktemp("rt"))
    records, ctx = _parse(root)
    assert ctx.skipped == []
    got = [
        (m.sent_at, m.text, m.sender.platform_id if m.sender else None, m.edited_at, m.mentions)
        for m in records
        if isinstance(m, Message)
    ]
    assert got == [(at, text, who.id, edited, []) for at, text, who, edited in rows]
