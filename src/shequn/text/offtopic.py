"""Off-topic messages in a themed group: red packets, QR codes, ads, outside links, gossip.

Operators review what is flagged, so precision matters more than recall: a cue only counts in the
shape that is off-topic ("[红包]恭喜发财" or "发了个红包", not "昨天抢红包才抢了0.01"; "扫码进群",
not "扫码登录失败"), and the weaker cues need a second one. A rule is a row of ``CUES`` (label,
weight, regex, and the reason in Chinese and English); links and theme keywords are checked in
code. When several labels reach ``MIN_CONFIDENCE`` the first in ``LABELS`` wins (a QR code that
sells is reported as a QR code). See docs/text-feedback.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from shequn.text.cues import CueScanner, Hit, fold

__all__ = ["CUES", "LABELS", "MIN_CONFIDENCE", "SCANNER", "OffTopicMatch", "detect_offtopic"]

LABELS = ("red_packet", "qr_code", "ad", "outside_link", "gossip")  # precedence
MIN_CONFIDENCE = 0.6
GOSSIP_MIN_CHARS = 8  # shorter messages are social glue ("哈哈真的假的")


@dataclass(frozen=True, slots=True)
class OffTopicMatch:
    """Why a message is off the group's theme, how sure we are (0–1), for the operator."""

    label: str
    confidence: float
    reason_zh: str
    reason_en: str


class Cue(NamedTuple):
    """One off-topic cue; ``pattern`` is a case-insensitive regex. Cues whose label is empty are
    traps that swallow a look-alike ("扫码登录") before the real cue can match it."""

    label: str
    weight: float
    pattern: str
    zh: str
    en: str


def _alt(lines: str) -> str:
    """A regex alternation written over several lines: line breaks and indentation are dropped."""
    return re.sub(r"\s*\n\s*", "", lines.strip())


def _en(lines: str) -> str:
    """An English alternation as whole words, also inside Chinese text."""
    return rf"(?<![a-z])(?:{_alt(lines)})(?![a-z])"


_WECHAT_ID = r"(?:微信|薇信|威信|v信|vx|wx|weixin|wechat|v)"

# fmt: off
CUES: tuple[Cue, ...] = (
    # traps: the product's own QR login or red-packet feature is not off-topic
    Cue("", 0, r"扫码(?:登录|登陆|支付|付款|点餐|签到)|红包(?:功能|封面|奖励|活动规则)", "", ""),
    # red packets: the system text of a real one, or the sender announcing it
    Cue("red_packet", 0.95, _alt(r"""
        \[(?:微信)?红包\]|\[(?:wechat )?(?:red packet|red envelope|lucky money)\]|
        领取了.{0,20}红包|红包已被领完|手气最佳|拼手气红包|恭喜发财，?大吉大利
    """), "红包消息", "a red packet"),
    Cue("red_packet", 0.8, _alt(r"""
        🧧|发(?:了|个|了个|一个|一波|波)红包|红包(?:来了|已发|雨)|(?:大家|快|来)抢红包|
        (?<![a-z])(?:sent|sending|dropped) (?:a |the |some )?(?:red packets?|red envelopes?|
        lucky money)|grab (?:the|your|a) (?:red packet|lucky money)
    """), "发红包", "a red packet being handed out"),
    # QR codes: asking members to scan something
    Cue("qr_code", 0.9, _alt(r"""
        \[二维码\]|\[qr ?code\]|扫码|扫一扫|扫描.{0,4}二维码|识别.{0,4}二维码|长按识别|
        (?<![a-z])scan (?:the |this |my |our |a )?(?:qr|code|barcode)|qr code (?:below|above|in)
    """), "扫码", "a QR code to scan"),
    # ads: selling or recruiting for oneself or a third party
    Cue("ad", 0.85, _alt(rf"""
        加(?:我|个)?{_WECHAT_ID}(?:领|了解|咨询|详聊|购买|拿货|进群)|(?:{_WECHAT_ID}|vx|qq)[:：]\s*[a-z0-9_-]{{5,}}|
        代购|刷单|兼职|日结|日赚|躺赚|招代理|代理加盟|月入过?[万\d]|返利|返现|淘口令|
        优惠券|领券|券后|包邮|秒杀|特价|低价出|[一二三四五六七八九\d]折|清仓|拼团价|
        (?:需要|有意|感兴趣|想要|要的|详情|价格|报价)[^。！!?？]{{0,6}}(?:私聊|私信|私我|加我|联系)|
        (?:私聊|私信我|私我)(?:了解|咨询|详聊|下单|拿价)
    """), "推销", "selling or recruiting"),
    Cue("ad", 0.85, _en(r"""
        dm (?:me )?for|pm me|message me for|whatsapp me|contact me for|link in (?:my )?bio|
        promo code|discount code|coupon|use (?:my )?code|\d+% off|limited(?: time)? offer|
        buy now|order now|free shipping|make \$?\d+k?(?: a| per) (?:day|week|month)|
        earn \$\d+|airdrop|presale|100x|to the moon|signals group|
        investment opportunit(?:y|ies)|we're hiring|now hiring|serious buyers
    """), "推销", "selling or recruiting"),
    Cue("ad", 0.55, _alt(r"""
        推广|加(?:我)?(?:微信|vx|v信)|私聊|私信|优惠|便宜|代理|招聘|内推|下单|团购|出售|转让|
        \d+\s*(?:元|块)|[$¥￥]\s?\d+|
        (?<![a-z])(?:crypto|dm(?: me| if)?|discount|deal|sale|hiring|cheap|selling|clearance|
        message me|contact me|fiverr|upwork|passive income|work from home|side hustle|forex|
        for sale|to order)(?![a-z])
    """), "推销用语", "sales talk"),
    # outside links: wording that shares a link for fun, votes or bargains
    Cue("outside_link", 0.75, _alt(r"""
        砍一刀|帮我砍|助力|帮忙点|帮我点|投(?:个|一)?票|拉票|点个赞|有意思|好玩|搞笑|笑死|好看|哈哈|
        (?<![a-z])(?:vote for|please vote|watch this|check out this video|lol|lmao|wild|insane|
        unreal|funny|hilarious)(?![a-z])
    """), "站外链接", "an outside link shared off the theme"),
    # gossip: only checked when the group's theme keywords are known (see detect_offtopic)
    Cue("gossip", 0.7, _alt(r"""
        八卦|明星|娱乐圈|绯闻|出轨|离婚|热搜|吃瓜|爆料|恋情|官宣|塌房|裁员|房价|电视剧|综艺|
        追剧|网红|分手|年终奖|(?<![a-z])(?:celebrit(?:y|ies)|gossip|rumou?rs?|tabloid|divorced?|
        scandal|affair|layoffs?|housing market|house prices|reality show|episode|kardashians?|
        broke up|break ?up|streamer|his ex|her ex)(?![a-z])
    """), "八卦闲聊", "gossip"),
    Cue("gossip", 0.5, _alt(r"""
        听说|据说|你们知道|(?<![a-z])(?:heard that|did you hear|drama|apparently|dating)(?![a-z])
    """), "听说", "hearsay"),
)
# fmt: on

_FLAGS = re.IGNORECASE
SCANNER = _SCANNER = CueScanner([cue.pattern for cue in CUES])
_URL = re.compile(
    r"(?:https?://|www\.)[^\s，。！？、）)】\]]+"
    r"|(?<![\w@.])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|io|me|tv|cc|ly|co|app|dev)"
    r"(?:/[^\s，。！？、）)】\]]*)?",
    _FLAGS,
)
# Every link has one of these; most messages have none, and _URL is slow to search for.
_MAYBE_URL = re.compile(r"https?://|www\.|\.(?:com|cn|net|org|io|me|tv|cc|ly|co|app|dev)", _FLAGS)
_HOST = re.compile(r"^(?:https?://)?([^/:?#]+)", _FLAGS)
# Sites whose links in a themed group are almost always entertainment, shopping or bargaining.
OFF_THEME_DOMAINS = (
    "b23.tv", "bilibili.com", "douyin.com", "iesdouyin.com", "tiktok.com", "youtube.com",
    "youtu.be", "weibo.com", "weibo.cn", "xhslink.com", "xiaohongshu.com", "pinduoduo.com",
    "yangkeduo.com", "tb.cn", "taobao.com", "jd.com", "3.cn", "netflix.com", "instagram.com",
    "twitch.tv", "9gag.com", "iqiyi.com", "v.qq.com", "kuaishou.com", "amazon.com", "temu.com",
)  # fmt: skip
_QUESTION = re.compile(r"[?？]|吗|呢$|(?<![a-z])(?:is there|are there|do we|will there)", _FLAGS)


def _host(url: str) -> str:
    """The lower-cased host of a URL or bare domain, without "www."."""
    match = _HOST.match(url)
    host = match.group(1).lower() if match else url.lower()
    return host.removeprefix("www.")


def _in(host: str, domains: Sequence[str]) -> bool:
    """True when the host is one of the domains or a subdomain of one."""
    return any(host == d or host.endswith("." + d) for d in domains)


@lru_cache(maxsize=256)
def _theme_pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for a group's theme keywords; Latin keywords match as whole words."""
    parts = [
        rf"(?<![a-z]){re.escape(k)}(?![a-z])" if k.isascii() else re.escape(k)
        for k in (unicodedata.normalize("NFKC", k).strip().lower() for k in keywords)
        if k
    ]
    return re.compile("|".join(sorted(parts, key=len, reverse=True)), _FLAGS) if parts else None


Hits = list[tuple[Cue, str]]  # the cues found for one label, with the words they matched


def _cue_hits(text: str, scanned: list[Hit] | None = None) -> dict[str, Hits]:
    """The cues of the table found in the text, per label; ``scanned`` is what the cue scanner
    finds in it, when the caller has that."""
    found: dict[str, Hits] = {}
    for index, m in _SCANNER.scan(text) if scanned is None else scanned:
        cue = CUES[index]
        if cue.label:
            found.setdefault(cue.label, []).append((cue, m.group()))
    if "red_packet" in found and _QUESTION.search(text):
        # "打卡满30天有红包奖励吗？" asks about red packets; the system text is never a question
        found["red_packet"] = [hit for hit in found["red_packet"] if hit[0].weight > 0.9]
    return found


def _cue_match(label: str, hits: Hits) -> OffTopicMatch | None:
    """The label's match when its cues reach MIN_CONFIDENCE: the strongest cue's weight plus
    0.1 for each further distinct word (at most 0.15)."""
    if not hits:
        return None
    best, word = max(hits, key=lambda hit: hit[0].weight)
    score = best.weight + min(0.15, 0.1 * (len({w.lower() for _, w in hits}) - 1))
    score = round(min(score, 0.99), 2)
    return (
        OffTopicMatch(label, score, *_reason(best, word, hits)) if score >= MIN_CONFIDENCE else None
    )


def _reason(best: Cue, word: str, hits: list[tuple[Cue, str]]) -> tuple[str, str]:
    """Operator-readable reasons quoting up to three distinct cue words."""
    words = list(dict.fromkeys(w.strip() for _, w in hits))[:3]
    quoted_zh = "、".join(f"“{w}”" for w in words)
    quoted_en = ", ".join(f"“{w}”" for w in words)
    return f"{best.zh}：含{quoted_zh}", f"{best.en}: mentions {quoted_en}"


def _link_score(
    text: str, urls: list[str], allowed: Sequence[str], theme: bool | None, wording: bool
) -> tuple[float, str, str] | None:
    """Score for an outside link: off-theme sites or wording, or a bare link that does not touch
    the theme (``theme``: None when the group's keywords are unknown, else whether one appears)."""
    hosts = [h for h in (_host(u) for u in urls) if not _in(h, allowed)]
    if not hosts or theme:
        return None
    rest = _URL.sub("", text)
    rest = re.sub(r"[\s\W_]+", "", rest)
    site = next((h for h in hosts if _in(h, OFF_THEME_DOMAINS)), None)
    if site:
        score = 0.8
    elif wording:
        score = 0.75
    elif theme is not None and len(rest) <= 4:
        score = 0.6  # nothing but a link, and the theme keywords don't appear in it
    else:
        return None
    host = site or hosts[0]
    return score, f"站外链接：{host}", f"an outside link: {host}"


def detect_offtopic(
    text: str,
    theme_keywords: Sequence[str] | None = None,
    *,
    allowed_domains: Sequence[str] = (),
    folded: str | None = None,
    scanned: list[Hit] | None = None,
) -> OffTopicMatch | None:
    """Flag one message as off the group's theme, or return None.

    ``theme_keywords`` are the group's theme words: a message naming one is never gossip nor an
    outside link, and gossip is only judged when they are given. Links to ``allowed_domains``
    (and their subdomains) never count. ``folded`` is ``fold(text)`` when the caller has it,
    ``scanned`` what ``SCANNER`` finds in ``folded``; it is used only when there is no link.

    >>> detect_offtopic("[红包]恭喜发财，大吉大利").label
    'red_packet'
    """
    if not text:
        return None
    folded = fold(text) if folded is None else folded
    # a link has a dot or a colon, and a test for one is far cheaper than a search for a link
    maybe_url = ("." in folded or ":" in folded) and _MAYBE_URL.search(folded)
    urls = _URL.findall(folded) if maybe_url else []
    found = _cue_hits(_URL.sub(" ", folded), None) if urls else _cue_hits(folded, scanned)
    # whether the theme is named matters only for gossip and links: most messages have neither,
    # and skip even building the theme's pattern
    theme = None
    if theme_keywords and ("gossip" in found or urls):
        theme = _theme_pattern(tuple(theme_keywords))
    on_theme = bool(theme and theme.search(folded))
    if "gossip" in found and (on_theme or theme is None or len(folded.strip()) < GOSSIP_MIN_CHARS):
        del found["gossip"]  # talk that names the theme is not gossip
    for label in LABELS:  # labels are scored in precedence order, until one is sure enough
        if label == "outside_link":
            link = urls and _link_score(
                folded, urls, allowed_domains, on_theme if theme else None, label in found
            )
            if link and link[0] >= MIN_CONFIDENCE:
                return OffTopicMatch(label, *link)
        elif label in found and (match := _cue_match(label, found[label])):
            return match
    return None
