"""What a simulated group talks about: scheduled posts, check-ins, and conversations.

Conversations ("threads") start at moments drawn from the group's rhythm, with a starter drawn
from the heavy-tailed talk weights, and the rest of the group replying within minutes. The
group's message budget is filled with conversations after the scheduled posts and check-ins.
"""

from __future__ import annotations

from collections.abc import Callable

from shequn.demo import generate_text as tx
from shequn.demo.generate_group import DAY, Group, Kind, Member
from shequn.demo.model import DemoMessage

_MEDIA_CAPTIONS = {
    "zh": ["", "", "", "看图👇", "今天的成果", "截图在这"],
    "en": ["", "", "", "screenshot", "look at this 👇"],
}
_FEEDBACK = (["bug", "idea", "complain", "praise"], [0.5, 0.22, 0.14, 0.14])


def scheduled(g: Group) -> None:
    """Announcements, discussion-window openers, bot posts and daily check-ins."""
    _announcements(g)
    _session_topics(g)
    _bot_posts(g)
    _checkins(g)


def fill(g: Group) -> None:
    """Hold conversations until the group has its share of the program's messages."""
    rng, th = g.rng, g.theme
    mix = dict(th.mix)
    if th.platform != "wechat":  # red packets are a WeChat habit
        mix["gossip"] = mix.get("gossip", 0) + mix.pop("redpacket", 0)
    if tx.bank(th.key, "zh", "bug") == [] and tx.bank(th.key, "en", "bug") == []:
        mix["discussion"] = mix.get("discussion", 0) + mix.pop("feedback", 0)
    kinds = [k for k, w in mix.items() if w > 0]
    weights = [mix[k] for k in kinds]
    tries = 0
    while g.n_msgs < g.target and tries < 4 * g.target + 50:
        tries += 1
        kind = rng.choices(kinds, weights)[0]
        g.now = g.when()
        THREADS[kind](g, g.now)


def _talker(
    g: Group,
    t: int,
    *,
    lang: str | None = None,
    exclude: Member | None = None,
    expert: bool = False,
    members_only: bool = False,
) -> Member | None:
    """Someone able to speak at t (same language preferred in mixed groups)."""
    rng = g.rng

    def ok(m: Member) -> bool:
        if m is exclude or not m.can_speak(t) or (members_only and m.role != "member"):
            return False
        return lang is None or m.lang == lang or rng.random() < 0.2

    return (g.experts if expert else g.talkers).pick(rng, ok)


def _question(g: Group, t: int) -> None:
    rng = g.rng
    asker = _talker(g, t, members_only=True)
    if asker is None:
        return
    lang = g.lang_of(asker)
    text, fitting = g.question(asker)
    q = g.say(asker, t, text)
    if q is None or rng.random() < g.theme.unanswered:
        return
    r = rng.random()
    t += (
        rng.randint(30, 600)
        if r < 0.7
        else rng.randint(600, 3600)
        if r < 0.9
        else rng.randint(3600, 8 * 3600)
    )
    last: DemoMessage | None = None
    for _ in range(1 + (rng.random() < 0.45) + (rng.random() < 0.15)):
        a = _talker(g, t, lang=lang, exclude=asker, expert=True)
        if a is None:
            break
        text = fitting.pop(rng.randrange(len(fitting))) if fitting else g.phrase(a, "a")
        mentions = None
        if rng.random() < 0.3:
            text, mentions = f"@{asker.name} {text}", [asker.user]
        msg = g.say(a, t, text, parent=q, mentions=mentions)
        if msg is not None:
            last = msg
            g.boost.add(id(msg))
        t += rng.randint(40, 900)
    if last is not None and rng.random() < 0.5 and asker.can_speak(t):
        g.say(asker, t, rng.choice(tx.THANKS[lang]), parent=last)


def _discussion(g: Group, t: int) -> None:
    rng = g.rng
    starter = _talker(g, t)
    if starter is None:
        return
    lang = g.lang_of(starter)
    people = [starter]
    for _ in range(rng.randint(1, 3)):
        other = _talker(g, t, lang=lang, exclude=starter)
        if other is not None and other not in people:
            people.append(other)
    said: list[tuple[Member, DemoMessage]] = []
    used: set[str] = set()
    session = g.session_at(t)
    topic = g.topics.get(session) if session is not None else None
    last = None
    for i in range(rng.randint(3, 8)):
        choices = [p for p in people if p is not last and p.can_speak(t)]
        if not choices:
            break
        sp = starter if i == 0 else rng.choice(choices)
        text = ""
        for _ in range(4):  # people rarely repeat a sentence within one conversation
            text = g.phrase(sp, "talk") if rng.random() < 0.65 else rng.choice(tx.CHATTER[lang])
            if text not in used:
                break
        used.add(text)
        earlier = [msg for who, msg in said[-3:] if who is not sp]
        parent = rng.choice(earlier) if earlier and rng.random() < 0.3 else None
        if i == 0 and topic is not None and rng.random() < 0.6:
            parent = topic  # answering tonight's topic
        mentions = None
        if last is not None and last is not sp and rng.random() < 0.08:
            text, mentions = f"@{last.name} {text}", [last.user]
        msg = g.say(sp, t, text, parent=parent, mentions=mentions)
        if msg is not None:
            said.append((sp, msg))
        last = sp
        t += rng.randint(15, 300)


def _share(g: Group, t: int) -> None:
    rng = g.rng
    who = _talker(g, t, expert=True)
    if who is None:
        return
    lang = g.lang_of(who)
    if rng.random() < 0.65:
        url = tx.fill(rng.choice(tx.SHARE_URLS), rng)
        msg = g.say(who, t, f"{g.phrase(who, 'share')} {url}", "link")
    else:
        msg = g.say(who, t, g.phrase(who, "file"), "file")
    if msg is None:
        return
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        t += rng.randint(60, 1800)
        fan = _talker(g, t, lang=lang, exclude=who)
        if fan is not None:
            parent = msg if rng.random() < 0.6 else None
            g.say(fan, t, rng.choice(tx.SHARE_THANKS[lang]), parent=parent)


def _feedback(g: Group, t: int) -> None:
    rng = g.rng
    who = _talker(g, t, members_only=True)
    if who is None:
        return
    lang = g.lang_of(who)
    kind = rng.choices(*_FEEDBACK)[0]
    fb = g.say(who, t, g.phrase(who, kind))
    if fb is None:
        return
    echoes = rng.randint(1, 5) if kind == "bug" and rng.random() < 0.45 else 0
    if kind == "idea" and rng.random() < 0.3:
        echoes = rng.randint(1, 2)
    for at in sorted(t + rng.randint(60, 5400) for _ in range(echoes)):
        same = _talker(g, at, lang=lang, exclude=who)
        if same is not None:
            g.say(same, at, g.phrase(same, "plus1"), parent=fb if rng.random() < 0.4 else None)
    at = t + rng.randint(120, 7200)
    op = g.operator(at)
    if op is not None and op is not who and rng.random() < 0.6:
        g.say(op, at, g.phrase(op, "ack"), parent=fb)


def _greeting(g: Group, t: int) -> None:
    rng = g.rng
    hour = g.local_hour(t)
    night = hour >= 21 or hour < 2
    if not night and not 5 <= hour < 11:
        t = g.day_start(t) + rng.randint(6 * 3600 + 1800, 9 * 3600 + 1800)
        if t < g.active_from or t >= g.end:
            return
    bank = tx.NIGHT if night else tx.MORNING
    first = _talker(g, t)
    if first is None:
        return
    lang = g.lang_of(first)
    g.say(first, t, rng.choice(bank[lang]))
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        t += rng.randint(30, 1200)
        other = _talker(g, t, lang=lang, exclude=first)
        if other is not None:
            g.say(other, t, rng.choice(bank[lang]))


def _single(g: Group, t: int, make: Callable[[Member, str], tuple[str, Kind]]) -> None:
    who = _talker(g, t)
    if who is not None:
        text, kind = make(who, g.lang_of(who))
        g.say(who, t, text, kind)


def _chatter(g: Group, t: int) -> None:
    _single(g, t, lambda m, lang: (g.rng.choice(tx.CHATTER[lang]), "text"))


def _sticker(g: Group, t: int) -> None:
    _single(g, t, lambda m, lang: (g.rng.choice(tx.STICKERS), "sticker"))


def _media(g: Group, t: int) -> None:
    _single(g, t, lambda m, lang: (g.rng.choice(_MEDIA_CAPTIONS[lang]), "media"))


def _gossip(g: Group, t: int) -> None:
    rng = g.rng
    who = _talker(g, t)
    if who is None:
        return
    lang = g.lang_of(who)
    msg = g.say(who, t, tx.fill(rng.choice(tx.GOSSIP[lang]), rng))
    for _ in range(rng.choice([0, 1, 2])):
        t += rng.randint(20, 600)
        other = _talker(g, t, lang=lang, exclude=who)
        if other is not None:
            parent = msg if rng.random() < 0.5 else None
            g.say(other, t, rng.choice(tx.CHATTER[lang]), parent=parent)


def _redpacket(g: Group, t: int) -> None:
    rng = g.rng
    who = g.operator(t) if rng.random() < 0.5 else _talker(g, t)
    if who is None:
        return
    if g.say(who, t, "[红包]" + rng.choice(tx.SLOTS["blessing"]), "red_packet") is None:
        return
    for _ in range(rng.randint(1, 5)):
        t += rng.randint(10, 240)
        other = _talker(g, t, exclude=who)
        if other is not None:
            g.say(other, t, rng.choice(tx.RP_THANKS))


THREADS: dict[str, Callable[[Group, int], None]] = {
    "question": _question,
    "discussion": _discussion,
    "share": _share,
    "feedback": _feedback,
    "greeting": _greeting,
    "chatter": _chatter,
    "sticker": _sticker,
    "media": _media,
    "gossip": _gossip,
    "redpacket": _redpacket,
}


def _announcements(g: Group) -> None:
    rng = g.rng
    t = g.active_from + rng.randint(3600, 3 * DAY)
    while t < g.end and g.target >= 100:
        at = g.day_start(t) + 10 * 3600 + rng.randint(0, 3600)
        op = g.operator(at)
        g.now = at
        if op is not None and at > g.active_from:
            theme = g.theme.key if rng.random() < 0.5 else "generic"
            text = tx.phrase(rng, theme, g.lang_of(op), "announce")
            msg = g.say(op, at, text or tx.phrase(rng, "generic", g.lang_of(op), "announce"))
            if msg is not None:
                g.boost.add(id(msg))
        t += rng.randint(20 * DAY, 35 * DAY)


def _session_topics(g: Group) -> None:
    rng = g.rng
    p = min(1.0, 0.05 * g.target / max(1, len(g.sessions)))
    for s in g.sessions:
        op = g.operator(s)
        g.now = s
        if op is not None and rng.random() < p:
            msg = g.say(op, s + rng.randint(0, 60), g.phrase(op, "topic"))
            if msg is not None:
                g.boost.add(id(msg))
                g.topics[s] = msg


def _bot_posts(g: Group) -> None:
    bot, rng = g.bot, g.rng
    if bot is None:
        return
    lang = g.theme.bot_lang
    daily = g.theme.checkin > 0 and g.target / max(1, len(g.mids)) >= 20
    for mid in g.mids:
        if daily:
            g.say(bot, mid + 9 * 3600 + rng.randint(0, 59), tx.BOT_DAILY[lang])
        at = mid + 10 * 3600
        if g.target >= 400 and g.local_date(at).weekday() == 0 and at > g.active_from:
            top = sorted((m for m in g.members if m.can_speak(at)), key=lambda m: -m.weight)[:3]
            if top:
                names = " ".join(f"@{m.name}" for m in top)
                g.say(
                    bot,
                    at,
                    tx.BOT_WEEKLY[lang].format(mentions=names),
                    mentions=[m.user for m in top],
                )


def _checkins(g: Group) -> None:
    """Daily check-ins by a subset of members, in streaks with gaps (打卡 第N天)."""
    rng, th = g.rng, g.theme
    if th.checkin <= 0:
        return
    doers = [m for m in g.members if m.weight > 0 and m.role == "member" and rng.random() < 0.5]
    plans = []
    eligible = 0
    for m in doers:
        morning = th.key == "running" and rng.random() < 0.6
        minute = rng.randint(360, 510) if morning else rng.randint(1200, 1350)
        days = [mid + minute * 60 for mid in g.mids if m.can_speak(mid + minute * 60)]
        plans.append((m, days))
        eligible += len(days)
    rate = min(0.85, th.checkin * g.target / max(1, eligible))
    keep = 0.85  # chance a streak goes on the next day
    start = rate * (1 - keep) / (1 - rate)
    for m, days in plans:
        on, n = False, 0
        for day_t in days:
            on = rng.random() < (keep if on else start)
            if not on:
                continue
            n += 1
            g.now = day_t
            msg = g.say(m, day_t + rng.randint(-2400, 2400), g.phrase(m, "checkin", n=n))
            if msg is not None:
                g.boost.add(id(msg))
