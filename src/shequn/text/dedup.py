"""Group near-duplicate messages so that fifty "闪退了" become one item with fifty voices.

Each text is normalised (NFKC width folding, lower case, URLs/@mentions/emoji/punctuation dropped,
"！！！" and "了了了" squeezed), then turned into a set of tokens:
- phrases of ``CONCEPTS`` become one concept token, so "闪退", "crashed" and "崩溃" are the same
  thing and "又闪退了！！" equals "app crashed again";
- Chinese runs give character bigrams (a single character stays a unigram) after filler
  characters (了, 又, 啊 …) are dropped; Latin text gives words without ``FILLER_EN``, lightly
  stemmed; digits are tokens of their own.
Two texts are near-duplicates when the Jaccard similarity of their token sets reaches
``threshold``.

Speed: identical token sets are merged first (chat repeats itself); the distinct sets are then
clustered greedily, most-voiced first, each joining the most similar existing group leader (exact
Jaccard). Candidate leaders come from MinHash LSH buckets (signatures computed with numpy in one
pass), so the work is near-linear instead of all pairs; the hash seed is fixed, so the grouping is
deterministic. Single-linkage chains ("A≈B≈C" with A far from C) cannot form: a text joins a
leader only when it is itself similar to that leader.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

import numpy as np

__all__ = [
    "CONCEPTS",
    "FILLER_EN",
    "FILLER_ZH",
    "MAX_CANDIDATES",
    "DuplicateGroup",
    "group_near_duplicates",
    "tokens",
]

K = TypeVar("K", bound=Hashable)

# Per LSH bucket at most this many group leaders are compared, the most-voiced first: real chat
# rarely gets near it, and a flood of look-alike texts stays near-linear instead of quadratic.
MAX_CANDIDATES = 4
# MinHash LSH: 20 bands of 3 rows find a pair at Jaccard 0.6 with probability 0.99 (0.9995 at
# 0.7); the seed is fixed, so grouping is deterministic.
_BANDS, _ROWS, _CHUNK = 20, 3, 8192
_RNG = np.random.default_rng(4)
_A = _RNG.integers(1, 2**63, size=_BANDS * _ROWS, dtype=np.uint64) | np.uint64(1)
_B = _RNG.integers(0, 2**63, size=_BANDS * _ROWS, dtype=np.uint64)
_MIX = _RNG.integers(1, 2**63, size=_ROWS, dtype=np.uint64) | np.uint64(1)
_BAND_SALT = _RNG.integers(0, 2**63, size=_BANDS, dtype=np.uint64)

# Phrases that mean the same problem or wish, in either language. Extend here.
CONCEPTS: dict[str, str] = {
    "crash": r"闪退|崩溃|崩了|crash(?:es|ed|ing)?",
    "freeze": r"卡顿|卡死|卡住|很卡|好卡|太卡|卡了|freez(?:es|ing|e)|froze|lag(?:gy|s|ging)?",
    "error": r"报错|出错|errors?",
    "cannot_open": r"打不开|进不去|won't open|can't open|doesn't open|does not open",
    "cannot_login": r"登(?:录|陆)不(?:了|上)|无法登(?:录|陆)|can't (?:log ?in|sign in)|"
    r"login fails?",
    "blank_screen": r"白屏|黑屏|(?:white|blank|black) screen",
    "slow": r"太慢|好慢|很慢|(?:so|too|very|really) slow|slow",
    "refund": r"退款|退钱|refund(?:s|ed)?",
    "dark_mode": r"夜间模式|暗黑模式|深色模式|暗色模式|dark (?:mode|theme)",
    "export": r"导出|export(?:s|ed|ing)?",
    "login": r"登录|登陆|log ?in|sign ?in",
    "update": r"更新|升级|updat(?:e|es|ed|ing)|upgrad(?:e|ed|ing)",
    # names starting with "_" are dropped: naming the product or how politely one asks adds
    # nothing to what is asked ("能不能加个夜间模式" = "please add dark mode")
    "_product": r"apps?|应用|软件|程序",
    "_ask": r"能不能|可不可以|可以|希望|建议|麻烦|请|求|加个|增加|添加|"
    r"please(?: add)?|(?:can|could) you(?: please)?(?: add)?|would love|i wish|add",
}
FILLER_ZH = frozenset("了又啊吧呢呀哦嘛啦哈呗哇嗯的也都就很太真还")
_FILLER_EN_WORDS = """
    a an the again is it its it's my i me so very really just still keeps keep kept
    and or to of on in at this that was were be been am are pls please lol omg
"""
FILLER_EN = frozenset(_FILLER_EN_WORDS.split())

_CONCEPT_NAMES = list(CONCEPTS)


def _first_chars(patterns: Iterable[str]) -> str:
    """Every character an alternative of the patterns can start with (a superset is fine)."""
    firsts = {frag.removeprefix("(?:")[:1] for p in patterns for frag in p.split("|")}
    return "".join(sorted({c for f in firsts for c in (f.lower(), f.upper()) if f}))


# A concept can only start at one of these characters: the scan skips every other position fast.
_CONCEPT_RE = re.compile(
    f"(?=[{re.escape(_first_chars(CONCEPTS.values()))}])(?<![a-z])(?:"
    + "|".join(f"(?P<k{i}>(?:{p})(?![a-z]))" for i, p in enumerate(CONCEPTS.values()))
    + ")",
    re.IGNORECASE,
)
_NOISE = re.compile(r"(?:https?://|www\.)\S+|@\S+|\[[^\]]{1,8}\]", re.IGNORECASE)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECE = re.compile(rf"\x00(\d+)\x00|([{_CJK}]+)|([a-z]+(?:'[a-z]+)?)|(\d+)")
_REPEAT = re.compile(r"(.)\1{2,}")


@dataclass(slots=True)
class DuplicateGroup(Generic[K]):
    """One item of the inbox: a representative text and the keys (messages) behind it."""

    representative: str
    keys: list[K] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many messages said this (the voices)."""
        return len(self.keys)


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A light English stem, enough for "exports"/"exported"/"exporting" to meet."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> frozenset[str]:
    """The token set a text is compared by (see the module docstring)."""
    folded = _NOISE.sub(" ", unicodedata.normalize("NFKC", text).lower())
    folded = _REPEAT.sub(r"\1", folded)
    folded = _CONCEPT_RE.sub(lambda m: f"\x00{(m.lastgroup or 'k0')[1:]}\x00", folded)
    out: set[str] = set()
    for concept, cjk, word, number in _PIECE.findall(folded):
        if concept:
            name = _CONCEPT_NAMES[int(concept)]
            if not name.startswith("_"):
                out.add("#" + name)
        elif cjk:
            run = "".join(c for c in cjk if c not in FILLER_ZH)
            out.update(run if len(run) < 2 else (run[i : i + 2] for i in range(len(run) - 1)))
        elif word and word not in FILLER_EN:
            out.add(_stem(word))
        elif number:
            out.add(number)
    return frozenset(out)


def _signatures(sets: list[frozenset[str]]) -> list[list[int]]:
    """Per set, one LSH bucket key per band, from a MinHash signature computed with numpy."""
    crc: dict[str, int] = {}
    keys: list[list[int]] = []
    for start in range(0, len(sets), _CHUNK):  # chunks bound the (tokens x hashes) matrix
        chunk = sets[start : start + _CHUNK]
        flat = np.fromiter(
            (crc.get(t) or crc.setdefault(t, zlib.crc32(t.encode())) for s in chunk for t in s),
            dtype=np.uint64,
        )
        offsets = np.cumsum([0] + [len(s) for s in chunk[:-1]])
        hashed = (flat[:, None] * _A + _B) >> np.uint64(32)  # uint64 arithmetic wraps on purpose
        sig = np.minimum.reduceat(hashed, offsets, axis=0).reshape(len(chunk), _BANDS, _ROWS)
        band_keys = (sig * _MIX).sum(axis=2, dtype=np.uint64) + _BAND_SALT
        keys.extend(band_keys.tolist())
    return keys


def _cluster(sets: list[frozenset[str]], threshold: float) -> list[int]:
    """Leader of each set (an index into ``sets``, which is ordered most-voiced first)."""
    sizes = [len(s) for s in sets]
    leaders: list[int] = []
    buckets: dict[int, list[int]] = {}  # band key -> leaders in that bucket, most-voiced first
    for i, band_keys in enumerate(_signatures(sets)):
        toks, size = sets[i], sizes[i]
        low, high = threshold * size, size / threshold
        best, best_sim = i, threshold
        seen: set[int] = set()
        for key in band_keys:
            for j in buckets.get(key, ())[:MAX_CANDIDATES]:
                if j in seen or not low <= sizes[j] <= high:
                    continue
                seen.add(j)
                inter = len(toks & sets[j])
                sim = inter / (size + sizes[j] - inter)
                if sim > best_sim or (sim == best_sim and (best == i or j < best)):
                    best, best_sim = j, sim
        leaders.append(best)
        if best == i:
            for key in band_keys:
                buckets.setdefault(key, []).append(i)
    return leaders


def group_near_duplicates(
    items: Iterable[tuple[K, str]], *, threshold: float = 0.6
) -> list[DuplicateGroup[K]]:
    """Group (key, text) items whose texts are near-duplicates; every item lands in one group.

    Groups come most-voiced first (ties: first seen first); the representative is the group's
    most frequent original text. Texts with no tokens at all (only emoji or punctuation) are
    grouped by their exact stripped text.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    by_set: dict[frozenset[str] | str, list[tuple[int, K, str]]] = {}
    cache: dict[str, frozenset[str]] = {}  # chat repeats itself: tokenise each text once
    for n, (key, text) in enumerate(items):
        toks = cache.get(text)
        if toks is None:
            toks = cache[text] = tokens(text)
        by_set.setdefault(toks or text.strip(), []).append((n, key, text.strip()))
    groups_of_sets = sorted(by_set.items(), key=lambda kv: (-len(kv[1]), kv[1][0][0]))
    real = [(s, members) for s, members in groups_of_sets if isinstance(s, frozenset)]
    leaders = _cluster([s for s, _ in real], threshold)
    merged: dict[int, list[tuple[int, K, str]]] = {}
    for (_, members), leader in zip(real, leaders, strict=True):
        merged.setdefault(leader, []).extend(members)
    clusters = list(merged.values()) + [m for s, m in groups_of_sets if isinstance(s, str)]
    return [_group(sorted(c)) for c in sorted(clusters, key=lambda c: (-len(c), min(c)[0]))]


def _group(members: list[tuple[int, K, str]]) -> DuplicateGroup[K]:
    """A group from its (position, key, text) members, in input order."""
    texts = Counter(text for _, _, text in members)
    first_seen = {text: n for n, _, text in reversed(members)}
    representative = min(texts, key=lambda t: (-texts[t], first_seen[t]))
    return DuplicateGroup(representative, [key for _, key, _ in members])
