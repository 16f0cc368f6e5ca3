"""One simulated group: its members, their membership spells, its clock, and the chat it yields.

Times are epoch seconds (int) while simulating and become aware UTC datetimes on the records.
Membership is decided first (spells with their join and end), so that every message can be
checked against it: nobody speaks outside a spell, lurkers never speak, slipping members stop.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from shequn.demo import generate_text as tx
from shequn.demo.generate_people import People, Person
from shequn.demo.generate_themes import Theme
from shequn.demo.model import DemoChat, DemoEvent, DemoMessage, DemoUser

Kind = Literal["text", "media", "sticker", "file", "red_packet", "link"]
Source = Literal["invite", "link", "qr", "unknown"]
DAY = 86_400
# Relative chat volume by local hour: quiet nights, a lunch bump, the evening peak.
EVENING = (
    3,
    1.5,
    0.8,
    0.5,
    0.5,
    1,
    4,
    10,
    16,
    18,
    17,
    16,
    20,
    18,
    14,
    14,
    15,
    16,
    19,
    24,
    30,
    32,
    26,
    13,
)
WORKDAY = (
    2,
    1,
    0.5,
    0.5,
    0.5,
    1,
    3,
    8,
    14,
    20,
    22,
    21,
    18,
    21,
    22,
    21,
    18,
    14,
    12,
    14,
    15,
    13,
    9,
    5,
)


@dataclass(slots=True, eq=False)
class Spell:
    """One stay in the group: [start, end) with how it began and how it ended."""

    start: int
    end: int
    join: Source | None = None  # None: no join event (joined before the history starts)
    founding: bool = False  # joined when the group was created (no welcome)
    ends: Literal["leave", "remove"] | None = None


@dataclass(slots=True, eq=False)
class Member:
    user: DemoUser
    person: Person
    role: str = "member"  # owner, admin, bot, member, spammer
    spells: list[Spell] = field(default_factory=list)
    weight: float = 0.0  # how much they talk; 0 for lurkers, spammers and bots
    expert: float = 1.0  # how likely they answer and share
    refer: float = 0.1  # how likely they bring people in
    quiet_after: int = 2**62  # a slipping member stops talking after this

    @property
    def lang(self) -> str:
        return self.person.lang

    @property
    def name(self) -> str:
        return self.user.name

    def present(self, t: int) -> bool:
        # a plain loop, not any(<genexpr>): this is the generator's hottest line
        for s in self.spells:  # noqa: SIM110
            if s.start < t < s.end:
                return True
        return False

    def can_speak(self, t: int) -> bool:
        return self.weight > 0 and t < self.quiet_after and self.present(t)


class Picker:
    """Weighted choice of members by static weights, retried until one fits the moment."""

    def __init__(self, members: list[Member], weights: list[float]) -> None:
        pairs = [(m, w) for m, w in zip(members, weights, strict=True) if w > 0]
        self.members = [m for m, _ in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, w in pairs:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(
        self, rng: random.Random, ok: Callable[[Member], bool], tries: int = 30
    ) -> Member | None:
        if not self.members:
            return None
        for _ in range(tries):
            m = self.members[bisect_right(self.cum, rng.random() * self.total)]
            if ok(m):
                return m
        return None


class Group:
    """State of one group while it is simulated; `finish()` turns it into a DemoChat."""

    def __init__(
        self,
        theme: Theme,
        persons: list[Person],
        people: People,
        *,
        platform_id: str,
        target: int,
        start: int,
        end: int,
        rng: random.Random,
    ) -> None:
        self.theme, self.rng, self.people = theme, rng, people
        self.platform_id, self.target, self.start, self.end = platform_id, target, start, end
        self.created = {"old": start - 400 * DAY, "start": start, "late": end - 21 * DAY}[
            theme.founded
        ]
        self.active_from = max(start, self.created)
        self.items: list[tuple[int, int, DemoMessage | DemoEvent]] = []
        self.n_msgs = 0
        self.msg_t: dict[int, int] = {}
        self.replies: list[tuple[DemoMessage, DemoMessage]] = []
        self.boost: set[int] = set()  # id() of messages that draw more reactions
        self.prunes: list[int] = []  # times the operator removed silent members
        self.topics: dict[int, DemoMessage] = {}  # session start -> the operator's opener
        self.now = start  # the moment being simulated (picks the book club's book of the month)
        self._book0 = rng.randrange(len(tx.SLOTS["book"]))
        self.members = self._roster(persons)
        self.staff = [m for m in self.members if m.role in ("owner", "admin")]
        self.bot = next((m for m in self.members if m.role == "bot"), None)
        self.talkers = self.picker([m.weight for m in self.members])
        self.experts = self.picker([m.weight * m.expert for m in self.members])
        self._clock()

    # roster -------------------------------------------------------------------------------
    def _roster(self, persons: list[Person]) -> list[Member]:
        rng, th = self.rng, self.theme
        acc = self.people.account
        members = [Member(acc(p, th.platform), p) for p in persons]
        members[0].role = "owner"
        if len(members) > 3 and (persons[1].groups > 1 or rng.random() < 0.5):
            members[1].role = "admin"
        if th.bot:
            bot_person = self.people.named(th.bot, th.bot_lang)
            members.insert(1, Member(acc(bot_person, th.platform, is_bot=True), bot_person, "bot"))
        rest = [m for m in members if m.role == "member"]
        rng.shuffle(rest)
        loners = [m for m in rest if m.person.groups == 1]
        n_spam = min(len(loners) // 8, 1 + int(len(rest) > 60) + int(th.platform == "wechat"))
        if self.target < 50:  # a nearly silent group draws no spammers
            n_spam = 0
        for m in loners[:n_spam]:
            m.role = "spammer"
        talkers = [m for m in rest if m.role == "member"]
        n_lurk = round(len(talkers) * (0.5 if th.size == (0, 0) else 0.4))
        for m in talkers[:n_lurk]:
            m.refer = 0.05
        speakers = talkers[n_lurk:]
        head = 2 + len(speakers) / 25  # a flatter head in big groups: no one person dominates
        for rank, m in enumerate(speakers):
            m.weight = (rank + 1 + head) ** -1.6 * rng.lognormvariate(0, 0.3)
            m.expert = 6.0 if rng.random() < 0.08 else 1.0
            m.refer = (rng.paretovariate(1.5) - 1) * (8 if rng.random() < 0.04 else 1)
        top = max((m.weight for m in speakers), default=1.0)
        for m in self.staff_of(members):
            m.weight, m.expert, m.refer = top * (0.9 if m.role == "owner" else 0.6), 3.0, 4.0
        for m in speakers:
            if rng.random() < 0.18:
                m.quiet_after = -1  # decided once the join time is known
        return members

    @staticmethod
    def staff_of(members: list[Member]) -> list[Member]:
        return [m for m in members if m.role in ("owner", "admin")]

    # clock --------------------------------------------------------------------------------
    def _clock(self) -> None:
        rng, th = self.rng, self.theme
        zone = ZoneInfo(th.zone)
        day0 = datetime.fromtimestamp(self.start, zone).date()
        self.mids: list[int] = []
        self.dates: list[date] = []
        self.slot_t: list[int] = []
        self.slot_cum: list[float] = []
        self.sessions: list[int] = []
        profile = WORKDAY if th.rhythm == "work" else EVENING
        total, span = 0.0, self.end - self.start
        for d in range((self.end - self.start) // DAY + 2):
            day = day0 + timedelta(days=d)
            mid = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
            self.mids.append(mid)
            self.dates.append(day)
            weekend = day.weekday() >= 5
            noise = rng.lognormvariate(0, 0.35) * (0.55 if weekend else 1.0)
            for h in range(24):
                t = mid + h * 3600
                if t < self.active_from or t >= self.end - 3600:
                    continue
                total += profile[h] * noise * (0.6 + 0.8 * (t - self.start) / span)
                self.slot_t.append(t)
                self.slot_cum.append(total)
            if th.window and day.weekday() in th.window[0]:
                s0 = mid + th.window[1] * 60
                if s0 >= self.active_from and s0 + th.window[2] * 60 < self.end:
                    self.sessions.append(s0)

    def when(self, *, sessions: bool = True) -> int:
        """A moment for a new conversation, following the group's rhythm and its sessions."""
        rng, th = self.rng, self.theme
        if sessions and self.sessions and th.window and rng.random() < th.window_share:
            return rng.choice(self.sessions) + rng.randrange(max(60, th.window[2] * 60 - 300))
        i = bisect_right(self.slot_cum, rng.random() * self.slot_cum[-1])
        return self.slot_t[min(i, len(self.slot_t) - 1)] + rng.randrange(3600)

    def local_hour(self, t: int) -> int:
        d = max(0, bisect_right(self.mids, t) - 1)
        return (t - self.mids[d]) // 3600

    def local_date(self, t: int) -> date:
        return self.dates[max(0, bisect_right(self.mids, t) - 1)]

    def day_start(self, t: int) -> int:
        return self.mids[max(0, bisect_right(self.mids, t) - 1)]

    # records ------------------------------------------------------------------------------
    def say(
        self,
        m: Member,
        t: int,
        text: str,
        kind: Kind = "text",
        parent: DemoMessage | None = None,
        mentions: list[DemoUser] | None = None,
    ) -> DemoMessage | None:
        """Post a message at t if the sender is a member then; None otherwise."""
        if parent is not None:
            t = max(t, self.msg_t[id(parent)] + 1)
        if t >= self.end or not m.present(t):
            return None
        sent = datetime.fromtimestamp(t, tz=UTC)
        msg = DemoMessage(id="", sent_at=sent, sender=m.user, text=text, kind=kind)
        if mentions:
            msg.mentions = mentions
        self.msg_t[id(msg)] = t
        self.items.append((t, len(self.items), msg))
        self.n_msgs += 1
        if parent is not None:
            self.replies.append((msg, parent))
        return msg

    def event(
        self,
        t: int,
        action: Literal["join", "leave", "remove"],
        m: Member,
        actor: Member | None = None,
        source: Source = "unknown",
    ) -> None:
        ev = DemoEvent(
            id="",
            at=datetime.fromtimestamp(t, tz=UTC),
            action=action,
            member=m.user,
            actor=actor.user if actor else None,
            source=source,
        )
        self.items.append((t, len(self.items), ev))

    def picker(self, weights: list[float]) -> Picker:
        return Picker(self.members, weights)

    def operator(self, t: int) -> Member | None:
        """The staff member who acts at t (admins do most of the daily work)."""
        here = [m for m in self.staff if m.present(t)]
        if not here:
            return None
        admins = [m for m in here if m.role == "admin"]
        return self.rng.choice(admins) if admins and self.rng.random() < 0.6 else here[0]

    def phrase(self, m: Member, kind: str, **values: object) -> str:
        """A phrase of the group's theme in the member's language."""
        return tx.phrase(self.rng, self.theme.key, self.lang_of(m), kind, **self._values(values))

    def question(self, m: Member) -> tuple[str, list[str]]:
        """A question `m` would ask here, and the answers that fit it."""
        return tx.question(self.rng, self.theme.key, self.lang_of(m), **self._values({}))

    def _values(self, values: dict[str, object]) -> dict[str, object]:
        if self.theme.key == "book" and "book" not in values:  # one book a month, read together
            d = self.local_date(self.now)
            books = tx.SLOTS["book"]
            values["book"] = books[(self._book0 + d.year * 12 + d.month) % len(books)]
        return values

    def session_at(self, t: int) -> int | None:
        """The start of the discussion session under way at t, if any."""
        i = bisect_right(self.sessions, t) - 1
        if i >= 0 and self.theme.window and t < self.sessions[i] + self.theme.window[2] * 60:
            return self.sessions[i]
        return None

    def lang_of(self, m: Member) -> str:
        return {"wechat": "zh", "slack": "en"}.get(self.theme.platform, m.lang)

    # the chat -----------------------------------------------------------------------------
    def finish(self) -> DemoChat:
        """Add reactions and edits, put everything in time order and number it."""
        if self.theme.platform != "wechat":
            self._reactions_and_edits()
        self.items.sort(key=lambda x: (x[0], x[1]))
        for i, (_, _, item) in enumerate(self.items, start=1):
            item.id = str(i)
        for child, parent in self.replies:
            child.reply_to = parent.id
        return DemoChat(
            platform_id=self.platform_id,
            name=self.theme.name,
            timezone=self.theme.zone,
            users=[m.user for m in self.members],
            items=[item for _, _, item in self.items],
            topic=self.theme.topic,
        )

    def _reactions_and_edits(self) -> None:
        rng = self.rng
        pool = self.picker([m.weight + 0.02 * (m.weight > 0) for m in self.members])
        emoji = ["👍"] * 6 + ["❤"] * 3 + ["🔥", "🎉", "😁", "🙏", "👀", "👌"]
        for _, _, msg in self.items:
            if not isinstance(msg, DemoMessage):
                continue
            t = self.msg_t[id(msg)]
            boosted = msg.kind in ("link", "file") or id(msg) in self.boost
            if rng.random() < (0.5 if boosted else 0.06):
                self._react(msg, t, pool, emoji)
            if msg.kind == "text" and not msg.sender.is_bot and rng.random() < 0.015:
                msg.edited_at = msg.sent_at + timedelta(seconds=rng.randint(15, 600))

    def _react(self, msg: DemoMessage, t: int, pool: Picker, emoji: list[str]) -> None:
        """A few members who are in the group at t react, each once."""
        seen: set[str] = {msg.sender.id}

        def fresh(m: Member) -> bool:
            return m.present(t) and m.user.id not in seen

        for _ in range(1 + min(int(self.rng.expovariate(0.6)), 9)):
            who = pool.pick(self.rng, fresh, 8)
            if who is not None:
                seen.add(who.user.id)
                msg.reactions.append((self.rng.choice(emoji), who.user))
