"""The seeded generator of a realistic community program for `shequn demo`.

`generate_program` builds a dozen groups over six months (WeChat groups in Chinese, Telegram
groups mixing Chinese and English, Slack channels in English) as neutral DemoChat descriptions;
`write_program` hands each to the exporter of its platform, which writes a real export file.

Everything is drawn from one `random.Random(seed)`, and the end of the history defaults to a
fixed date, so the same arguments always give the same program. What the program contains is
what the later features look for: a heavy tail of talkers (2/8), lurkers, slipping members,
leavers and removed spammers, questions with and without answers, check-in streaks, product
feedback with near-duplicates, red packets and ads, welcomes and self-introductions, one group
far over the size limit and one tiny new group.
"""

from __future__ import annotations

import importlib
import logging
import random
import string
from datetime import UTC, datetime
from pathlib import Path

from shequn.demo.generate_group import DAY, Group
from shequn.demo.generate_members import emit_membership, plan_membership
from shequn.demo.generate_people import People, Person
from shequn.demo.generate_talk import fill, scheduled
from shequn.demo.generate_themes import BIG, Theme, pick_themes
from shequn.demo.model import DemoChat

log = logging.getLogger(__name__)

DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)
#: `shequn import --format` name of what each platform's exporter writes
FORMATS = {"telegram": "telegram", "slack": "slack", "wechat": "wechat-memotrace"}
SHARED = 0.10  # share of a group's seats taken by people who are also in another group
OPERATORS = {  # the program's own community operators, admins in most groups of a platform
    "wechat": ("社群小助手-小鹿", "zh"),
    "telegram": ("Eric｜社区运营", "zh"),
    "slack": ("Maya (Community)", "en"),
}


def generate_program(
    *,
    seed: int = 7,
    groups: int = 12,
    members: int = 2000,
    messages: int = 100_000,
    days: int = 182,
    end: datetime | None = None,
) -> list[tuple[str, DemoChat]]:
    """A community program of `groups` chats as (platform, chat) pairs, the same for one seed.

    About `members` distinct people and `messages` messages in all (within a few percent), over
    the `days` before `end` (default 2026-11-01 UTC). Platforms are "telegram", "slack", "wechat".
    """
    if groups < 1 or members < 1 or messages < 0 or days < 1:
        raise ValueError("groups, members and days must be positive and messages not negative")
    end = end or DEFAULT_END
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    rng = random.Random(seed)
    end_t = int(end.timestamp())
    start_t = end_t - days * DAY
    themes = pick_themes(groups)
    people = People(rng)
    rosters = _place_people(themes, members, rng, people)
    targets = _volumes(themes, messages, rng)
    ids: set[str] = set()
    program: list[tuple[str, DemoChat]] = []
    for theme, roster, target in zip(themes, rosters, targets, strict=True):
        group = Group(
            theme,
            roster,
            people,
            platform_id=_chat_id(theme, rng, ids),
            target=target,
            start=start_t,
            end=end_t,
            rng=random.Random(rng.getrandbits(64)),
        )
        plan_membership(group)
        emit_membership(group)
        scheduled(group)
        fill(group)
        program.append((theme.platform, group.finish()))
    log.debug("demo program: %d groups, %d people", len(program), people.count)
    return program


def write_program(program: list[tuple[str, DemoChat]], out_dir: Path) -> list[tuple[str, Path]]:
    """Write each chat with its platform's exporter under `out_dir`, one folder per chat.

    Returns (format name for `shequn import --format`, written path) pairs, in program order.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[tuple[str, Path]] = []
    for platform, chat in program:
        exporter = importlib.import_module(f"shequn.demo.exporters.{platform}")
        folder = out_dir / folder_name(platform, chat)
        folder.mkdir(parents=True, exist_ok=True)
        written.append((FORMATS[platform], exporter.write(chat, folder)))
    return written


def folder_name(platform: str, chat: DemoChat) -> str:
    """A file-system-safe folder name that still contains the chat's id and readable name."""
    safe = "".join(c if c.isalnum() or c in "-_@" else "-" for c in chat.name).strip("-")
    return f"{platform}-{chat.platform_id}-{safe}"


def _lang_for(theme: Theme, rng: random.Random) -> str:
    return "zh" if rng.random() < theme.zh else "en"


def _place_people(
    themes: list[Theme], members: int, rng: random.Random, people: People
) -> list[list[Person]]:
    """Who is in which group: the small groups first, the big ones take the people left over."""
    sizes = [0 if th.size == BIG else rng.randint(*th.size) for th in themes]
    n_big = sum(1 for th in themes if th.size == BIG)
    need = sum(sizes) * (1 - SHARED) + 120 * n_big
    if members < need:  # a small program: shrink every group alike
        sizes = [max(3, round(s * members / need)) if s else 0 for s in sizes]
    placed: list[Person] = []
    seen: set[int] = set()
    rosters: list[list[Person]] = [[] for _ in themes]
    order = [i for i, s in enumerate(sizes) if s] + [i for i, s in enumerate(sizes) if not s]
    per_platform: dict[str, int] = {}
    big_left = n_big
    for i in order:
        th = themes[i]
        k = per_platform[th.platform] = per_platform.get(th.platform, 0) + 1
        roster = [people.new(_lang_for(th, rng))]
        if k % 3 != 0 and (th.size == BIG or th.size[1] >= 20):
            name, lang = OPERATORS[th.platform]
            roster.append(people.named(name, lang))
        if sizes[i]:
            n_new = round(sizes[i] * (1 - SHARED))
            n_shared = sizes[i] - n_new
        else:
            left = members - len(seen) - 1
            n_new = max(20, round(left * (0.55 if big_left > 1 else 1.0)))
            if big_left > 1 and th.platform == "wechat":
                n_new = min(n_new, 470)  # a WeChat group holds 500
            n_shared = round(n_new * SHARED / (1 - SHARED))
            big_left -= 1
        _fill_roster(roster, th, n_new, n_shared, placed, rng, people)
        for p in roster:
            p.groups += 1
            if id(p) not in seen:
                seen.add(id(p))
                placed.append(p)
        rosters[i] = roster
    return rosters


def _fill_roster(
    roster: list[Person],
    theme: Theme,
    n_new: int,
    n_shared: int,
    placed: list[Person],
    rng: random.Random,
    people: People,
) -> None:
    inside = {id(p) for p in roster}
    langs = {"wechat": {"zh"}, "slack": {"en"}}.get(theme.platform, {"zh", "en"})
    pool = [p for p in placed if p.groups < 3 and p.lang in langs and id(p) not in inside]
    shared = rng.sample(pool, min(n_shared, len(pool)))
    fresh = [people.new(_lang_for(theme, rng)) for _ in range(n_new + n_shared - len(shared))]
    rest = shared + fresh
    rng.shuffle(rest)
    roster.extend(rest)


def _volumes(themes: list[Theme], messages: int, rng: random.Random) -> list[int]:
    weights = [th.volume * (1.0 if th.size == BIG else rng.uniform(0.75, 1.25)) for th in themes]
    total = sum(weights)
    return [round(messages * w / total) for w in weights]


def _chat_id(theme: Theme, rng: random.Random, taken: set[str]) -> str:
    while True:
        if theme.platform == "telegram":
            cid = str(rng.randrange(10**9, 2 * 10**9))
        elif theme.platform == "slack":
            alnum = string.ascii_uppercase + string.digits
            cid = "C0" + "".join(rng.choice(alnum) for _ in range(rng.randint(7, 9)))
        else:
            cid = f"{rng.randrange(10**10, 6 * 10**10)}@chatroom"
        if cid not in taken:
            taken.add(cid)
            return cid
