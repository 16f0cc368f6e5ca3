"""Rituals and habits: newcomers' self-introductions (R11) and check-ins (R15), zh and en.

Rules as data: the cue patterns, city and role tables below are what to extend. Both checks start
with one cheap cue search, so the great majority of messages (no 我是/I'm, no 打卡/day N) cost one
regex scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shequn.text.segment import fold, word_set

__all__ = ["CheckIn", "SelfIntro", "checkin_day", "chinese_number", "detect_self_intro"]

# An introduction needs its cue plus this many of name, city, company, role, reason, at least one
# of them saying who the member is (name, city or role): "the meetup is at WeWork, hope to see
# you" has a company and a reason but introduces nobody.
MIN_INTRO_FIELDS = 2
IDENTITY_FIELDS = ("name", "city", "role")

CITIES_ZH = word_set(
    """
    北京 上海 广州 深圳 杭州 南京 苏州 成都 重庆 武汉 西安 天津 长沙 郑州 青岛 厦门 宁波 合肥 济南
    福州 昆明 大连 沈阳 哈尔滨 长春 石家庄 太原 南昌 南宁 贵阳 兰州 海口 三亚 珠海 东莞 佛山 无锡
    常州 温州 绍兴 嘉兴 金华 台州 徐州 烟台 洛阳 惠州 中山 泉州 扬州 南通 唐山 保定 乌鲁木齐
    呼和浩特 银川 西宁 拉萨 香港 澳门 台北 台中 高雄 新竹 廣州 蘇州 長沙 廈門 纽约 伦敦 东京 巴黎
    新加坡 悉尼 墨尔本 多伦多 温哥华 洛杉矶 旧金山 西雅图 首尔 吉隆坡 曼谷 柏林
    """
)
# Role words; a Chinese role is often a longer phrase ending in one of these (前端工程师, 产品经理).
ROLES_ZH = (
    "产品经理|项目经理|经理|总监|主管|工程师|程序员|开发|前端|后端|全栈|架构师|设计师|设计|运营|产品|"
    "市场|销售|老师|教师|讲师|教练|医生|护士|律师|会计|财务|HR|人力|猎头|创始人|联合创始人|合伙人|"
    "CEO|CTO|COO|学生|研究生|博士|本科生|宝妈|全职妈妈|自由职业者?|主播|博主|作者|编辑|记者|"
    "咨询师|顾问|分析师|测试|实习生|创业者|老板|店主|投资人|研究员|公务员"
)
ROLES_EN = (
    "engineer|developer|dev|designer|manager|pm|founder|co-?founder|ceo|cto|cfo|coo|vp|director|"
    "lead|student|teacher|professor|researcher|scientist|analyst|consultant|marketer|writer|editor|"
    "nurse|doctor|lawyer|accountant|architect|intern|freelancer|entrepreneur|owner|recruiter|coach|"
    "trainer|programmer|product manager|data scientist|mom|mum|dad|parent"
)
# Words that follow 我是 / I'm but are not names.
NOT_NAMES_ZH = word_set("新人 新来的 新手 小白 萌新 新成员 新朋友 群主 管理员 这里 本人")
NOT_NAMES_EN = word_set(
    "new here from based so just also really still back happy glad excited a an the"
)
NOT_ROLES = word_set("new newbie member beginner newcomer fan lurker 新人 小白") | {"new member"}

_CLAUSE_END = r"(?=[，,。.!！?？;；、\s~～]|$)"
_STOP = "，,。.!！?？;；、\\s~～"

# Two plain patterns (the English one on lower-cased text) rather than one case-insensitive one
# with \b: Python's re scans literal alternations several times faster that way.
_INTRO_CUE_ZH = re.compile(
    r"大家好|各位好|大家(?:早上|中午|下午|晚上)好|哈喽|嗨|新人报到|报到|自我介绍|我是|我叫|本人|初来乍到"
)
# Each word's first letter comes before its word-start check ("h(?<![a-z].)i" rather than
# "(?<![a-z])hi"): a pattern that starts with a letter lets re skip to the places it can match,
# one that starts with a lookbehind is tried at every position (three times slower here).
_AT_WORD = "(?<![a-z].)"  # the letter just matched starts a word
_INTRO_CUE_EN = re.compile(
    rf"(?:h{_AT_WORD}(?:i|ello|ey)|g{_AT_WORD}(?:reetings|ood (?:morning|afternoon|evening))"
    rf"|i{_AT_WORD}(?:ntroduc\w*|'?m| am)|m{_AT_WORD}y name|n{_AT_WORD}ew here"
    rf"|j{_AT_WORD}ust joined)(?![a-z])"
)

# A letter of every English intro cue: hi/hello/hey/new here, greetings/good …, i'm/i am/
# introduce/just joined, my name.
_INTRO_MARKS = "hgim"

_NAME_ZH = re.compile(
    r"(?:我是|我叫|本人|我的名字是|名字叫|叫我)[:：\s]*"
    r"(?P<name>[A-Za-z][A-Za-z .'\-]{0,20}[A-Za-z]|[\u4e00-\u9fff·]{2,5}?)"
    rf"(?=[{_STOP}]|$|来自|來自|在|从|目前|现在|是|做|就好|就行)"
)
_CITY_OF_NAME_ZH = re.compile(
    r"我是(?:来自)?(?P<city>[\u4e00-\u9fff]{2,6}?)的(?P<name>[\u4e00-\u9fff]{2,4})" + _CLAUSE_END
)
_CITY_CUE_ZH = re.compile(
    r"(?:来自|來自|坐标|坐標|base在?|现居|現居|定居|常驻|人在|目前在|现在在)[:：\s]*"
    rf"(?P<city>[\u4e00-\u9fff]{{2,8}}?)(?=[{_STOP}的]|$|做|在|工作|上班|从事|读|是)",
    re.IGNORECASE,
)
_CITIES = "|".join(sorted(CITIES_ZH, key=len, reverse=True))
_CITY_LISTED = re.compile(_CITIES)
_CITY_OF_ME_ZH = re.compile(rf"我是(?P<city>{_CITIES})(?:的|人)")
_CITY_ANY_ZH = re.compile(rf"(?:^|(?<=[{_STOP}在]))(?P<city>{_CITIES})(?=人|[{_STOP}]|$)")
_COMPANY_ZH = re.compile(
    r"(?:就职于|任职于|供职于|服务于|工作于|在)"
    rf"(?P<company>[^{_STOP}]{{1,16}}?(?:公司|集团|科技|银行|大学|学院|学校|医院)?)"
    r"(?:工作|上班|任职|实习|做|当|担任|负责|从事|读书|上学|读研|读博)"
)
_COMPANY_NAMED_ZH = re.compile(rf"(?P<company>[^{_STOP}在于是]{{2,12}}(?:公司|集团|科技))")
_ROLE_ZH = re.compile(
    r"(?:做|当|担任|从事|负责|是一名|是一位|是一个|是个|是名|职位是|岗位是)"
    rf"(?P<role>[^{_STOP}]{{2,12}}?)(?:的?工作|的)?{_CLAUSE_END}"
)
_ROLE_WORD_ZH = re.compile(rf"(?P<role>[\u4e00-\u9fffA-Za-z]{{0,4}}?(?:{ROLES_ZH})){_CLAUSE_END}")
_REASON_ZH = re.compile(
    r"(?P<reason>(?:希望|想要|想和|想跟|想多|想学|期待|为了|进群是?为了|加入是?为了|来学习|来取经|"
    r"来交流|向大家学习|跟大家学习|和大家学习|和大家交流|跟大家交流)[^。.!！?？\n，,]{0,40})"
)

_NAME_EN = re.compile(
    r"\b(?i:i'?m|i am|my name is|my name's|this is|call me|name's)\s+"
    r"(?P<name>[A-Z][\w'\-]+(?:\s+(?!From\b|And\b|At\b|In\b|Here\b)[A-Z][\w'\-]+)?)"
)
_CITY_EN = re.compile(
    r"\b(?i:from|based (?:in|out of)|living in|live in|located in|moved to)\s+"
    r"(?P<city>[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+){0,2})"
)
_COMPANY_EN = re.compile(
    r"(?:\b(?i:at|work(?:s|ing)? (?:at|for)|employed (?:at|by))|@)\s*"
    r"(?P<company>[A-Z][\w&.\-]*(?:\s+[A-Z][\w&.\-]*){0,3})"
)
_ROLE_EN = re.compile(
    r"(?:\bi'?m an?|\bi am an?|\bi work as an?|\bworking as an?|\bwork as an?|\bas an?|\bjob is"
    r"|\brole is|[,，]\s*an?)\s+"
    r"(?P<role>[a-z][\w\-/]*(?:\s+[a-z][\w\-/]*){0,3}?)"
    r"(?=\s+(?:at|for|in|from|with|and|who|based|living)\b|\s*@|[,.;!?，。；！？]|$)",
    re.IGNORECASE,
)
_ROLE_AT_EN = re.compile(
    rf"(?:^|[,;，；]\s*|\band\s+)(?P<role>(?:[A-Za-z][\w\-]*\s+){{0,2}}(?i:{ROLES_EN})|[A-Z]{{2,4}})"
    r"\s+(?:at|@)\s*[A-Z]"
)
_REASON_EN = re.compile(
    r"(?P<reason>\b(?:joined to|here to|hoping to|hope to|looking to|want to|wanted to|"
    r"would love to|excited to|keen to|eager to|looking forward to|to learn|joined because|"
    r"joined for|here for)\b[^.!?。！？\n]{0,60})",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class SelfIntro:
    """A newcomer's self-introduction and what it told (each field optional)."""

    name: str | None
    city: str | None
    company: str | None
    role: str | None
    reason: str | None
    reason_zh: str
    reason_en: str

    @property
    def fields(self) -> dict[str, str]:
        """The fields that were found, in a fixed order."""
        found = {
            "name": self.name,
            "city": self.city,
            "company": self.company,
            "role": self.role,
            "reason": self.reason,
        }
        return {key: value for key, value in found.items() if value}


_FIELD_ZH = {"name": "姓名", "city": "城市", "company": "公司", "role": "职位", "reason": "来意"}


def detect_self_intro(text: str, *, folded: str | None = None) -> SelfIntro | None:
    """A self-introduction: a greeting or "I am" cue plus at least two of name, city, company,
    role and reason for joining. "我是新人" or "Hi, I'm Ana" alone are not enough. ``folded`` is
    ``segment.fold(text)`` when the caller has it (the enrichment folds once for all rules).

    >>> detect_self_intro("大家好，我是张三，来自杭州，在某某公司做产品经理，希望和大家交流").city
    '杭州'
    """
    folded = fold(text) if folded is None else folded
    if not _has_cue(folded, _INTRO_CUE_ZH, _INTRO_CUE_EN, _INTRO_MARKS):
        return None
    found = _fields_zh(folded)
    for key, value in _fields_en(folded).items():
        found.setdefault(key, value)
    if len(found) < MIN_INTRO_FIELDS or not any(key in found for key in IDENTITY_FIELDS):
        return None
    shown = [(key, found[key]) for key in _FIELD_ZH if key in found]
    return SelfIntro(
        name=found.get("name"),
        city=found.get("city"),
        company=found.get("company"),
        role=found.get("role"),
        reason=found.get("reason"),
        reason_zh="自我介绍：" + "；".join(f"{_FIELD_ZH[k]} {v}" for k, v in shown),
        reason_en="self-introduction: " + "; ".join(f"{k} {v}" for k, v in shown),
    )


def _has_cue(folded: str, zh: re.Pattern[str], en: re.Pattern[str], mark: str) -> bool:
    """The cheap first test of both rituals. The Chinese cues need a Chinese character, so an
    ASCII message (one in eight) skips that search; every English cue holds a character of
    ``mark``, so a message without any (most Chinese ones) skips the other."""
    if not folded.isascii() and zh.search(folded) is not None:
        return True
    lowered = folded.lower()
    return _has_any(lowered, mark) and en.search(lowered) is not None


def _has_any(text: str, chars: str) -> bool:
    # a plain loop: any() over a generator costs more than the few `in` tests themselves
    for char in chars:  # noqa: SIM110
        if char in text:
            return True
    return False


def _fields_zh(text: str) -> dict[str, str]:
    """Name, city, company, role and reason from Chinese phrasing."""
    found: dict[str, str] = {}
    pair = _CITY_OF_NAME_ZH.search(text)
    if pair and (pair["city"] in CITIES_ZH or "来自" in pair.group(0)):
        found["city"], found["name"] = pair["city"], pair["name"]
    if "name" not in found and (match := _NAME_ZH.search(text)) and _is_name_zh(match["name"]):
        found["name"] = match["name"].strip()
    if "city" not in found and (city := _city_zh(text)):
        found["city"] = city
    if company := _COMPANY_ZH.search(text):
        place = company["company"]
        found.setdefault("city", place) if place in CITIES_ZH else found.setdefault(
            "company", place
        )
    if "company" not in found and (named := _COMPANY_NAMED_ZH.search(text)):
        found["company"] = named["company"]
    role = _ROLE_ZH.search(text) or _ROLE_WORD_ZH.search(text)
    if role and role["role"] not in NOT_ROLES and role["role"] != found.get("name"):
        found["role"] = role["role"]
    if reason := _REASON_ZH.search(text):
        found["reason"] = reason["reason"].strip()
    return found


def _is_name_zh(name: str) -> bool:
    """Reject what follows 我是 but is not a name: 新人, 一名…, 做产品的, a city, a role."""
    return not (
        name in NOT_NAMES_ZH
        or name in CITIES_ZH
        or name[0] in "一个做在从来新这那大"
        or "的" in name
        or re.search(ROLES_ZH, name) is not None
    )


def _city_zh(text: str) -> str | None:
    """我是上海的/人; after a city cue (来自/坐标/base…) a known city in the next words, else the
    words up to a clause end; without a cue, a known city as its own clause ("杭州，产品经理")
    or after 在."""
    if mine := _CITY_OF_ME_ZH.search(text):
        return mine["city"]
    if cue := _CITY_CUE_ZH.search(text):
        listed = _CITY_LISTED.search(text, cue.start("city"), cue.start("city") + 10)
        return listed.group(0) if listed else cue["city"]
    standalone = _CITY_ANY_ZH.search(text)
    return standalone["city"] if standalone else None


def _fields_en(text: str) -> dict[str, str]:
    """Name, city, company, role and reason from English phrasing."""
    found: dict[str, str] = {}
    name = _NAME_EN.search(text)
    if (
        name
        and name["name"].split()[0].lower() not in NOT_NAMES_EN
        and not _is_role_en(name["name"])
    ):
        found["name"] = name["name"]
    if city := _CITY_EN.search(text):
        found["city"] = city["city"]
    if company := _COMPANY_EN.search(text):
        found["company"] = company["company"]
    role = _ROLE_EN.search(text) or _ROLE_AT_EN.search(text)
    if role and role["role"].lower() not in NOT_ROLES:
        found["role"] = role["role"]
    if reason := _REASON_EN.search(text):
        found["reason"] = reason["reason"].strip()
    return found


def _is_role_en(word: str) -> bool:
    """True for "PM", "CTO", "Engineer": a capitalised role is not a name."""
    return re.fullmatch(rf"(?i:{ROLES_EN})", word) is not None


# --- check-ins -----------------------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CN_DIGITS |= {"七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM = r"\d{1,4}|[零〇一二两三四五六七八九十百千]{1,6}"

_CHECKIN_CUE_ZH = re.compile(rf"打卡|签到|簽到|第\s*(?:{_NUM})\s*[天日次]")
_CHECKIN_CUE_EN = re.compile(  # on lower-cased text
    rf"check(?:ed|ing)?[- ]?in(?![a-z])|#\d+\s*days?\s*of|#\w*challenge|d{_AT_WORD}ay\s*#?\d"
)
_CHECKIN_MARKS = "c#d"  # one is in every English check-in cue: check…in, #…, day
# A reminder, a refusal, a question about it, or a place to "打卡" (网红打卡点) is not a check-in.
_NOT_CHECKIN = re.compile(
    r"(?:没|沒|未|忘了|忘记|忘記|不|别|別|记得|記得|要|去|能|可以|怎么|怎麼|如何|提醒大家?)"
    r"(?:打卡|签到|簽到)|(?:打卡|签到)(?:点|地|圣地|景点|胜地)|"
    r"\b(?:forgot to|don't forget to|remember to|how (?:do|to)|did you)\s+check[- ]?in",
    re.IGNORECASE,
)
_DAY = re.compile(
    rf"第\s*(?P<zh>{_NUM})\s*[天日次]|(?:连续|已经?|累计)?(?:打卡|签到|簽到)?\s*(?P<streak>{_NUM})\s*天|"
    r"\bday\s*#?(?P<en>\d{1,4})\b",
    re.IGNORECASE,
)
# The day marker opens the message ("Day 12: 5km", "第十二天 背单词"): a check-in without 打卡.
_DAY_FIRST = re.compile(
    rf"^\W{{0,3}}(?:#\w+\s*)?(?:第\s*(?:{_NUM})\s*[天日]|day\s*#?\d)", re.IGNORECASE
)
_EXPLICIT = re.compile(
    r"打卡|签到|簽到|check(?:ed|ing)?[- ]?in|#\w+|\b(?:done|completed?)\b|✅|完成", re.I
)
_QUESTION = re.compile(r"[?？]|吗|嗎")


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A check-in message and the day number it states, if any."""

    day: int | None
    reason_zh: str
    reason_en: str


def checkin_day(text: str, *, folded: str | None = None) -> CheckIn | None:
    """A check-in (打卡, 签到, 第12天, Day 12, "day 12 done", "#100DaysOfCode day 5") and its day;
    ``folded`` as for ``detect_self_intro``.

    >>> checkin_day("打卡第十二天").day
    12
    """
    folded = fold(text) if folded is None else folded
    if not _has_cue(folded, _CHECKIN_CUE_ZH, _CHECKIN_CUE_EN, _CHECKIN_MARKS):
        return None
    if _NOT_CHECKIN.search(folded):
        return None
    day = _day_number(folded)
    if not (_EXPLICIT.search(folded) or _DAY_FIRST.search(folded)):
        return None
    if day is None and _QUESTION.search(folded):
        return None  # "今天签到了吗？" asks, does not check in
    if day is None:
        return CheckIn(None, "打卡/签到", "a check-in")
    return CheckIn(day, f"打卡第 {day} 天", f"check-in, day {day}")


def _day_number(text: str) -> int | None:
    """The day stated by 第N天 / 打卡N天 / day N, Arabic or Chinese numerals."""
    match = _DAY.search(text)
    if match is None:
        return None
    raw = match["zh"] or match["streak"] or match["en"]
    return int(raw) if raw.isdigit() else chinese_number(raw)


def chinese_number(numeral: str) -> int:
    """Value of a Chinese numeral below 10,000: 十二 → 12, 二十 → 20, 一百零五 → 105, 二〇 → 20."""
    if not any(ch in _CN_UNITS for ch in numeral):
        value = 0
        for ch in numeral:  # digit by digit, as in 二〇二四
            value = value * 10 + _CN_DIGITS[ch]
        return value
    total, digit = 0, 0
    for ch in numeral:
        if ch in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
        else:
            digit = _CN_DIGITS[ch]
    return total + digit
