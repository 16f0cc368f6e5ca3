"""The demo program generator: deterministic, the right volume, and the shapes features need."""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shequn.demo.generate import DEFAULT_END, FORMATS, generate_program, write_program
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage

SMALL = 6000


@pytest.fixture(scope="module")
def program() -> list[tuple[str, DemoChat]]:
    return generate_program(messages=SMALL)


def _messages(chat: DemoChat) -> list[DemoMessage]:
    return [i for i in chat.items if isinstance(i, DemoMessage)]


def _events(chat: DemoChat) -> list[DemoEvent]:
    return [i for i in chat.items if isinstance(i, DemoEvent)]


def _total(program: list[tuple[str, DemoChat]]) -> int:
    return sum(len(_messages(chat)) for _, chat in program)


def _is_question(m: DemoMessage) -> bool:
    return m.reply_to is None and "http" not in m.text and ("?" in m.text or "？" in m.text)


def test_same_seed_same_program_other_seed_other_program():
    one = generate_program(seed=11, messages=2000)
    assert one == generate_program(seed=11, messages=2000)
    other = generate_program(seed=12, messages=2000)
    assert one != other
    texts_one = [m.text for _, c in one for m in _messages(c)]
    texts_other = [m.text for _, c in other for m in _messages(c)]
    assert texts_one != texts_other


def test_does_not_use_global_random_or_clock(monkeypatch):
    import random

    def boom(*args, **kwargs):
        raise AssertionError("global random used")

    monkeypatch.setattr(random, "random", boom)
    monkeypatch.setattr(random, "choice", boom)
    monkeypatch.setattr(random, "randint", boom)
    program = generate_program(messages=500, groups=3)
    last = max(m.sent_at for _, c in program for m in _messages(c))
    assert last < DEFAULT_END


@pytest.mark.parametrize("messages", [1500, SMALL, 20_000])
def test_volume_within_five_percent(messages):
    program = generate_program(messages=messages)
    assert abs(_total(program) - messages) <= 0.05 * messages


def test_platforms_and_group_sizes(program):
    platforms = Counter(p for p, _ in program)
    assert platforms == {"wechat": 5, "telegram": 4, "slack": 3}
    sizes = sorted(len(chat.users) for _, chat in program)
    assert sizes[-1] > 100  # at least one group the size policy flags
    assert sizes[0] < 15  # the tiny new group
    assert sum(1 for s in sizes if 25 <= s <= 90) >= 7  # most are community-sized
    people = {(p, u.id) for p, chat in program for u in chat.users if not u.is_bot}
    assert 1800 <= len(people) <= 2300
    # some people are in two or three groups of a platform, with the same account
    seats = Counter((p, u.id) for p, chat in program for u in chat.users if not u.is_bot)
    assert sum(1 for n in seats.values() if n >= 2) >= 50
    assert max(seats.values()) <= 4


def test_user_ids_in_the_platform_style(program):
    styles = {"telegram": r"user\d{6,}", "slack": r"U[A-Z0-9]{8,10}", "wechat": r"wxid_[a-z0-9]+"}
    for platform, chat in program:
        for user in chat.users:
            assert re.fullmatch(styles[platform], user.id), (platform, user.id)
    assert any(u.is_bot for p, c in program if p != "wechat" for u in c.users)
    assert not any(u.is_bot for p, c in program if p == "wechat" for u in c.users)


def test_items_in_order_with_unique_ids_aware_utc_and_replies_to_earlier(program):
    for _, chat in program:
        seen: set[str] = set()
        last = None
        for item in chat.items:
            at = item.sent_at if isinstance(item, DemoMessage) else item.at
            assert at.utcoffset() == timedelta(0)
            assert last is None or at >= last
            last = at
            assert item.id not in seen
            if isinstance(item, DemoMessage):
                assert item.reply_to is None or item.reply_to in seen
                if item.edited_at is not None:
                    assert item.edited_at > item.sent_at
            seen.add(item.id)


def test_nobody_speaks_outside_their_membership(program):
    for _, chat in program:
        first_event: dict[str, str] = {}
        for e in _events(chat):
            first_event.setdefault(e.member.id, e.action)
        # without events a member was there from before the history; a first join means not yet
        inside = {u.id: first_event.get(u.id) in (None, "leave", "remove") for u in chat.users}
        users = {u.id for u in chat.users}
        for item in chat.items:
            if isinstance(item, DemoEvent):
                assert item.member.id in users
                joining = item.action == "join"
                assert inside[item.member.id] != joining, (chat.name, item)
                inside[item.member.id] = joining
            else:
                assert inside[item.sender.id], (chat.name, item.sender.name, item.text)
                for _, who in item.reactions:
                    assert inside[who.id]


def test_heavy_tail_in_the_big_groups(program):
    big = [chat for _, chat in program if len(chat.users) > 100]
    assert big
    for chat in big:
        counts = sorted(Counter(m.sender.id for m in _messages(chat)).values(), reverse=True)
        top = counts[: max(1, round(len(counts) * 0.2))]
        assert sum(top) >= 0.65 * sum(counts), chat.name
        assert counts[0] <= 0.2 * sum(counts)  # nobody is the whole group


def test_lurkers_slippers_leavers_rejoiners_and_removed(program):
    lurkers = slipping = rejoined = 0
    actions: Counter[str] = Counter()
    for _, chat in program:
        spoke = {m.sender.id for m in _messages(chat)}
        joins = Counter(e.member.id for e in _events(chat) if e.action == "join")
        lurkers += sum(1 for uid in joins if uid not in spoke)
        rejoined += sum(1 for n in joins.values() if n > 1)
        actions.update(e.action for e in _events(chat))
        end = max(m.sent_at for m in _messages(chat))
        gone = {e.member.id for e in _events(chat) if e.action != "join"}
        last_said: dict[str, datetime] = {}
        for m in _messages(chat):
            last_said[m.sender.id] = m.sent_at
        slipping += sum(
            1 for uid, at in last_said.items() if uid not in gone and at < end - timedelta(days=60)
        )
    assert lurkers >= 100
    assert slipping >= 10
    assert rejoined >= 2
    assert actions["leave"] >= 50 and actions["remove"] >= 10


def test_big_groups_have_many_lurkers(program):
    for _, chat in program:
        if len(chat.users) > 100:
            spoke = {m.sender.id for m in _messages(chat)}
            silent = sum(1 for u in chat.users if u.id not in spoke)
            assert silent >= 0.35 * len(chat.users)


def test_joins_have_sources_and_inviters_and_history_starts_both_ways(program):
    sources = Counter(e.source for _, c in program for e in _events(c) if e.action == "join")
    assert {"invite", "link", "qr"} <= set(sources)
    assert any(e.actor for _, c in program for e in _events(c) if e.action == "join")
    start = DEFAULT_END - timedelta(days=182)
    at_start = no_event = 0
    for _, chat in program:
        joined = {e.member.id for e in _events(chat) if e.action == "join"}
        at_start += sum(
            1 for e in _events(chat) if e.action == "join" and e.at < start + timedelta(hours=4)
        )
        no_event += sum(1 for u in chat.users if u.id not in joined)
    assert at_start >= 20 and no_event >= 100


def test_welcomes_name_the_newcomer_and_newcomers_introduce_themselves(program):
    welcomes = intros = 0
    for _, chat in program:
        joined_at = {e.member.id: e.at for e in _events(chat) if e.action == "join"}
        for m in _messages(chat):
            if m.mentions and m.text.startswith(("欢迎", "Welcome", "Hey @")):
                who = m.mentions[0]
                assert f"@{who.name}" in m.text
                assert who.id in joined_at
                welcomes += 1
            if m.text.startswith(("大家好，我是", "新人报到", "Hi all! I'm", "Hello 👋")):
                assert m.sender.id in joined_at
                assert m.sent_at - joined_at[m.sender.id] <= timedelta(hours=6)
                intros += 1
    assert welcomes >= 30 and intros >= 20


def test_questions_with_and_without_answers(program):
    asked = answered = 0
    for _, chat in program:
        replied = {m.reply_to for m in _messages(chat) if m.reply_to}
        for m in _messages(chat):
            if _is_question(m):
                asked += 1
                answered += m.id in replied
    assert asked >= 200
    assert 0.08 <= 1 - answered / asked <= 0.40


def test_answers_come_within_minutes_mostly(program):
    delays = []
    for _, chat in program:
        by_id = {m.id: m for m in _messages(chat)}
        for m in _messages(chat):
            if m.reply_to and _is_question(by_id[m.reply_to]):
                delays.append(m.sent_at - by_id[m.reply_to].sent_at)
    delays.sort()
    assert delays[len(delays) // 2] <= timedelta(minutes=15)


def test_both_languages(program):
    cjk = re.compile(r"[\u4e00-\u9fff]")

    def share(chats):
        texts = [m.text for c in chats for m in _messages(c) if m.text.strip()]
        return sum(1 for t in texts if cjk.search(t)) / len(texts)

    by = defaultdict(list)
    for platform, chat in program:
        by[platform].append(chat)
    assert share(by["wechat"]) > 0.85
    assert share(by["slack"]) < 0.02
    assert 0.2 < share(by["telegram"]) < 0.95


def test_checkins_with_streaks_and_gaps(program):
    pattern = re.compile(r"(打卡|签到|Day ?)\D{0,3}(\d+)")
    streak_found = gap_found = False
    for _, chat in program:
        zone = ZoneInfo(chat.timezone)
        days: dict[str, list] = defaultdict(list)
        for m in _messages(chat):
            if pattern.search(m.text) and not m.sender.is_bot:
                days[m.sender.id].append(m.sent_at.astimezone(zone).date())
        for dates in days.values():
            run = 1
            for a, b in itertools.pairwise(dates):
                gap = (b - a).days
                run = run + 1 if gap == 1 else 1
                streak_found |= run >= 5
                gap_found |= gap >= 3
    assert streak_found and gap_found


def test_checkin_numbers_count_up(program):
    for _, chat in program:
        numbers = defaultdict(list)
        for m in _messages(chat):
            found = re.search(r"(?:打卡|签到|Day ?)\D{0,3}?(\d+)", m.text)
            if found and not m.sender.is_bot and m.reply_to is None:
                numbers[m.sender.id].append(int(found.group(1)))
        for seq in numbers.values():
            if len(seq) > 3:
                assert seq == sorted(seq)


def test_off_topic_red_packets_and_ads(program):
    kinds = Counter((p, m.kind) for p, c in program for m in _messages(c))
    assert kinds[("wechat", "red_packet")] >= 5
    assert not kinds[("telegram", "red_packet")] and not kinds[("slack", "red_packet")]
    for _, c in program:
        for m in _messages(c):
            if m.kind == "red_packet":
                assert m.text.startswith("[红包]")
    ads = 0
    for _, chat in program:
        removed = {e.member.id for e in _events(chat) if e.action == "remove"}
        for m in _messages(chat):
            if "加V" in m.text or "http://" in m.text:
                ads += 1
                assert m.sender.id in removed or m.sent_at > DEFAULT_END - timedelta(hours=6)
    assert ads >= 5


def test_feedback_with_near_duplicates(program):
    beta = next(c for p, c in program if p == "wechat" and "内测" in c.name)
    crash = [m for m in _messages(beta) if "闪退" in m.text]
    assert len(crash) >= 10 and len({m.sender.id for m in crash}) >= 5
    assert sum(1 for m in crash if m.text == "闪退了") >= 2
    slack_beta = next(c for p, c in program if p == "slack" and "beta" in c.name)
    assert any("crash" in m.text.lower() for m in _messages(slack_beta))
    assert any(
        m.text.startswith(("Please add", "Would love", "Feature request"))
        for m in _messages(slack_beta)
    )


def test_kinds_mentions_reactions_and_edits(program):
    kinds = Counter(m.kind for _, c in program for m in _messages(c))
    assert {"text", "media", "sticker", "file", "link"} <= set(kinds)
    for platform, chat in program:
        for m in _messages(chat):
            for who in m.mentions:
                assert f"@{who.name}" in m.text
            if platform == "wechat":
                assert not m.reactions and m.edited_at is None
    reacted = sum(1 for p, c in program if p != "wechat" for m in _messages(c) if m.reactions)
    edited = sum(1 for p, c in program if p != "wechat" for m in _messages(c) if m.edited_at)
    assert reacted >= 50 and edited >= 5


def test_evening_rhythm_and_discussion_window(program):
    evening = night = 0
    for _, chat in program:
        zone = ZoneInfo(chat.timezone)
        for m in _messages(chat):
            hour = m.sent_at.astimezone(zone).hour
            evening += 19 <= hour <= 22
            night += 1 <= hour <= 4
    assert evening > 5 * night
    book = next(c for _, c in program if "读书会" in c.name)
    zone = ZoneInfo(book.timezone)
    local = [m.sent_at.astimezone(zone) for m in _messages(book)]
    in_window = sum(
        1 for t in local if t.weekday() < 5 and (19, 20) <= (t.hour, t.minute) < (20, 5)
    )
    assert in_window >= 0.4 * len(local)


def test_groups_differ_in_volume(program):
    volumes = sorted((len(_messages(c)) for _, c in program), reverse=True)
    assert volumes[0] >= 3 * volumes[len(volumes) // 2]


def test_fewer_groups_and_other_end():
    end = datetime(2025, 3, 1, tzinfo=UTC)
    program = generate_program(groups=3, members=300, messages=3000, days=60, end=end)
    assert [p for p, _ in program] == ["wechat", "telegram", "slack"]
    for _, chat in program:
        for m in _messages(chat):
            assert end - timedelta(days=60) <= m.sent_at < end
    assert abs(_total(program) - 3000) <= 150


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_program(groups=0)
    with pytest.raises(ValueError):
        generate_program(end=datetime(2026, 1, 1))  # naive


def test_default_size_completes_with_the_asked_volume():
    began = time.perf_counter()
    program = generate_program()
    elapsed = time.perf_counter() - began
    assert abs(_total(program) - 100_000) <= 5000
    print(f"generate_program defaults: {elapsed:.1f} s")  # shown with -s; no timing assertion


@pytest.mark.parametrize("platform", ["telegram", "slack", "wechat"])
def test_write_program_uses_the_platform_exporter(platform, tmp_path, program):
    pytest.importorskip(f"shequn.demo.exporters.{platform}")
    chats = [(p, c) for p, c in program if p == platform][:2]
    written = write_program(chats, tmp_path)
    assert [fmt for fmt, _ in written] == [FORMATS[platform]] * len(chats)
    for (_, chat), (_, path) in zip(chats, written, strict=True):
        assert path.exists()
        assert chat.platform_id in str(path)  # `shequn demo` finds the chat's zone by its path
