"""Theme fit (群特质) per group and week: how much of what members say is on the group's theme,
how much is off-topic, and the off-topic reason heard most (issue 4 §2, "theme fit per group
over time").

The scores and reasons are the enrichment step's text labels (`Base.signals`); the messages they
are shares of come from `Base.messages`, since the labels keep only rows that carry a signal.
Exact definitions: docs/metrics/theme.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from shequn.analytics.base import Base
from shequn.analytics.metrics.connections import CID, ratio
from shequn.analytics.registry import Metric, Param, Row, register
from shequn.analytics.store_read import SIGNAL_THEME_FLOOR
from shequn.analytics.zones import day_date
from shequn.errors import InputError

# The kinds `text.enrich` labels (LABELLED_KINDS, plus red packets, off-topic by kind alone),
# repeated so the metrics do not import the text library; a test checks they agree.
LABELLED_KINDS = ("file", "link", "media", "red_packet", "text")
# off-topic reason codes (`text.offtopic.LABELS`) as the operator reads them
REASONS: dict[str, tuple[str, str]] = {
    "red_packet": ("红包", "red packets"),
    "qr_code": ("二维码", "QR codes"),
    "ad": ("广告", "ads"),
    "outside_link": ("站外链接", "outside links"),
    "gossip": ("闲聊", "gossip"),
}


def _check(p: Mapping[str, Any]) -> None:
    # below the floor the engines cannot see a score: those label rows are never read
    if not SIGNAL_THEME_FLOOR <= float(p["on_theme"]) <= 1:
        raise InputError(f"expected {SIGNAL_THEME_FLOOR} to 1", field="param on_theme")
    if not 0 <= float(p["low_share"]) <= 1:
        raise InputError("expected 0 to 1", field="param low_share")
    if int(p["min_messages"]) < 0:
        raise InputError("expected 0 or more", field="param min_messages")


def _weeks(b: Base) -> ir.Table:
    """Every Monday-based week touching the period, with its Monday's date (a literal table:
    a week may start before the period and its calendar)."""
    weeks = list(range((b.since_day + 3) // 7, (b.until_day + 3) // 7 + 1))
    return ibis.memtable(
        {"week": weeks, "week_start": [day_date(7 * w - 3).isoformat() for w in weeks]},
        schema={"week": "int64", "week_start": "string"},
    )


def _texts(b: Base, p: Mapping[str, Any]) -> ir.Table:
    """Members' labelled-kind messages of the period with their on-theme and off-topic flags."""
    m = b.messages
    m = m.filter(m.is_ugc & m.kind.isin(LABELLED_KINDS)).select(CID, "id", "week")
    s = b.signals.select(s_id="message_id", theme_score="theme_score", offtopic="offtopic")
    t = m.left_join(s, m.id == s.s_id)
    on = (t.theme_score >= float(p["on_theme"])).fill_null(False)
    return t.select(CID, "week", "offtopic", on=on)


def _weekly(texts: ir.Table) -> ir.Table:
    g = texts.group_by([texts[CID].name("k"), texts.week.name("k_week")])
    return g.agg(
        messages=texts.count(),
        on_theme=texts.on.cast("int64").sum(),
        off_topic=texts.offtopic.notnull().cast("int64").sum(),
    )


def _top_reason(texts: ir.Table) -> ir.Table:
    """Each group-week's most frequent off-topic reason, ties to the first by name."""
    off = texts.filter(texts.offtopic.notnull())
    n = off.group_by([CID, "week", "offtopic"]).agg(n=off.count())
    order = [n.n.desc(), n.offtopic]
    n = n.mutate(rn=ibis.row_number().over(group_by=[n[CID], n.week], order_by=order))
    n = n.filter(n.rn == 0)
    return n.select(r_cid=n[CID], r_week=n.week, top_off_topic=n.offtopic, top_n=n.n)


def _scored(b: Base) -> ir.Table:
    """Groups with any theme score in the labels, at any time: their messages were scored
    against a theme (the operator's, else the group's name, as `text.enrich` does). Without
    one every week would read 0% on theme, which says nothing about the group."""
    s = b.raw["message_signal"]
    s = s.filter(s.theme_score.notnull())
    return s.group_by(s[CID].name("c_cid")).agg(theme_scored=ibis.literal(True))


def _theme_fit(b: Base, p: Mapping[str, Any]) -> ir.Table:
    _check(p)
    texts = _texts(b, p)
    g = b.communities.select(CID, "name").cross_join(_weeks(b))
    w, top, sc = _weekly(texts), _top_reason(texts), _scored(b)
    g = g.left_join(w, [g[CID] == w.k, g.week == w.k_week]).drop("k", "k_week")
    g = g.left_join(top, [g[CID] == top.r_cid, g.week == top.r_week]).drop("r_cid", "r_week")
    g = g.left_join(sc, g[CID] == sc.c_cid).drop("c_cid")
    n = {c: g[c].fill_null(0).cast("int64") for c in ("messages", "on_theme", "off_topic")}
    scored = g.theme_scored.fill_null(False)
    # compared as counts, not as the rounded share, so every engine flags the same weeks
    low = n["on_theme"].cast("float64") < n["messages"].cast("float64") * float(p["low_share"])
    flagged = scored & (n["messages"] >= int(p["min_messages"])) & low
    return g.select(
        CID,
        "name",
        "week",
        "week_start",
        messages=n["messages"],
        on_theme=n["on_theme"],
        on_theme_share=ratio(n["on_theme"], n["messages"]),
        off_topic=n["off_topic"],
        off_topic_share=ratio(n["off_topic"], n["messages"]),
        top_off_topic=g.top_off_topic.cast("string"),
        top_off_topic_messages=g.top_n.fill_null(0).cast("int64"),
        theme_scored=scored.cast("boolean"),
        flagged=flagged.cast("boolean"),
    )


def _reason(code: str | None, lang: str) -> str:
    names = REASONS.get(code or "", (code or "", code or ""))
    return names[0] if lang == "zh" else names[1]


def _theme_fit_why(row: Row, lang: str) -> str:
    zh = lang == "zh"
    n, off = row["messages"], row["off_topic"]
    if not n:
        return "本周没有成员发言" if zh else "no member messages this week"
    pct = f"{row['on_theme_share'] * 100:.0f}%"
    top = row["top_off_topic"]
    if not row["theme_scored"]:
        head = "本群消息没有主题分" if zh else "no theme scores for this group"
    elif row["flagged"]:
        head = (
            f"本周只有 {pct} 的消息切题" if zh else f"only {pct} of this week's messages on theme"
        )
    else:
        head = f"本周 {pct} 的消息切题" if zh else f"{pct} of this week's messages on theme"
    if zh:
        tail = f"，离题 {off} 条，多为{_reason(top, 'zh')}" if top else "，没有离题消息"
        return f"{head}（共 {n} 条）{tail}"
    tail = f"; {off} off-topic, mostly {_reason(top, 'en')}" if top else "; nothing off-topic"
    return f"{head} ({n} messages){tail}"


register(
    Metric(
        name="theme_fit",
        subject="group",
        zh="主题契合度",
        en="Theme fit",
        description_zh="每群每周：成员发言中切题（主题分达标）与离题消息的条数和占比、最常见的"
        "离题原因；切题占比过低的周会被标出并说明原因。",
        description_en="Per group and week: members' messages on the group's theme and off "
        "topic (count and share), the most common off-topic reason, and weeks with too little "
        "on theme flagged with why.",
        compute=_theme_fit,
        order_by=(CID, "week"),
        params=(
            Param("on_theme", SIGNAL_THEME_FLOOR, "切题的最低主题分", "theme score of on-theme"),
            Param("low_share", 0.3, "切题占比低于此值的周被标出", "flag weeks below this share"),
            Param("min_messages", 10, "至少几条消息的周才标出", "messages a flagged week needs"),
        ),
        why=_theme_fit_why,
    )
)
