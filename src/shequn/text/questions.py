"""Question detection for one chat message, Chinese and English (issue 4 §1).

A *question* is a message that asks the group for an answer, so an unanswered one is worth the
operator's follow-up. Greetings (在吗, how are you?), reactions (真的吗？, really??), rhetorical
questions (难道你不知道吗？, who doesn't love pizza?), questions only quoted or inside a URL, and
interrogative words used in statements (here's how I did it, 不知道为什么…) are not questions.

`detect_question(text)` is pure and returns a `QuestionMatch` with an operator-readable reason, or
None. The rules are the tables below; extend a table rather than the code. The labelling guide
they are scored against is tests/fixtures/text/README.md (`benchmarks/text_quality.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

QuestionKind = Literal["mark", "interrogative", "request"]


@dataclass(frozen=True, slots=True)
class QuestionMatch:
    """Why a message was taken for a question: `kind` is "mark" (？/?), "interrogative"
    (吗, 怎么, A不A, how/what/is…) or "request" (请问, 求推荐, anyone know, I wonder); `cue` is the
    text that decided it."""

    kind: QuestionKind
    cue: str
    reason_zh: str
    reason_en: str


# --- What is removed before looking: the asker's own words only ------------------------------
# URLs (their `?` is a query string), quoted speech (a question reported, not asked), inline code,
# export placeholders such as [图片] and @mentions.
_STRIP = re.compile(r"(?:https?://|www\.)\S+|`[^`\n]*`|\[[^\]\n]{1,12}\]|@\S+")
# A quotation becomes a neutral stand-in, so what is said about it does not start the clause
# ("“Why learn?” is the title" must not read as "is the title…").
_QUOTED = re.compile(r"“[^”]*”|「[^」]*」|『[^』]*』|\"[^\"\n]*\"")
_QUOTE_STAND_IN = " 〃 "
_CJK = re.compile(r"[\u3400-\u9fff]")
# A pattern that opens with a character class lets `re` skip in C to where it can match; one that
# opens with a repeat or an alternation of repeats enters the matcher at every position (the
# forms below are the same patterns: [x]+ as [x][x]*, and the sentence end's two branches behind
# the class of their first characters, about three times faster to split with).
_CJK_RUN = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff]*")  # counted by runs: fewer objects
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z]*")
# Sentence ends; a dot only ends a sentence before a space or the end (not in 101.5 or next.js):
# ([。！？!?；;\n…~～]+|\.(?=\s|$)) written to start with a class.
_SENTENCE_END = re.compile(r"([。！？!?；;\n…~～.](?:(?<=\.)(?=\s|$)|(?<!\.)[。！？!?；;\n…~～]*))")
_CLAUSE_SEP = re.compile(r"[,，、:：()（）]+|\s[-—–]+\s")

# --- Whole-message greetings and reactions: no answer needed ----------------------------------
_ZH_GREETINGS = (
    "在吗|在么|在嘛|在不在|有人在吗|有人吗|有人在不|吃了吗|吃了没|吃饭了吗|吃饭了没|你好吗|"
    "大家好吗|最近好吗|最近怎么样|最近咋样|最近如何|还好吗|睡了吗|起床了吗|干嘛呢|在干嘛"
)
_EN_GREETINGS = (
    r"how are (?:you|ya|u)(?: all| guys| doing| today)*|how'?s (?:everyone|everybody|it going)"
    r"(?: doing)?(?: today)?|how is (?:everyone|everybody)(?: doing)?|how (?:are )?you doing|"
    r"how have you been|how was your (?:day|weekend)|what'?s up|sup|wassup|what'?s new|"
    r"(?:any|some)(?:one|body) (?:around|here|there|online|awake|up)"
)
_REACTIONS = (
    "真的吗|真的假的|是吗|是嘛|不是吧|[啊哈嗯哦噢呃额啥]|what|really|seriously|for real|huh|srsly|"
    "you'?re asking me|you ask me|你问我|对吧|好吧|ok|okay|right"
)
_SALUTES = (
    "hey|hi|hello|hiya|yo|good (?:morning|afternoon|evening)|morning|evening|"
    "大家好|早上好|晚上好|早安|早|哈喽|嗨|你好"
)
_VOCATIVES = (
    "大家|各位|大佬们?|宝妈们?|姐妹们?|朋友们|亲们?|群友们?|同学们?|老师们?|小伙伴们?|大神们?|"
    "家人们|兄弟们?|guys|everyone|everybody|all|folks|y'?all|team|friends|people|fam|"
    "you all|today|there"
)
_SMALL_TALK = re.compile(
    rf"(?:(?:{_ZH_GREETINGS}|{_EN_GREETINGS}|{_REACTIONS}|{_SALUTES})[呀呢嘛啦]?"
    rf"(?:\s*(?:{_VOCATIVES}))*\s*)+"
)
_NOT_WORD = re.compile(r"[^\w\s']+")
_SMALL_TALK_MAX = 40  # longer sentences carry content; also bounds the regex's work

# --- Rhetorical: asserts rather than asks, even with a question mark --------------------------
_ZH_RHETORICAL = re.compile(
    r"难道|岂不|何必|何尝|凭什么|谁说|谁知道呢|不会吧|还用问|还用说|怎么可能|又不是|你问我|"
    r"哪有(?:那么|这么|什么|时间|空)|有(?:什么|啥)(?:好|难|可|大不了)[^，。！？]{0,6}的|"
    r"不就(?:是)?[^，。！？]*吗|是不是(?:傻|有病|疯)|谁[\u4e00-\u9fff]{0,5}?[不没]"
)
_EN_NOT = r"(?:doesn'?t|does not|don'?t|isn'?t|hasn'?t|haven'?t|wouldn'?t|didn'?t|can'?t|won'?t)"
_EN_RHETORICAL = re.compile(
    rf"\b(?:who {_EN_NOT}\b|which \w+ {_EN_NOT}\b|who (?:needs|cares|says|even)\b"
    r"|who has (?:the )?time\b|who knows\W*$|who (?:could|can|would)\b.*\bwithout\b"
    r"|how (?:is|are|was|were) (?:it|this|that) still\b|how hard can it be"
    r"|guess what\b|as if\b|you'?re asking me\b)"
)
_EN_RHETORICAL_HINTS = ("who", "which", "how", "guess", "as if", "asking")
# Exclamations built from question words; they only count as asking with a question mark.
_ZH_EXCLAMATORY = re.compile(
    r"怎么(?:这么|那么|又|还|会这样)|(?:为什么|为啥)[^，。！？]{0,6}(?:这么|那么)|多么"
)
_EN_EXCLAMATORY = re.compile(
    r"(?:^|[,，]\s*)(?:what an?\b|why not\b|how (?:cool|great|nice|awesome|amazing|cute|lucky|"
    r"fun|sweet|beautiful|wonderful|crazy|wild|annoying|sad)\b)|^why\b.*\bagain\b"
)
# A question its asker answers at once (前端已死？我看未必) is a statement.
_SELF_ANSWER = re.compile(
    r"^\s*(?:我看|未必|当然|不一定|肯定不|of course|obviously|nope|not really|no way)"
)

# --- Chinese cues (Chinese puts question words in place, so search the whole sentence) --------
_ZH_REQUEST = re.compile(
    r"请问|求问|想问|问一下|问下|请教|打听一下|咨询一下|麻烦问|有人知道|有谁知道|谁知道|"
    r"有没有人|有人用过|有人遇到|有人试过|帮忙看看|帮我看看|"
    r"求(?:推荐|助|教|解|指点|指教|大神|大佬|个|一个|分享|链接|资源|带)"
)
# Question words in statements: 不知道为什么…, 什么都…, 好几次, 差不多… are removed first.
_ZH_NEUTRAL = re.compile(
    r"(?:不知道|不清楚|不晓得|不明白|不懂|忘了|不管|无论|不论|就是|也想知道|好奇)"
    r"(?:怎么|为什么|为啥|什么|如何|哪\S?|啥|咋|谁|是否|多少)?"
    r"|(?:可以|去|来)看看[^，。！？]*?(?:啥|什么)|什么[都也的]|没什么|谁[都也]|啥[都也]|怎么说呢|怎么也|多少有点|多多少少|差不多|哪怕|哪里哪里|"
    r"(?:这|那)(?:就)?是为什么"
)
_ZH_INTERROGATIVE = re.compile(
    r"吗|怎么办|怎么|怎样|如何|为什么|为啥|咋|什么|啥|哪|谁|何时|是否|"
    r"(?<![好十这那])几(?:点|号|天|岁|个|次|年|月|周|公里|块|分)|多(?:久|长|少|大|远|高)|"
    r"周几|星期几|礼拜几|第几|有[^，。！？\s]{1,8}[没不]$|了没有?$|是[^，。！？]{1,15}还是|还是[^，。！？]*好$|"
    r"(?:跑|去|来|要|行|好|能|对|是|吃|玩|走|约)不$"
)
# "And you?" asks back: 那你呢, 大家呢.
_ZH_WHAT_ABOUT = re.compile(r"^(?:那么?)?(?:你|你们|您|大家|其他人|别人)呢")
_ZH_TRAILING = re.compile(r"[啊呀哈嘿呢吧嘛啦\s\W]+$")
# Cheap gates: a sentence without any of these characters or words cannot hold a cue.
_ZH_MAYBE = re.compile(r"[吗么呢怎如为咋什啥哪谁何是几多没不还]")
# \b(?:how|what|why|which|who|whose|whom|when|where|is|are|am|was|were|does|did|has|have|do|
# can|could|would|will|should|shall|may|might|any\w*|wonder\w*|quick|q|need|help|looking)\b,
# grouped by first letter with the word-start test after it, so `re` skips to those letters.
_EN_MAYBE = re.compile(
    r"a(?<!\w.)(?:re|m|ny\w*)\b|c(?<!\w.)(?:an|ould)\b|d(?<!\w.)(?:oes|id|o)\b"
    r"|h(?<!\w.)(?:ow|as|ave|elp)\b|i(?<!\w.)s\b|l(?<!\w.)ooking\b|m(?<!\w.)(?:ay|ight)\b"
    r"|n(?<!\w.)eed\b|q(?<!\w.)(?:uick|)\b|s(?<!\w.)(?:hould|hall)\b"
    r"|w(?<!\w.)(?:hat|hy|hich|ho|hose|hom|hen|here|as|ere|ould|ill|onder\w*)\b"
)
_ZH_NEGATION = re.compile(r"[不没]")  # the middle of A不A / A没A: 能不能, 有没有, 可不可以
_ZH_NOT_FINAL_ME = frozenset("这那什怎多要")  # 这么 / 什么 … are not the particle 么

# --- English cues (English fronts them, so look at the start of each clause) ------------------
_EN_FILLER = re.compile(
    r"^(?:(?:ok|okay|so|but|and|also|btw|hey|hi|hello|guys|lol|haha|um+|hmm+|sorry|well|oh|wait|"
    r"yo)\b\s*)+"
)
_EN_REQUEST = re.compile(
    r"^(?:(?:does|do|has|did)\s+)?any(?:one|body)\b(?!\s+(?:around|here)\b)"
    r"|^any\b.*\b(?:recommend\w*|suggestions?|tips?|ideas?|advice|thoughts|chance|luck|updates?)\b"
    r"|^quick q(?:uestion)?\b|^q:|^(?:i )?need (?:some )?help\b"
    r"|^help me\b|^looking for (?:a |some )?(?:recommendation|tips|advice|suggestion)"
)
# Requests anywhere in the clause, kept apart because a search for them tries every position;
# they cannot start where the requests above do, so trying those first changes nothing.
_EN_WONDER = re.compile(r"\bi wonder\b|\bwondering\b")
_SUBJECT = (
    r"(?:i|you|we|they|he|she|it|u|y'?all|any(?:one|body)|some(?:one|body)|every(?:one|body)"
    r"|people|folks|ppl)"
)
_DETERMINER = r"(?:the|your|their|his|her|its|any|this|that|these|those|there)"
_MINE = r"(?:my|our)"  # "did my long run" is a statement; "can my kid join" asks
_EN_INTERROGATIVE = re.compile(
    rf"^(?:how|what|why|which|who|whose|whom)\b(?!\s+{_SUBJECT}\b)"
    rf"|^(?:when|where)(?:'s|\s+(?:is|are|am|was|were|do|does|did|can|could|will|would|should|"
    rf"shall|has|have)\b)"
    rf"|^(?:is|are|am|was|were)\s+\w"
    rf"|^(?:does|did|has|have)\s+(?:{_SUBJECT}|{_DETERMINER})\b|^do\s+{_SUBJECT}\b(?<!\bit)"
    rf"|^(?:can|could|would|will|should|shall|does)\s+(?:{_SUBJECT}|{_DETERMINER}|{_MINE})\b"
    rf"|^(?:may|might)\s+(?:i|we)\b"
)


def detect_question(text: str) -> QuestionMatch | None:
    """The question cue in `text`, or None when the message asks nothing that needs an answer.

    Greetings, reactions, rhetorical questions, quoted questions and `?` inside URLs are not
    questions; a question mark, an interrogative (吗, 怎么, 能不能, how…, is there…) or a request
    for help (请问, 求推荐, anyone know…) is.
    """
    own = _own_words(text).lower()
    if not own or not _may_ask(own):
        return None
    zh = _is_chinese(own)
    sentences = _sentences(own)
    for i, (body, end) in enumerate(sentences):
        asks_mark = "?" in end or "？" in end
        match = _sentence_cue(body, zh=zh, asks_mark=asks_mark)
        # Traps are checked only where a cue was found: most sentences have none, so this is fast.
        if match is None or _is_not_asking(body, end, zh=zh, asks_mark=asks_mark):
            continue
        if asks_mark and i + 1 < len(sentences) and _SELF_ANSWER.match(sentences[i + 1][0]):
            continue
        return match
    return None


def _may_ask(own: str) -> bool:
    """Whether any sentence of `own` could hold a cue: every cue _sentence_cue takes needs a
    question mark, a Chinese request, a character of _ZH_MAYBE or a word of _EN_MAYBE, in the
    sentence and so in the whole text (sentences end at non-word characters, so a word that
    starts or ends one starts or ends there in the text too). Four in ten messages have none."""
    return (
        "?" in own
        or "？" in own
        or _ZH_MAYBE.search(own) is not None
        or _EN_MAYBE.search(own) is not None
        or _ZH_REQUEST.search(own) is not None
    )


def _is_not_asking(body: str, end: str, *, zh: bool, asks_mark: bool) -> bool:
    """A sentence with a question cue that still asks nothing: rhetorical, small talk, or an
    exclamation without a question mark."""
    if zh:
        rhetorical = _ZH_RHETORICAL.search(body) is not None
    else:
        hinted = any(h in body for h in _EN_RHETORICAL_HINTS)
        rhetorical = hinted and _EN_RHETORICAL.search(body) is not None
    if rhetorical or _is_small_talk(body):
        return True
    if asks_mark:
        return False
    exclamatory = _ZH_EXCLAMATORY if zh else _EN_EXCLAMATORY
    return "!" in end or "！" in end or exclamatory.search(body) is not None


def _own_words(text: str) -> str:
    """The text with URLs, quoted speech, code, placeholders and @mentions removed; the original
    when nothing else would be left (a message that is one quotation still asks)."""
    own = text
    # `in` tests first: most messages have nothing to remove, and they are far cheaper than sub.
    if "http" in text or "www." in text or "[" in text or "@" in text or "`" in text:
        own = _STRIP.sub(" ", own)
    if '"' in text or "“" in text or "「" in text or "『" in text:
        own = _QUOTED.sub(_QUOTE_STAND_IN, own)
    if own is text:
        return text.strip()
    own = own.strip()
    if not own or not (_CJK.search(own) or _LATIN_WORD.search(own)):
        return text.strip()
    return own


def _is_small_talk(own: str) -> bool:
    """A sentence that is only greetings, presence checks and reactions (在吗, how are you)."""
    if len(own) > _SMALL_TALK_MAX:
        return False
    words = _NOT_WORD.sub(" ", own).strip()
    return bool(words) and _SMALL_TALK.fullmatch(words) is not None


def _is_chinese(own: str) -> bool:
    """Chinese rules when Chinese characters are at least as many as Latin words."""
    if own.isascii():
        return False
    latin = len(_LATIN_WORD.findall(own))
    return latin == 0 or sum(map(len, _CJK_RUN.findall(own))) >= latin


def _sentences(own: str) -> list[tuple[str, str]]:
    """(sentence, terminator) pairs; the terminator holds the marks that ended it, or ''."""
    parts = _SENTENCE_END.split(own)
    pairs = []
    for i in range(0, len(parts), 2):
        body = parts[i].strip()
        end = parts[i + 1] if i + 1 < len(parts) else ""
        if body:
            pairs.append((body, end))
        elif pairs and end:  # "？？" split again: keep the marks on the sentence before
            pairs[-1] = (pairs[-1][0], pairs[-1][1] + end)
    return pairs


def _sentence_cue(body: str, *, zh: bool, asks_mark: bool) -> QuestionMatch | None:
    """The strongest cue in one sentence: a request, then a question mark, then a question word."""
    if zh:
        asked = _ZH_REQUEST.search(body)
        if asked:
            return _match("request", asked.group(0))
        if asks_mark:
            return _match("mark", "？")
        word = _zh_interrogative(body) if _ZH_MAYBE.search(body) else None
        return _match("interrogative", word) if word else None
    if not asks_mark and not _EN_MAYBE.search(body):
        return None
    clauses = [_EN_FILLER.sub("", c.strip()) for c in _CLAUSE_SEP.split(body)]
    request = _en_request(clauses)
    if request:
        return _match("request", request)
    if asks_mark:
        return _match("mark", "?")
    word = _first_cue(clauses, _EN_INTERROGATIVE)
    return _match("interrogative", word) if word else None


def _zh_interrogative(body: str) -> str | None:
    plain = _ZH_TRAILING.sub("", _ZH_NEUTRAL.sub("，", body))
    found = _ZH_INTERROGATIVE.search(plain) or _ZH_WHAT_ABOUT.search(body)
    if found:
        return found.group(0)
    for neg in _ZH_NEGATION.finditer(plain):
        i = neg.start()
        # 有没有都行 ("either way") is not asking
        if (
            0 < i < len(plain) - 1
            and plain[i - 1] == plain[i + 1]
            and _CJK.match(plain[i - 1])
            and plain[i + 2 : i + 3] != "都"
        ):
            return plain[i - 1 : i + 2]
    if len(plain) > 1 and plain[-1] == "么" and plain[-2] not in _ZH_NOT_FINAL_ME:
        return "么"
    return None


def _en_request(clauses: list[str]) -> str | None:
    """The first request for help (anyone know, I wonder …) in the clauses."""
    for clause in clauses:
        found = _EN_REQUEST.match(clause) or ("wonder" in clause and _EN_WONDER.search(clause))
        if found:
            return found.group(0).strip()
    return None


def _first_cue(clauses: list[str], pattern: re.Pattern[str]) -> str | None:
    """English fronts its question words: the patterns look at the start of each clause."""
    for clause in clauses:
        found = pattern.search(clause)
        if found:
            return found.group(0).strip()
    return None


def _match(kind: QuestionKind, cue: str) -> QuestionMatch:
    if kind == "mark":
        return QuestionMatch(kind, cue, "带问号", "ends with a question mark")
    if kind == "request":
        return QuestionMatch(kind, cue, f"含求助语“{cue}”", f"asks the group (“{cue}”)")
    return QuestionMatch(kind, cue, f"含疑问词“{cue}”", f"asks with “{cue}”")
