"""The groups of the demo program: what each is about, where it lives and how it behaves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Platform = Literal["telegram", "slack", "wechat"]
BIG = (0, 0)  # size marker: a big group that takes in the members left over


@dataclass(frozen=True, slots=True)
class Theme:
    key: str  # phrase-bank key (generate_text.BANKS)
    platform: Platform
    name: str
    topic: str
    zone: str
    zh: float  # share of Chinese speakers among the members
    size: tuple[int, int]  # members over the six months (incl. leavers); BIG for a big group
    volume: float  # relative share of the program's messages
    mix: dict[str, float] = field(default_factory=dict)  # thread kind -> weight
    checkin: float = 0.0  # share of the group's messages that are check-ins
    window: tuple[tuple[int, ...], int, int] | None = None  # weekdays, start minute, minutes
    window_share: float = 0.0  # share of conversations held in the window
    founded: Literal["old", "start", "late"] = "old"  # before the history, at its start, lately
    bot: str | None = None
    bot_lang: str = "zh"
    unanswered: float = 0.17  # share of questions nobody answers
    prune: bool = False  # the operator removes silent members on the 15th
    rhythm: Literal["evening", "work"] = "evening"


def _mix(**weights: float) -> dict[str, float]:
    return weights


FEEDBACK_ZH = _mix(
    question=0.22,
    discussion=0.12,
    share=0.02,
    feedback=0.30,
    greeting=0.05,
    chatter=0.11,
    gossip=0.04,
    redpacket=0.03,
    media=0.07,
    sticker=0.04,
)
STUDY = _mix(
    question=0.30,
    discussion=0.20,
    share=0.10,
    greeting=0.05,
    chatter=0.15,
    gossip=0.05,
    media=0.05,
    sticker=0.05,
)
TALKY = _mix(
    question=0.22,
    discussion=0.28,
    share=0.15,
    greeting=0.05,
    chatter=0.15,
    gossip=0.08,
    media=0.04,
    sticker=0.03,
)
SOCIAL_ZH = _mix(
    question=0.22,
    discussion=0.20,
    share=0.04,
    greeting=0.10,
    chatter=0.15,
    gossip=0.10,
    redpacket=0.07,
    media=0.07,
    sticker=0.05,
)
SH, LA, LON = "Asia/Shanghai", "America/Los_Angeles", "Europe/London"

# The order interleaves platforms so that the first n themes make a sensible smaller program.
THEMES: list[Theme] = [
    Theme(
        "beta",
        "wechat",
        "产品内测反馈群",
        "知了笔记 App 内测反馈：bug、建议、吐槽都可以发这里",
        SH,
        1.0,
        BIG,
        4.0,
        FEEDBACK_ZH,
    ),
    Theme(
        "python",
        "telegram",
        "Python 学习群",
        "Python 新手互助，提问请带上报错信息 | Python learners",
        SH,
        0.75,
        BIG,
        3.3,
        STUDY,
        checkin=0.05,
        bot="PyHelper Bot",
        unanswered=0.14,
    ),
    Theme(
        "beta",
        "slack",
        "product-beta-testers",
        "Notely beta: report bugs, request features",
        LA,
        0.0,
        (55, 80),
        1.0,
        {**FEEDBACK_ZH, "redpacket": 0, "feedback": 0.35},
        bot="Notely Bot",
        bot_lang="en",
        unanswered=0.12,
        rhythm="work",
    ),
    Theme(
        "running",
        "wechat",
        "跑步打卡群",
        "每天跑步打卡，格式：打卡 第N天 + 公里数",
        SH,
        1.0,
        (40, 70),
        1.4,
        {**SOCIAL_ZH, "media": 0.15, "greeting": 0.15},
        checkin=0.38,
        founded="start",
    ),
    Theme(
        "indie",
        "slack",
        "indie-hackers",
        "Building in public: launches, pricing, growth",
        LON,
        0.0,
        (45, 80),
        0.8,
        TALKY,
        bot="Standup Bot",
        bot_lang="en",
        rhythm="work",
    ),
    Theme(
        "book",
        "wechat",
        "读书会·每晚共读",
        "工作日晚 19:20–20:00 共读讨论，每月15日清理缺席成员",
        SH,
        1.0,
        (30, 50),
        1.1,
        {**SOCIAL_ZH, "discussion": 0.40, "question": 0.12},
        checkin=0.15,
        window=((0, 1, 2, 3, 4), 19 * 60 + 20, 40),
        window_share=0.7,
        founded="start",
        prune=True,
    ),
    Theme(
        "ai",
        "telegram",
        "AI 工具交流群",
        "AI 工具、提示词、模型部署 | AI tools & prompts",
        SH,
        0.5,
        (50, 80),
        0.9,
        TALKY,
        bot="AI Digest Bot",
    ),
    Theme(
        "parents",
        "wechat",
        "宝妈育儿交流群",
        "育儿经验交流，禁止广告",
        SH,
        1.0,
        (40, 75),
        1.0,
        SOCIAL_ZH,
        unanswered=0.22,
    ),
    Theme(
        "design",
        "slack",
        "design-critique",
        "Weekly crit, Thursdays 18:00 London",
        LON,
        0.0,
        (30, 45),
        0.5,
        {**TALKY, "share": 0.25},
        window=((3,), 18 * 60, 60),
        window_share=0.6,
        founded="start",
        rhythm="work",
    ),
    Theme(
        "shops",
        "wechat",
        "门店店主交流群",
        "店掌柜商户交流：经营经验、系统问题反馈",
        SH,
        1.0,
        (35, 60),
        0.7,
        {**SOCIAL_ZH, "feedback": 0.15},
        unanswered=0.20,
    ),
    Theme(
        "indie",
        "telegram",
        "出海独立开发者",
        "出海、独立开发、增长 | indie makers going global",
        SH,
        0.6,
        (40, 70),
        0.6,
        TALKY,
        founded="start",
    ),
    Theme(
        "rust",
        "telegram",
        "Rust 新手村",
        "Rust 入门互助（新群）",
        SH,
        0.6,
        (6, 9),
        0.05,
        {**STUDY, "question": 0.35},
        founded="late",
        unanswered=0.10,
    ),
    Theme(
        "dataviz",
        "slack",
        "data-viz-meetup",
        "Charts, dashboards and monthly meetups",
        LA,
        0.0,
        (30, 60),
        0.5,
        TALKY,
        rhythm="work",
    ),
]


def pick_themes(n: int) -> list[Theme]:
    """The first n themes; beyond the list, more groups of the same themes (“二群”, “-2”)."""
    out: list[Theme] = []
    for i in range(n):
        base = THEMES[i % len(THEMES)]
        k = i // len(THEMES) + 1
        if k == 1:
            out.append(base)
            continue
        if base.platform == "wechat":  # 跑步打卡群 -> 跑步打卡二群, as operators number them
            numeral = "一二三四五六七八九十"[k - 1] if k <= 10 else str(k)
            stem = base.name.removesuffix("群")
            name = f"{stem}{numeral}群"
        else:
            name = f"{base.name}-{k}"
        size = (40, 80) if base.size == BIG or base.size[1] < 20 else base.size
        out.append(replace(base, name=name, size=size, founded="start"))
    return out
