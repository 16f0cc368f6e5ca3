"""Membership of a simulated group: who was there from the start, who joined when and through
whom, who left, came back, was removed; plus the joining ritual (welcome, self-introduction).
"""

from __future__ import annotations

from shequn.demo import generate_text as tx
from shequn.demo.generate_group import DAY, Group, Member, Picker, Source, Spell
from shequn.demo.generate_themes import BIG

_SOURCES: dict[str, tuple[list[Source], list[float]]] = {
    "wechat": (["invite", "qr"], [0.55, 0.45]),
    "telegram": (["link", "invite"], [0.6, 0.4]),
    "slack": (["invite", "unknown"], [0.45, 0.55]),
}


def plan_membership(g: Group) -> None:
    """Give every member their spells; staff and bots stay from the group's creation."""
    rng, th = g.rng, g.theme
    forever = g.end + DAY
    share = {"old": 0.55, "start": 0.45, "late": 0.85}[th.founded] + 0.05 * (th.size == BIG)
    lo, hi = g.active_from + 3600, g.end - 600
    # referral campaigns: an evening post brings a wave of newcomers over the next hours
    campaigns = [
        g.day_start(rng.randint(lo, hi - DAY)) + 20 * 3600 + rng.randint(0, 1800)
        for _ in range(rng.randint(2, 3) if hi - lo > 2 * DAY else 0)
    ]
    for m in g.members:
        if m.role == "owner":
            m.spells = [Spell(g.created - 60, forever)]
        elif m.role in ("admin", "bot") or (
            m.role != "spammer" and (rng.random() < share or hi <= lo)
        ):
            if th.founded == "old":
                m.spells = [Spell(max(g.created, g.start - rng.randint(1, 380) * DAY), forever)]
            else:
                t = g.created + rng.randint(30, 3 * 3600)
                m.spells = [Spell(t, forever, join="invite", founding=True)]
        else:
            if campaigns and rng.random() < 0.3:
                t = rng.choice(campaigns) + int(rng.expovariate(1 / (6 * 3600)))
            else:
                t = g.when(sessions=False)
            t = min(hi, max(lo, t))
            m.spells = [Spell(t, forever, join=_source(g))]
    for m in g.members:
        _slip_leave_return(g, m)
    if th.prune:
        _prune(g)


def _source(g: Group) -> Source:
    kinds, weights = _SOURCES[g.theme.platform]
    return g.rng.choices(kinds, weights)[0]


def _slip_leave_return(g: Group, m: Member) -> None:
    rng = g.rng
    first = m.spells[0]
    if m.role == "spammer":  # posts an ad soon after joining and is removed for it
        first.end = min(g.end - 1, first.start + rng.randint(420, 5 * 3600))
        first.ends = "remove" if first.end < g.end - 1 else None
        return
    if m.role != "member":
        return
    began = max(first.start, g.start)
    if m.quiet_after == -1:
        m.quiet_after = began + rng.randint(14 * DAY, 60 * DAY)
    slipping = m.quiet_after < g.end
    p_leave = 0.35 if slipping else (0.16 if m.weight == 0 else 0.10)
    earliest = max(began + 2 * DAY, m.quiet_after if slipping else 0)
    if rng.random() >= p_leave or earliest >= g.end - 600:
        return
    first.end = rng.randint(earliest, g.end - 600)
    first.ends = "leave"
    back = first.end + rng.randint(2 * DAY, 40 * DAY)
    if rng.random() < 0.18 and back < g.end - 600:
        m.spells.append(Spell(back, g.end + DAY, join=_source(g)))


def _prune(g: Group) -> None:
    """On the 15th of each month, the operator removes members who never take part."""
    rng = g.rng
    for mid in g.mids:
        t = mid + 21 * 3600
        if t <= g.active_from or t >= g.end - 600:
            continue
        if g.local_date(t).day != 15:
            continue
        silent = [
            m
            for m in g.members
            if m.role == "member"
            and m.weight == 0
            and m.present(t)
            and m.spells[-1].start < t - 30 * DAY
        ]
        rng.shuffle(silent)
        for m in silent[: rng.randint(1, 3)]:
            spell = next(s for s in m.spells if s.start < t < s.end)
            spell.end, spell.ends = t, "remove"
            m.spells = [s for s in m.spells if s.start < t]
        if silent:
            g.prunes.append(t)


def emit_membership(g: Group) -> None:
    """Join/leave/remove events, the ads spammers post, and the joining ritual."""
    rng = g.rng
    referrers = g.picker([m.refer for m in g.members])
    joins = sum(1 for m in g.members for s in m.spells if s.join and not s.founding)
    # the ritual takes at most a quarter of the group's messages
    scale = min(1.0, 0.25 * g.target / max(1.0, joins * 1.1))
    for m in g.members:
        for k, spell in enumerate(m.spells):
            if spell.join:
                actor = _inviter(g, m, spell, referrers)
                g.event(spell.start, "join", m, actor, spell.join)
                if not spell.founding:
                    _ritual(g, m, spell.start, scale, first=k == 0)
            if m.role == "spammer":
                ad = spell.start + min(rng.randint(120, 5400), (spell.end - spell.start) // 2)
                text = tx.fill(rng.choice(tx.ADS[g.lang_of(m)]), rng)
                g.say(m, ad, text, "link" if "http" in text else "text")
            if spell.ends == "leave":
                g.event(spell.end, "leave", m)
            elif spell.ends == "remove":
                op = g.operator(spell.end)
                g.event(spell.end, "remove", m, op)
                if op is not None and m.role == "spammer" and rng.random() < 0.5:
                    g.say(
                        op, spell.end + rng.randint(20, 300), rng.choice(tx.REMOVED[g.lang_of(op)])
                    )
    for t in g.prunes:
        op = g.operator(t)
        if op is not None and g.target >= 50:
            g.say(op, t + 60, tx.PRUNED[g.lang_of(op)])


def _inviter(g: Group, m: Member, spell: Spell, referrers: Picker) -> Member | None:
    rng, t = g.rng, spell.start
    if spell.founding:
        return g.members[0]
    if spell.join == "unknown" or (spell.join == "link" and rng.random() < 0.4):
        return None
    who = referrers.pick(rng, lambda x: x is not m and x.role != "spammer" and x.present(t))
    return who or g.operator(t)


def _ritual(g: Group, m: Member, t: int, scale: float, *, first: bool) -> None:
    rng = g.rng
    op = g.operator(t)
    if op is not None and m.role != "spammer" and rng.random() < 0.75 * scale:
        text = tx.fill(rng.choice(tx.WELCOME[g.lang_of(op)]), rng, name=m.name)
        g.say(op, t + rng.randint(30, 1200), text, mentions=[m.user])
    if first and m.weight > 0 and rng.random() < 0.6 * scale:
        at = t + rng.randint(120, 5 * 3600)
        if m.can_speak(at):
            p, lang = m.person, g.lang_of(m)
            reason = g.phrase(m, "reason")
            text = tx.fill(
                rng.choice(tx.INTRO[lang]),
                rng,
                name=p.name,
                real=p.real,
                city=p.city,
                company=p.company,
                role=p.role,
                reason=reason,
            )
            g.say(m, at, text)
