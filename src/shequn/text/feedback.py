"""Product feedback in one chat message: defect, feature request, complaint or praise.

A rule is a row of ``CUES``: a label, a weight (how sure the cue alone makes us), a regular
expression, and what it means in Chinese and English for the operator's reason. All cues are
scanned by ``CueScanner`` (text/cues.py), so a message without any cue costs a single regex scan.

How a message is scored (see docs/text-feedback.md):
- a cue marked negatable ("闪退", "crash") is cancelled by a negation just before it ("没有闪退",
  "doesn't crash") or a hypothetical ("会不会闪退", "will it crash"); a cancelled defect that says
  the problem is over ("没有闪退了", "不卡了", "no more crashes") counts as weak praise instead;
- a cue whose ``unless`` pattern is found anywhere in the message is ignored ("bug spray");
- per label: the strongest cue, +0.05 for each further cue (at most +0.1), +0.1 for praise and
  complaints that name the product (app, 版本, 更新 …), −0.2 for complaints asked as a question
  ("退款怎么申请？"); praise asked as a question ("好用吗？") does not count;
- a defect or complaint silences praise (sarcasm "真是太棒了，又闪退了" and mixed messages are
  defects); then the first label of ``LABELS`` whose score reaches ``MIN_CONFIDENCE`` wins — the
  more actionable one: defect > feature > complaint > praise;
Thanks addressed to a member ("谢谢分享", "great job @Ann") are not product praise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from shequn.text.cues import CueScanner, Hit, fold

__all__ = [
    "CUES",
    "LABELS",
    "MIN_CONFIDENCE",
    "SCANNER",
    "Cue",
    "CueScanner",
    "FeedbackMatch",
    "classify_feedback",
    "fold",
]

# Precedence: when two labels reach MIN_CONFIDENCE the more actionable one wins.
LABELS = ("defect", "feature", "complaint", "praise")
MIN_CONFIDENCE = 0.6


@dataclass(frozen=True, slots=True)
class FeedbackMatch:
    """A message's feedback label, how sure we are (0–1), and why, for the operator."""

    label: str
    confidence: float
    reason_zh: str
    reason_en: str
    cues: tuple[str, ...] = ()


class Cue(NamedTuple):
    """One feedback cue. ``pattern`` is a regex (case-insensitive). ``flags``: "n" — the cue
    states something plainly, so "没有/不/no longer" just before it cancels it; "h" — a request
    for help with one's own code ("这个报错怎么解决") is not a product defect. ``unless`` is a
    regex that, found anywhere in the message, makes the cue not count ("bug spray")."""

    label: str
    weight: float
    pattern: str
    zh: str
    en: str
    flags: str = ""
    unless: str | None = None


def _alt(lines: str) -> str:
    """A regex alternation written over several lines: line breaks and indentation are dropped."""
    return re.sub(r"\s*\n\s*", "", lines.strip())


def _en(lines: str) -> str:
    """An English alternation as whole words, also inside Chinese text ("这个bug")."""
    return rf"(?<![a-z])(?:{_alt(lines)})(?![a-z])"


# "能不能加你微信" asks a member, not the product.
_PERSON = _alt(r"""
    (?!个?(?:你|您|我|好友|微信|群|人|朋友|入|v|vx|wx|qq)|一下(?:我|吗|呗|哈|啊|$|[?？。!！]))
""")
# "would be great if someone could help me" asks for help, not a feature.
_HELP = _alt(r"""
    (?! (?:we|you all|everyone|someone|anyone|somebody)
    |[ ]you could (?:help|tell|explain|share|send|let me|dm|come|join|make it))
""")
_INSECT = _en(r"""
    bed ?bugs?|bug (?:spray|bites?|repellent|zapper|net)|insects?|mosquito(?:e?s)?|spiders?|
    beetles?|ants|cockroach(?:es)?|crawling|ladybugs?|stink ?bugs?|garden|bugs? (?:bit|landed|flew)|
    bugs? (?:on|in) (?:my|the|your) (?:desk|arm|leg|wall|window|bed|floor|ceiling|kitchen|room|hair)
""")
_CRASH, _LAG, _ERROR = "a crash", "lag or freezing", "an error"

# fmt: off
CUES: tuple[Cue, ...] = (
    # Traps first: at one position the first alternative wins, so these swallow the look-alikes.
    Cue("", 0, r"垃圾(?:分类|桶|袋|站|车|邮件|短信|食品)|[倒扔丢捡]垃圾|[入填挖]坑|不错过|没错|"
               r"值不值", "", ""),
    Cue("", 0, _en(r"""
        crash course|car crash|crash landing|garbage collect\w*|debug\w*|error bars?|
        with the exception|exception (?:of|that)|worst case|no problem|
        (?:market|stock|crypto|price|bitcoin) crash(?:es|ed)?
    """), "", ""),
    # defect
    Cue("defect", 0.9, r"闪退", "闪退", _CRASH, "n"),
    Cue("defect", 0.85, r"崩溃|崩了|(?:服务器|系统|网站|软件|app|程序)挂了", "崩溃", _CRASH, "n"),
    Cue("defect", 0.85, _alt(r"""
        卡顿|卡死|卡住|一直卡|老是卡|(?:很|好|太|超|巨|有点|特别|非常)卡(?!片|号|通)
    """), "卡顿", _LAG, "n"),
    # "卡了" is lag, but not "银行卡了" or "办了张卡了"
    Cue("defect", 0.7, r"(?<![张银行用员信机饭门房油])卡(?:了|得|成|爆)", "卡顿", _LAG, "n"),
    Cue("defect", 0.85, r"报错|出错|错误码|错误代码|error code", "报错", _ERROR, "nh"),
    Cue("defect", 0.85, _alt(r"""
        打不开|进不去|登(?:录|陆)不(?:了|上|进去)|用不了|连不上|点不了|加载不出|
        (?:无法|不能)(?:登录|登陆|打开|使用|连接|加载|支付|启动|播放|上传|下载|同步|保存|刷新)|
        (?:加载|刷新|支付|登录|登陆|上传|下载|同步|保存|更新|安装)(?:失败|不出来|不了)
    """), "用不了", "something that does not work"),
    Cue("defect", 0.85, r"白屏|黑屏|花屏|乱码|失灵|没反应|失效|段错误|系统繁忙|服务器繁忙", "白屏",
        "a broken screen or no response", "n"),
    Cue("defect", 0.85, _alt(r"""
        数据丢失|丢数据|(?:数据|记录|笔记|轨迹|订单|照片|文件|聊天记录).{0,4}(?:丢了|全没了|没了|不见了|消失)|
        收不到(?:推送|通知|消息|验证码)|自动(?:登出|退出|暂停)|跑不通|跑不起来|编译不过|漏单|布局.{0,2}乱
    """), "数据丢失", "lost data or a broken function", "n"),
    Cue("defect", 0.85, _en(r"bugs?|buggy|glitch(?:es|y)?"), "bug", "a bug", "n", _INSECT),
    Cue("defect", 0.9, _en(r"crash(?:es|ed|ing)?"), "崩溃", _CRASH, "n"),
    Cue("defect", 0.8, _en(r"""
        freez(?:es|ing|e)|froze|lag(?:gy|s|ging)?|hangs|
        stuck on (?:the )?(?:loading|splash|login|white|black|blank)
    """), "卡住", _LAG, "n", _en(r"jet lag")),
    Cue("defect", 0.75, _en(r"""
        errors?|exceptions?|broken|blank screen|white screen|black screen
    """), "报错", _ERROR, "nh"),
    Cue("defect", 0.85, _en(r"""
        (?:not|isn't|doesn't|does not|stopped|stops|won't|can't|cannot|unable to)
        [ ](?:work(?:ing)?|open|load|start|launch|log ?in|sign in|connect|sync|play|compile)|
        (?:does|do|did) nothing|never loads|segfaults?|logs? (?:me )?out|logged me out|
        keeps (?:spinning|drifting|pausing|crashing|freezing|logging|resetting)|
        not (?:coming through|syncing|loading|showing up|saving)|wiped|server busy|
        (?:disappeared|vanished|lost (?:all )?(?:my|the) \w+)
    """), "用不了", "something that does not work"),
    # complaint
    Cue("complaint", 0.9, r"客服.{0,6}(?:不回|没人回|不理|没回|联系不上|找不到人|态度)", "客服不回",
        "customer service not answering"),
    Cue("complaint", 0.75, r"太慢|好慢|很慢|慢死|慢得|速度.{0,2}慢", "太慢", "slowness", "n"),
    Cue("complaint", 0.9, r"(?:要求|申请|我要|必须)退款|退钱", "退款", "a refund demand"),
    Cue("complaint", 0.7, r"退款", "退款", "a refund"),
    Cue("complaint", 0.85, _alt(r"""
        垃圾|太坑|好坑|坑人|坑爹|坑钱|被坑|骗钱|骗子|割韭菜|智商税|
        差评|投诉|难用|不好用|不满意|反人类|越来越差|太烂|好烂|很烂|烂透|什么破|
        破(?:软件|app|玩意|东西|系统)|体验.{0,2}差|不流畅
    """), "差评", "a bad review"),
    Cue("complaint", 0.75, _alt(r"""
        失望|恶心|乱收费|乱扣费|扣费|自动续费|太贵|好贵|贵死|卸载了
    """), "失望", "disappointment or charges", "n"),
    Cue("complaint", 0.8, _alt(r"""
        离谱|劝退|烦死|太烦|不值|扛不住|太痛苦|好痛苦|没人理|不理人|不及时|越来越(?:少|贵|差|慢|难用)|
        太(?:久|长|复杂|麻烦)了
    """), "离谱", "dissatisfaction"),
    Cue("complaint", 0.55, r"吐槽|无语|气死|涨价|涨到|影响", "吐槽", "venting"),
    Cue("complaint", 0.9, _en(r"""
        waste of (?:money|time)|rip-?off|charged (?:me )?twice|cancel(?:l?ed|ling)? my subscription|
        support (?:never|doesn't|didn't|hasn't|won't)
        [ ](?:reply|replied|respond|responded|answer|get back)
    """), "浪费钱", "money wasted or support not answering"),
    Cue("complaint", 0.8, _en(r"""
        terrible|awful|horrible|unacceptable|useless|overpriced|too expensive|
        sucks|worst|fed up|disappointed|disappointing|ridiculous
    """), "糟糕", "a bad experience", "n"),
    Cue("complaint", 0.75, _en(r"""
        annoying|frustrat(?:ing|ed)|refund|scam|uninstall(?:ed|ing)?|hate (?:this|it|the)|
        (?:so|too|really|very|painfully|super) slow|(?:no one|nobody) (?:replies|responds|answers)|
        nightmare|brutal|painful|not worth|can't afford|(?:gets|getting) worse|
        ignoring (?:my|our|us)|way too (?:long|steep|expensive|slow|much|many|complicated)
    """), "烦人", "annoyance or slowness", "n"),
    # feature
    Cue("feature", 0.95, _en(r"feature requests?|feature idea|suggestion:"), "功能建议",
        "a feature request"),
    Cue("feature", 0.85, _alt(r"""
        (?<![求点么的个])建议(?!你|您|大家|先|去|直接|多|找|看|用|别|不要|问|[,.!?，。！？]|$)|
        提(?:个|一个|点)小?建议|一个小建议|小建议
    """), "建议", "a suggestion"),
    Cue("feature", 0.8, _alt(r"""
        希望(?:官方|你们|产品|app|软件|以后|后续|下个?版本|早日|尽快)|
        希望[^，。！？,.!?]{0,12}?(?:加|支持|增加|添加|出个|出一个|有个|有一个|优化|提供|开放|显示|
        导出|上线|推出|改成|改为)
    """), "希望", "a wish for the product"),
    Cue("feature", 0.8, _alt(rf"""
        (?:能不能|能否|可不可以|可否|可以|是否可以|有没有可能|什么时候能?)
        (?:加|增加|添加|支持|出个|出一个|开放|提供|上线|做个|做一个){_PERSON}
    """), "能不能加", "asking for something new"),
    Cue("feature", 0.85, _alt(r"""
        (?:要是|如果|若)(?:能|可以|有).{0,20}(?:就好了|就更好了|就完美了|就好啦)
    """), "要是能…就好了", "a wish (要是能…就好了)"),
    Cue("feature", 0.75, r"(?:加|增加|添加|需要)(?:个|一个)[^了]{0,8}功能|求(?:加个|增加|出个)",
        "求功能", "asking for a feature"),
    Cue("feature", 0.85, _en(r"""
        please (?:add|support|consider|allow|bring|include|make it)(?! me| @| him| her| them)|
        add (?:support for|an option|a setting|a way|dark mode)|(?:would|i'd|we'd) love to see|
        would love (?:an? )?(?:option|way|setting|feature|support)|
        wish (?:the app|there (?:was|were) an? (?:option|way|setting|feature)|it (?:had|supported))
    """), "请加", "a request to add something"),
    Cue("feature", 0.8, _en(rf"""
        (?:would|that'd|it'd) be (?:great|nice|awesome|cool|helpful|good) (?:if{_HELP}|to have)|
        (?:can|could|will|would) you (?:guys )?(?:please )?(?:add|support|make it|include|allow|
        consider)(?! me)|(?:can|could) we (?:get|have)|please let (?:us|me) |
        any (?:plans?|chance) (?:to|of) (?:add|support)|it should (?:support|have|let|allow)|
        would love(?= )(?! (?:to (?:join|come|meet|hear|help|chat|see you)|some|your|it if you))
    """), "希望有", "a wish for the product"),
    # praise
    Cue("praise", 0.9, r"好用|神器|好评|五星|5星", "好用", "that it works well", "n"),
    Cue("praise", 0.75, _alt(r"""
        太棒了|给力|真香|太香|(?<!可)爱了|点赞|点个赞|[很太超好真]赞|赞$|流畅|丝滑|完美|满意|越来越好|
        体验.{0,2}(?:好|棒|赞|不错)|好看|很专业|用心|超好|收获(?:很大|满满)|很喜欢|
        (?:快|流畅|稳定|好用|清楚)(?:多了|了很多|了一倍)|氛围.{0,2}好|太清楚|友好
    """), "太棒了", "praise", "n"),
    Cue("praise", 0.75, _alt(r"""
        (?:感谢|谢谢).{0,4}(?:团队|官方|开发|你们|产品|更新|修复|工程师|小哥|群主|班长|组织|领读|老师)
    """), "感谢团队", "thanks to the team or organisers"),
    Cue("praise", 0.5, r"感谢|真棒|很棒|好棒|不错|厉害|修好了|修复了|解决了", "不错", "approval",
        "n"),
    Cue("praise", 0.9, _en(r"""
        love (?:it|this|the (?:app|update|new))|loving (?:it|the)|best app|game.?changer|
        works (?:great|perfectly|like a charm|flawlessly|so well)|five stars|5 stars
    """), "好用", "that it works well", "n"),
    Cue("praise", 0.85, _en(r"""
        (?:great|awesome|amazing|excellent|fantastic|nice|solid|brilliant)
        [ ](?:app|update|release|feature|tool|product|version)|highly recommend|
        thanks? (?:you )?(?:for|to) (?:the|this) (?:update|fix|feature|release)
    """), "好评", "praise for the product", "n"),
    Cue("praise", 0.7, _en(r"""
        great job|well done|kudos|(?:much|so much) (?:better|faster|smoother)|lifesaver|smooth|
        worth every penny|thanks? (?:you )?for organi[sz]ing|thanks to (?:our|the) \w+|
        (?:is|was|are|it's|genuinely|super|so|really) (?:great|fantastic|amazing|awesome|perfect|
        incredible|clear|helpful)|friendliest|best \w+ (?:tool|app|group|docs)|
        (?:is|are|was) (?:the best|perfect)
    """), "夸奖", "praise", "n"),
    Cue("praise", 0.5, _en(r"awesome|amazing|love|loved|excellent|fixed|thank you|thanks"), "称赞",
        "approval", "n"),
)
# fmt: on

_FLAGS = re.IGNORECASE
SCANNER = _SCANNER = CueScanner([cue.pattern for cue in CUES])
_UNLESS = {i: re.compile(c.unless, _FLAGS) for i, c in enumerate(CUES) if c.unless}
_NEG_ZH = re.compile(
    r"(?:没有?|无|不再?|不会|别|从没|从不|再也没有?|再没|一点都不|一点也不|都没有?|也没有?|一次都没有?)"
    r"(?:再|有|怎么|出现过?|遇到过?|发生过?|什么)?$"
)
_NEG_EN = re.compile(
    r"(?<![a-z])(?:no longer|not|never|no|no more|doesn't|does not|don't|didn't|isn't|wasn't|"
    r"hasn't|haven't|won't|without|stopped|zero)(?: [a-z']+)?\s*$",
    _FLAGS,
)
_HYPOTHETICAL = re.compile(
    r"(?:会不会|是否会?|万一|担心|怕|如果|假如|(?<![a-z])(?:will|would|might|could|if) it)\s*$",
    _FLAGS,
)
# After a negated problem, these say it is over: "没有闪退了", "不卡了", "doesn't crash anymore".
_OVER = re.compile(r"了|啦|anymore|any more|(?<![a-z])(?:now|since)(?![a-z])", _FLAGS)
_NO_MORE = re.compile(r"no more|no longer|不再|再也|没再", _FLAGS)
_PRODUCT = re.compile(
    r"软件|应用|版本|更新|功能|产品|系统|客户端|小程序|界面|新版|官方|团队|"
    + _en(r"apps?|update|version|feature|the tool|release|ui|product|team"),
    _FLAGS,
)
_QUESTION = re.compile(
    r"[?？]|吗|如何|怎么(?:申请|操作|弄|办|取消|关闭)|(?<![a-z])how (?:do|can|to)", _FLAGS
)
# Praise asked as a question right after the cue: "好用吗？", "好用不？".
_ASKED = re.compile(r"\s*(?:吗|么|嘛|不好|不\s*[?？]|[?？])", _FLAGS)
_HELP_SEEKING = re.compile(
    r"帮(?:忙|我)看|怎么解决|如何解决|求助|"
    + _en(r"help me|can someone help|how (?:do|can) i (?:fix|solve)|understand this|any idea why"),
    _FLAGS,
)
# Thanks to a member for help is not product praise; the organisers (群主, 老师) do count.
_MEMBER = re.compile(
    r"@\S|你|您|大佬|分享|大家|兄弟|姐妹|"
    + _en(r"for sharing|you(?:'re| are)|your|well said|guys|bro|everyone|all of you"),
    _FLAGS,
)
_URL = re.compile(r"(?:https?://|www\.)\S+", _FLAGS)
_RESOLVED = Cue("praise", 0.6, "", "问题已解决", "that the problem is gone")


def _cancelled(text: str, start: int, end: int) -> tuple[bool, str]:
    """Whether a negation or hypothetical cancels the cue, and the phrase if it says "no more"."""
    before = text[max(0, start - 12) : start]
    if _HYPOTHETICAL.search(before):
        return True, ""
    negation = _NEG_ZH.search(before[-5:]) or _NEG_EN.search(before)
    if negation is None:
        return False, ""
    over = _OVER.search(text, start, end + 14)
    if over is None and not _NO_MORE.search(before):
        return True, ""
    phrase_end = over.end() if over else end
    return True, (negation.group() + text[start:phrase_end]).strip()


def _hits(text: str, scanned: list[Hit] | None = None) -> dict[str, list[tuple[Cue, str]]]:
    """Every counting cue in the text, by label (negated problems turn into ``_RESOLVED``);
    ``scanned`` is what the cue scanner finds in it, when the caller has that."""
    hits: dict[str, list[tuple[Cue, str]]] = {}
    for index, m in _SCANNER.scan(text) if scanned is None else scanned:
        cue = CUES[index]
        if not cue.label or (index in _UNLESS and _UNLESS[index].search(text)):
            continue
        if cue.label == "praise" and _ASKED.match(text, m.end()):
            continue
        if "h" in cue.flags and _HELP_SEEKING.search(text):
            continue
        if "n" in cue.flags:
            cancelled, resolved = _cancelled(text, m.start(), m.end())
            if cancelled:
                if resolved and cue.label == "defect":
                    hits.setdefault("praise", []).append((_RESOLVED, resolved))
                continue
        hits.setdefault(cue.label, []).append((cue, m.group()))
    return hits


def _score(label: str, found: list[tuple[Cue, str]], text: str) -> float:
    """The strongest cue's weight, nudged by further cues, a product mention and question form."""
    score = max(cue.weight for cue, _ in found)
    score += min(0.1, 0.05 * (len({cue.pattern for cue, _ in found}) - 1))
    if label in ("praise", "complaint"):
        if _PRODUCT.search(text):
            score += 0.1
        if _QUESTION.search(text):  # "好用吗？" asks, "退款怎么申请？" is a how-to question
            score -= 0.2
    return round(min(score, 0.99), 2)


def _reason(found: list[tuple[Cue, str]]) -> tuple[str, str]:
    """Operator-readable reasons naming at most three cues, strongest first."""
    seen: dict[str, tuple[Cue, str]] = {}
    for cue, word in sorted(found, key=lambda hit: -hit[0].weight):
        seen.setdefault(word.strip().lower(), (cue, word.strip()))
    top = list(seen.values())[:3]
    zh = "；".join(f"含“{word}”（{cue.zh}）" for cue, word in top)
    en = "; ".join(f"mentions {cue.en} (“{word}”)" for cue, word in top)
    return zh, en


def classify_feedback(
    text: str, *, folded: str | None = None, scanned: list[Hit] | None = None
) -> FeedbackMatch | None:
    """Classify one message as product feedback, or return None when it is not feedback.
    ``folded`` is ``fold(text)`` when the caller has it (the enrichment folds once for this and
    the off-topic rule), ``scanned`` what ``SCANNER`` finds in ``folded`` (the enrichment scans
    once for both rules: ``JointScanner``); it is used only when there is no link to remove.

    >>> classify_feedback("又闪退了！！").label
    'defect'
    """
    if not text:
        return None
    folded = fold(text) if folded is None else folded
    no_links = _URL.sub(" ", folded) if "://" in folded or "www." in folded else folded
    hits = _hits(no_links, scanned if no_links is folded else None)
    if not hits:
        return None
    if "defect" in hits or "complaint" in hits:
        hits.pop("praise", None)  # sarcasm and mixed messages: the problem is what to act on
    elif "praise" in hits and _MEMBER.search(folded) and not _PRODUCT.search(folded):
        hits.pop("praise")  # thanks to a member ("谢谢分享") is not praise of the product
    elif "praise" in hits and folded != no_links:
        hits.pop("praise")  # "这部剧太好看了 <link>" praises what the link shows
    for label in LABELS:
        score = _score(label, hits[label], folded) if label in hits else 0.0
        if score >= MIN_CONFIDENCE:
            zh, en = _reason(hits[label])
            return FeedbackMatch(label, score, zh, en, tuple(word for _, word in hits[label]))
    return None
