"""Segment one chat message into the terms every text analysis shares.

Chinese runs are cut with jieba's bundled dictionary (no network, no download); Latin text is split
into lower-cased words. URLs, e-mail addresses, @mentions, emoji, punctuation, numbers, single
Chinese characters and stop words are dropped, so what is left are the content words that theme
scores and TF-IDF look at.

Speed: jieba's own ``cut`` spends most of its time in generic plumbing (regex block splitting,
generators, a log() per candidate). ``cut_chinese`` walks the same prefix dictionary with the same
maximum-probability route as ``jieba.Tokenizer.cut(..., HMM=False)`` — the result is identical, a
test checks it — at two to three times the speed, and the terms of each token (a Chinese run such
as "哈哈" or "收到", a Latin word) are cached because chat repeats itself a lot. Without HMM,
words missing from the dictionary (new slang, most personal names) come out as single characters,
which are dropped as terms.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from itertools import chain
from math import log

import jieba

__all__ = ["STOP_WORDS_EN", "STOP_WORDS_ZH", "cut_chinese", "fold", "is_cjk", "terms", "word_set"]

logger = logging.getLogger(__name__)


def word_set(words: str) -> frozenset[str]:
    """A word list written as whitespace-separated text, so the tables read like prose."""
    return frozenset(words.split())


# Stop words as data: function words plus chat filler that says nothing about a topic. Extend here.
STOP_WORDS_ZH: frozenset[str] = word_set(
    """
    的 了 是 在 我 你 他 她 它 们 我们 你们 他们 她们 大家 各位 这个 那个 这些 那些 这样 那样
    这里 那里 什么 怎么 怎么样 为什么 如何 哪里 哪个 还是 或者 而且 但是 不过 因为 所以 如果
    就是 还有 可以 可能 应该 已经 一下 一个 一些 一起 一直 没有 不是 不要 知道 觉得 感觉 现在
    今天 明天 昨天 时候 真的 其实 然后 自己 有点 有些 比较 非常 特别 还是 只是 只有 这么 那么
    哈哈 哈哈哈 呵呵 嘿嘿 嗯嗯 好的 好吧 收到 谢谢 谢谢您 感谢 多谢 辛苦 辛苦了 早上好 晚安 晚上好
    你好 您好 大家好 哈喽 不错 厉害 牛逼 赞 棒 加油 对的 是的 嗯 哦 啊 呀 吧 吗 呢 啦 哇 嘛
    问题 怎么办 请问 东西 事情 一样 今年 去年 刚才 刚刚 马上 之前 以后 之后 的话 这种 那种
    别人 有人 没人
    """
)
STOP_WORDS_EN: frozenset[str] = word_set(
    """
    a an the and or but if then so than too very of to in on at by for with from into about as
    is am are was were be been being do does did doing have has had having will would can could
    should shall may might must i me my mine we us our you your he him his she her it its they
    them their this that these those there here what which who whom whose when where why how
    all any both each few more most other some such no nor not only own same just also again
    get got go going gone come came make made say said see know think want like really well
    i'm i've i'd i'll you're you've we're we've they're it's that's there's don't doesn't didn't
    can't won't isn't aren't wasn't let's ok okay yes yeah yep no nope hi hello hey thanks thank
    thx ty lol haha hahaha lmao omg pls please btw fyi imo idk np sure cool nice great good bye
    anyone someone everyone everybody anybody something anything everything one ones still
    now today yesterday tomorrow new via per up down out over under off just much many lot lots
    """
)
_STOP_WORDS = STOP_WORDS_ZH | STOP_WORDS_EN

# What is removed before tokenising: things that are not words of the conversation.
_NOISE = re.compile(
    r"""
    (?:https?://|www\.)\S+                                   # URLs
    | <[@#!][^>]*>                                           # Slack <@U123>, <#C1|general>
    | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                           # e-mail addresses
    | @[^\s@,，:：;；。!！?？()（）]+     # @mentions (WeChat ends them with U+2005)
    | \b[\w-]+(?:\.[\w-]+)*\.(?:com|cn|net|org|io|ai|me|dev|app|co|cc|top|xyz|info)\b(?:/\S*)?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_MENTION = re.compile(r"@[^\s@,，:：;；。!！?？()（）]+")  # _NOISE's @mention branch
_MAYBE_NOISE = re.compile(
    r"[@<]|://|www\.|\.(?:com|cn|net|org|io|ai|me|dev|app|co|cc|top|xyz|info)\b", re.I
)
# A token is a run of Chinese characters or a Latin word (letters, digits, inner ' or -).
_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Written [CJK]+|[a-z0-9]+(?:['\-][a-z0-9]+)* with the class of both first characters in front,
# so that `re` skips in C to where a token starts.
_TOKEN = re.compile(
    rf"[{_CJK_CLASS}a-z0-9](?:(?<=[{_CJK_CLASS}])[{_CJK_CLASS}]*"
    rf"|(?<![{_CJK_CLASS}])[a-z0-9]*(?:['\-][a-z0-9]+)*)"
)
_CJK_RUN = re.compile(rf"[{_CJK_CLASS}]+")
# Numbers, and numbers with a short unit (10km, 3pm, 2nd, 5g), say nothing about a topic.
_NUMERIC = re.compile(r"\d+[a-z]{0,3}")
# Full-width letters and digits (ＡＢＣ１２３) fold to ASCII, curly apostrophes (I’m) to straight;
# full-width punctuation (，！？) stays: the patterns list both forms.
_WIDE_ALNUM = (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))
_FOLD = {cp: cp - 0xFEE0 for cp in _WIDE_ALNUM} | {0x2019: 0x27, 0x2018: 0x27}
_FOLDABLE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u2018\u2019]")


def fold(text: str) -> str:
    """Full-width letters and digits to ASCII and curly apostrophes to straight ones; the text
    itself when there is nothing to fold (the common case, checked first because it is cheap)."""
    if text.isascii() or not _FOLDABLE.search(text):
        return text
    return text.translate(_FOLD)


def is_cjk(char: str) -> bool:
    """True when the one-character string is a Chinese (CJK unified) character."""
    return bool(_CJK_RUN.match(char))


@lru_cache(maxsize=1)
def _dictionary() -> tuple[dict[str, int], dict[str, float], float]:
    """jieba's bundled prefix dictionary, loaded once, quietly (jieba logs to stderr otherwise):
    every word and word prefix, the log-probability of each real word, and the floor ln(1/total).
    """
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    logger.debug("jieba dictionary loaded: %d entries", len(tokenizer.FREQ))
    log_total = log(tokenizer.total)
    log_prob = {word: log(n) - log_total for word, n in tokenizer.FREQ.items() if n}
    return tokenizer.FREQ, log_prob, -log_total


def cut_chinese(run: str) -> list[str]:
    """Cut a run of Chinese characters exactly as ``jieba.Tokenizer().lcut(run, HMM=False)``:
    the most probable path through the dictionary's words (jieba's get_DAG and calc)."""
    prefixes, log_prob, floor = _dictionary()
    n = len(run)
    # best[i], first_end[i]: best log-probability of run[i:] and where its first word ends
    best = [0.0] * (n + 1)
    first_end = [0] * (n + 1)
    for start in range(n - 1, -1, -1):
        # no dictionary word starts here: the lone character at the floor probability
        best_value, best_end = best[start + 1] + floor, start
        found = False
        end = start
        fragment = run[start]
        while end < n and fragment in prefixes:
            p = log_prob.get(fragment)
            if p is not None:
                value = p + best[end + 1]
                if not found or value >= best_value:  # jieba's max() keeps the longer on ties
                    best_value, best_end, found = value, end, True
            end += 1
            fragment = run[start : end + 1]
        best[start], first_end[start] = best_value, best_end
    words = []
    i = 0
    while i < n:
        j = first_end[i] + 1
        words.append(run[i:j])
        i = j
    return words


@lru_cache(maxsize=1 << 17)
def _token_terms(token: str) -> tuple[str, ...]:
    """The content words of one token, a Chinese run or a Latin word; cached because chat
    repeats itself ("哈哈", "收到", "thanks") and a Chinese run costs a walk of the dictionary."""
    if token[0] >= "\u3400":
        return tuple(w for w in cut_chinese(token) if len(w) > 1 and w not in _STOP_WORDS)
    if len(token) < 2 or token in _STOP_WORDS:
        return ()
    return () if token[0].isdigit() and _NUMERIC.fullmatch(token) else (token,)


def terms(text: str, *, folded: str | None = None) -> list[str]:
    """The content terms of one message, in order, for theme scores and keyword suggestions.

    >>> terms("周末一起去西湖跑步吧 https://t.cn/x @张三 🏃")
    ['周末', '西湖', '跑步']
    >>> terms("Anyone running the Lisbon marathon? 42km!")
    ['running', 'lisbon', 'marathon']

    ``folded`` is ``fold(text)`` when the caller has it.
    """
    cleaned = fold(text) if folded is None else folded
    if "@" in cleaned and not ("." in cleaned or ":" in cleaned or "<" in cleaned):
        # Only @mentions can be here (links and e-mail addresses need a dot or a colon, Slack's
        # <@U1> a "<"), and the full noise pattern is slow: it tries five branches everywhere.
        cleaned = _MENTION.sub(" ", cleaned)
    elif (
        "." in cleaned or ":" in cleaned or "@" in cleaned or "<" in cleaned
    ) and _MAYBE_NOISE.search(cleaned):
        # every piece of noise has one of these marks; most Chinese messages have none (four
        # `in` tests: any() over a generator costs more than they do)
        cleaned = _NOISE.sub(" ", cleaned)
    return list(chain.from_iterable(map(_token_terms, _TOKEN.findall(cleaned.lower()))))
