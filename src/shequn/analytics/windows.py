"""Discussion windows (R14): a group's fixed discussion times, and the sessions they make.

A schedule is written as text an operator types: ``"Mon-Fri 19:20-20:00"``,
``"周一至周五 19:20-20:00"``, ``"Sat,Sun 10:00-11:00"``, several parts separated by ``;``.
Times are in the group's own zone; a window is half-open (19:20 up to, not including, 20:00)
and may not cross midnight (write ``"Fri 23:00-24:00; Sat 00:00-01:00"`` instead).

A *session* is one window on one calendar day whose weekday the window lists. `sessions` and
`session_speakers` are the Ibis expressions the follow-up metrics count them with.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
from sqlalchemy import Engine, delete, insert, select

from shequn.analytics.base import OPERATOR_ROLES, Base
from shequn.analytics.registry import Metric, Row, register
from shequn.errors import InputError, NotFound
from shequn.store import schema as t

EN_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ZH_DAYS = ("一", "二", "三", "四", "五", "六", "日")
_DAY_NAMES: dict[str, int] = {
    **{name: i for i, name in enumerate(EN_DAYS)},
    **{name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday"))},
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    "tues": 1,
    "thur": 3,
    "thurs": 3,
    **{f"{p}{d}": i for p in ("周", "星期", "礼拜") for i, d in enumerate(ZH_DAYS)},
    "周天": 6,
    "星期天": 6,
    "礼拜天": 6,
}
_DAY_SETS: dict[str, tuple[int, ...]] = {
    "daily": tuple(range(7)),
    "every day": tuple(range(7)),
    "每天": tuple(range(7)),
    "weekdays": (0, 1, 2, 3, 4),
    "工作日": (0, 1, 2, 3, 4),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "周末": (5, 6),
}
CLEAR = ("none", "off", "无")
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})\s*(?:-|–|—|~|～|至|到)\s*(\d{1,2})[:：](\d{2})$")
SESSION_KEY = ("community_id", "day", "start_minute", "end_minute")
_RANGE = re.compile(r"\s*(?:-|–|—|~|～|至|到)\s*")


@dataclass(frozen=True)
class Window:
    """One stored window: weekdays (Monday is 0) and local minutes [start, end)."""

    community_id: int
    weekdays: tuple[int, ...]
    start_minute: int
    end_minute: int

    def describe(self, lang: str = "en") -> str:
        """The window as an operator would type it back, e.g. "Mon-Fri 19:20-20:00"."""
        names = [f"周{ZH_DAYS[d]}" if lang == "zh" else EN_DAYS[d].title() for d in self.weekdays]
        days = ",".join(names)
        if len(self.weekdays) > 2 and self.weekdays == tuple(
            range(self.weekdays[0], self.weekdays[-1] + 1)
        ):
            days = f"{names[0]}{'至' if lang == 'zh' else '-'}{names[-1]}"
        return f"{days} {hhmm(self.start_minute)}-{hhmm(self.end_minute)}"


def hhmm(minute: int) -> str:
    """Minutes after midnight as HH:MM."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


# -- parsing ------------------------------------------------------------------------------------
def _day(name: str, part: str) -> int:
    key = name.strip().lower()
    if key not in _DAY_NAMES:
        raise InputError(
            f"unknown weekday {name.strip()!r} (Mon..Sun or 周一..周日)", record=part, field="days"
        )
    return _DAY_NAMES[key]


def _days(text: str, part: str) -> tuple[int, ...]:
    """'Mon-Fri', 'Sat,Sun', '周一至周五', '周一、周三': ranges wrap past Sunday (Fri-Mon)."""
    found: set[int] = set()
    for item in re.split(r"\s*[,，、/]\s*", text.strip()):
        if item.lower() in _DAY_SETS:
            found.update(_DAY_SETS[item.lower()])
            continue
        ends = _RANGE.split(item)
        if len(ends) == 1:
            found.add(_day(ends[0], part))
        elif len(ends) == 2:
            first, last = _day(ends[0], part), _day(ends[1], part)
            found.update((first + i) % 7 for i in range((last - first) % 7 + 1))
        else:
            raise InputError(f"bad weekday range {item!r}", record=part, field="days")
    return tuple(sorted(found))


def _minutes(text: str, part: str) -> tuple[int, int]:
    m = _TIME.match(text.strip())
    if not m:
        raise InputError(
            f"expected a time range like 19:20-20:00, got {text.strip()!r}",
            record=part,
            field="time",
        )
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 > 0):
        raise InputError(f"no such time in {text.strip()!r}", record=part, field="time")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise InputError(
            "a window must end after it starts on the same day (split it at midnight)",
            record=part,
            field="time",
        )
    return start, end


def _part(part: str) -> tuple[tuple[int, ...], int, int]:
    # the time range ends the part; everything before it names the days
    m = re.search(r"(\d{1,2}[:：]\d{2}\S*?\s*\S*?\s*\d{1,2}[:：]\d{2})$", part)
    if not m:
        raise InputError(
            "expected a time range like 19:20-20:00 after the days", record=part, field="time"
        )
    days = part[: m.start()].strip()
    if not days:
        raise InputError(
            "expected weekdays before the time, e.g. 'Mon-Fri 19:20-20:00'",
            record=part,
            field="days",
        )
    return (_days(days, part), *_minutes(m.group(1), part))


def parse_windows(spec: str) -> list[tuple[tuple[int, ...], int, int]]:
    """(weekdays, start_minute, end_minute) of each part of `spec`; overlaps are refused."""
    parts = [p.strip() for p in re.split(r"[;；\n]", spec) if p.strip()]
    if not parts:
        raise InputError("no window given (use 'none' to remove the schedule)", field="windows")
    windows = [_part(p) for p in parts]
    for i, (days, start, end) in enumerate(windows):
        for days2, start2, end2 in windows[:i]:
            if set(days) & set(days2) and start < end2 and start2 < end:
                raise InputError(
                    "overlaps an earlier window on the same weekday", record=parts[i], field="time"
                )
    return windows


# -- the store ----------------------------------------------------------------------------------
def set_windows(engine: Engine, community_id: int, spec: str) -> list[Window]:
    """Replace a group's discussion windows with those in `spec` ('none' removes them all)."""
    windows = [] if spec.strip().lower() in CLEAR else parse_windows(spec)
    w = t.discussion_window
    with engine.begin() as conn:
        found = conn.execute(select(t.community.c.id).where(t.community.c.id == community_id))
        if found.first() is None:
            raise NotFound(f"no group with id {community_id}")
        conn.execute(delete(w).where(w.c.community_id == community_id))
        for days, start, end in windows:
            conn.execute(
                insert(w).values(
                    community_id=community_id,
                    weekdays=",".join(str(d) for d in days),
                    start_minute=start,
                    end_minute=end,
                )
            )
    return list_windows(engine, community_id)


def list_windows(engine: Engine, community_id: int | None = None) -> list[Window]:
    """The stored windows, of one group or of all, ordered by group, start time and weekdays."""
    w = t.discussion_window.c
    query = select(w.community_id, w.weekdays, w.start_minute, w.end_minute)
    if community_id is not None:
        query = query.where(w.community_id == community_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    found = [
        Window(
            r.community_id,
            tuple(int(d) for d in r.weekdays.split(",")),
            r.start_minute,
            r.end_minute,
        )
        for r in rows
    ]
    return sorted(found, key=lambda x: (x.community_id, x.start_minute, x.weekdays))


# -- sessions as Ibis expressions ---------------------------------------------------------------
def sessions(b: Base, first_day: int, last_day: int) -> ir.Table:
    """One row per session in [first_day, last_day]: community_id, day, date, month,
    start_minute, end_minute. Days come from the engine's calendar (first message to today)."""
    cal = b.raw["calendar"]
    cal = cal.filter((cal.day >= first_day) & (cal.day <= last_day))
    w = b.windows
    comma = ibis.literal(",")
    listed = (comma + w.weekdays + comma).contains(comma + cal.weekday.cast("string") + comma)
    j = w.join(cal, [listed])
    return j.select(
        community_id=j.community_id,
        day=j.day.cast("int64"),
        date=j.date,
        month=j.month.cast("int64"),
        start_minute=j.start_minute.cast("int64"),
        end_minute=j.end_minute.cast("int64"),
    ).distinct()


def latest_sessions(b: Base) -> ir.Table:
    """The latest session of each group in the period (latest day, then latest start)."""
    s = sessions(b, b.since_day, b.until_day)
    order = [ibis.desc(s.day), ibis.desc(s.start_minute), ibis.desc(s.end_minute)]
    rank = ibis.row_number().over(group_by=s.community_id, order_by=order)
    return s.mutate(rank=rank).filter(lambda x: x["rank"] == 0).drop("rank")


def present_at(b: Base, events: ir.Table) -> ir.Table:
    """Members (not bots, not operators) in their group at the end of each event's `day`:
    `events` (community_id, day, …) with account_id, person_id and join_day of the spell."""
    s = b.spells
    s = s.filter(~s.is_bot & ~s.role.isin(OPERATOR_ROLES)).select(
        s_c="community_id",
        account_id="account_id",
        person_id="person_id",
        join_day="join_day",
        s_left="left_day",
    )
    j = events.join(
        s,
        [
            events.community_id == s.s_c,
            s.join_day.isnull() | (s.join_day <= events.day),
            s.s_left.isnull() | (s.s_left > events.day),
        ],
    )
    return j.drop("s_c", "s_left")


def session_messages(messages: ir.Table, sess: ir.Table) -> ir.Table:
    """(community_id, day, start_minute, end_minute, account_id) of each message in a session.

    `messages` needs community_id, account_id, day and minute_of_day (local time)."""
    m = messages.filter(messages.account_id.notnull()).select(
        m_c="community_id", m_day="day", m_min="minute_of_day", account_id="account_id"
    )
    j = sess.join(
        m,
        [
            sess.community_id == m.m_c,
            sess.day == m.m_day,
            m.m_min >= sess.start_minute,
            m.m_min < sess.end_minute,
        ],
    )
    return j.select(*SESSION_KEY, "account_id")


def hhmm_expr(minute: ir.IntegerValue) -> ir.StringValue:
    """Minutes after midnight as an 'HH:MM' string, alike on every engine."""
    hours = (minute // 60).cast("int64").cast("string").lpad(2, "0")
    minutes = (minute % 60).cast("int64").cast("string").lpad(2, "0")
    return hours + ibis.literal(":") + minutes


# -- attendance per session (R14) and who to @ (R12) --------------------------------------------
def _period_messages(b: Base) -> ir.Table:
    f = b.raw["message_f"]
    return f.filter((f.day >= b.since_day) & (f.day <= b.until_day))


def _session_columns(s: ir.Table) -> dict[str, ir.Value]:
    return {
        "date": s.date,
        "day": s.day,
        "start": hhmm_expr(s.start_minute),
        "end": hhmm_expr(s.end_minute),
    }


def _attendance(b: Base, p: Mapping[str, Any]) -> ir.Table:
    s = sessions(b, b.since_day, b.until_day)
    key = list(SESSION_KEY)
    pres = present_at(b, s.select(*key))
    msgs = session_messages(_period_messages(b), s.select(*key))
    people = b.accounts.filter(lambda a: ~a.is_bot).select(p_a="account_id")
    msgs = msgs.join(people, msgs.account_id == people.p_a).drop("p_a")
    spoke = msgs.select(*key, "account_id").distinct()
    attended = pres.join(spoke, [*key, "account_id"])
    counts = [
        pres.group_by(key).agg(present=pres.count()),
        attended.group_by(key).agg(attended=attended.count()),
        msgs.group_by(key).agg(messages_in_session=msgs.count()),
    ]
    out = s.join(b.communities.select("community_id", "name"), "community_id")
    for c in counts:
        out = out.left_join(c, key).drop(*(f"{k}_right" for k in key))
    present, att = out.present.fill_null(0), out.attended.fill_null(0)
    rate = ibis.ifelse(present > 0, att / present, ibis.null("float64"))
    return out.select(
        "community_id",
        "name",
        **_session_columns(out),
        present=present.cast("int64"),
        attended=att.cast("int64"),
        attendance_rate=rate.cast("float64").round(4),
        messages_in_session=out.messages_in_session.fill_null(0).cast("int64"),
    )


def _absentees(b: Base, p: Mapping[str, Any]) -> ir.Table:
    s = latest_sessions(b)
    key = list(SESSION_KEY)
    pres = present_at(b, s)
    spoke = session_messages(_period_messages(b), s).select(*key, "account_id").distinct()
    absent = pres.anti_join(spoke, [*key, "account_id"])
    absent = absent.join(b.accounts.select("account_id", "display_name"), "account_id")
    absent = absent.join(b.communities.select("community_id", "name"), "community_id")
    f = b.raw["message_f"]
    f = f.filter((f.day <= b.until_day) & f.account_id.notnull())
    last = f.group_by(l_c=f.community_id, l_a=f.account_id).agg(l_day=f.day.max())
    j = absent.left_join(last, [absent.community_id == last.l_c, absent.account_id == last.l_a])
    return j.select(
        "community_id",
        "name",
        **_session_columns(j),
        account_id=j.account_id,
        person_id=j.person_id,
        display_name=j.display_name,
        joined_day=j.join_day.cast("int64"),
        days_since_last_message=(b.until_day - j.l_day).cast("int64"),
    )


def _absentee_why(row: Row, lang: str) -> str:
    days = row["days_since_last_message"]
    when = f"{row['date']} {row['start']}-{row['end']}"
    if lang == "zh":
        last = (
            "从未发言"
            if days is None
            else ("今天发过言" if days == 0 else f"上次发言在 {days} 天前")
        )
        return f"最近一次讨论（{when}）在群但未发言；{last}"
    last = (
        "never spoke"
        if days is None
        else ("spoke today" if days == 0 else f"last spoke {days} days ago")
    )
    return f"in the group for the latest discussion ({when}) but did not speak; {last}"


register(
    Metric(
        name="discussion_attendance",
        subject="event",
        zh="讨论出勤",
        en="Discussion attendance",
        description_zh="每个群每场讨论（讨论时段所在星期的每一天）：当天在群人数、在时段内发言的人数、"
        "出勤率和时段内消息数。",
        description_en="Per group and session (each day whose weekday a discussion window lists): "
        "members in the group that day, how many spoke within the window, the attendance rate "
        "and the messages sent in it.",
        compute=_attendance,
        order_by=("community_id", "day", "start"),
        tags=("R14",),
    )
)
register(
    Metric(
        name="session_absentees",
        subject="member",
        zh="讨论未发言成员",
        en="Session absentees",
        description_zh="每个群时段内最近一场讨论：当天在群却没有在讨论时段内发言的成员，"
        "便于运营 @ 他们。",
        description_en="For each group's latest session in the period: members in the group that "
        "day who did not speak within the window, for the operator to @ them.",
        compute=_absentees,
        order_by=("community_id", "account_id"),
        why=_absentee_why,
        tags=("R12", "R14"),
    )
)
