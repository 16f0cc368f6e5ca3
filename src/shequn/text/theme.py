"""Theme fit (群特质): suggest a group's keywords, and score each message against the group's theme.

``suggest_keywords`` finds each group's distinctive terms by TF-IDF against the other groups;
``ThemeModel`` turns an operator's theme description and keywords (plus, optionally, the suggested
terms) into a per-message on-theme score with a reason the operator can read. The formulas are in
docs/text-theme-kol.md.

TF-IDF is implemented here (about 30 lines) rather than with scikit-learn's ``TfidfVectorizer``:
scikit-learn would add numpy+scipy+scikit-learn (~100 MB) for one formula, and its IDF over a
handful of groups is too weak on its own (with two groups a term found only in one gets IDF 1.41
against 1.0), so the score adds a contrast factor that plain TF-IDF does not have.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from math import log
from typing import Any, Literal, TypeVar

from shequn.errors import InputError
from shequn.text.segment import fold
from shequn.text.segment import terms as segment_terms

__all__ = ["ThemeModel", "ThemeScore", "stem", "suggest_keywords"]

G = TypeVar("G", bound=Hashable)

# Weight of one matched theme term by where it came from (see _evidence_to_score).
KEYWORD_WEIGHT = 1.0  # the operator said so
DESCRIPTION_WEIGHT = 0.6  # a content word of the operator's theme description
SUGGESTED_WEIGHT = 0.6  # times the suggestion's score (0..1, the group's top term is 1)
# score = E / (E + HALF_EVIDENCE): one keyword gives 0.67, one description word 0.55
HALF_EVIDENCE = 0.5
ON_THEME_AT = 0.5
# Fewer distinct content terms than this and no theme term: too short to tell ("ok", "哈哈", 👍)
MIN_TERMS = 2

Label = Literal["on_theme", "off_theme", "too_short"]

_SUFFIXES = ("ies", "ing", "ers", "er", "ed", "es", "s")
_UNSEEN: Any = object()  # a term not in the memo yet
# Per-model memo of term -> theme hit; cleared when it grows past this (chat vocabulary is open)
_MEMO_LIMIT = 200_000


def stem(word: str) -> str:
    """A light English stemmer so "run", "runs", "running" and "runner" meet; Chinese unchanged.

    Applied to theme terms and message terms alike, so only agreement matters, not linguistics.
    """
    if len(word) <= 3 or not word.isascii():
        return word
    for suffix in _SUFFIXES:
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and not (suffix == "s" and base[-1] == "s"):
            word = base + "y" if suffix == "ies" else base
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # runn -> run, swimm -> swim
    return word[:-1] if len(word) > 3 and word.endswith("e") else word  # race/racing -> rac


def suggest_keywords(
    docs_by_group: Mapping[G, Iterable[str]], *, top: int = 20, min_count: int = 2
) -> dict[G, list[tuple[str, float]]]:
    """Each group's most distinctive terms, by TF-IDF against the other groups, best first.

    A term's frequency mf counts messages (a term repeated in one message counts once; word
    forms that stem alike count as one term, shown in their most frequent form) and needs
    ``min_count`` messages. score = (1 + ln mf) × idf × share, where idf = ln((1+N)/(1+df)) + 1
    over the N groups and share is this group's part of the term's per-message rates across
    groups; scores are scaled so each group's best term is 1.0. Ties go alphabetically.
    """
    forms: Counter[tuple[str, str]] = Counter()
    counts = {group: _count_terms(docs, forms) for group, docs in docs_by_group.items()}
    shown: dict[str, str] = {}  # each stemmed term's most frequent form, ties alphabetical
    for (key, form), _n in sorted(forms.items(), key=lambda item: (-item[1], item[0])):
        shown.setdefault(key, form)
    rates = {
        group: {key: n / max(messages, 1) for key, n in counter.items()}
        for group, (counter, messages) in counts.items()
    }
    total_rate: Counter[str] = Counter()
    df: Counter[str] = Counter()
    for group_rates in rates.values():
        total_rate.update(group_rates)
        df.update(group_rates.keys())
    suggestions = {}
    for group, (counter, _messages) in counts.items():
        scores = {
            shown[key]: (1 + log(n))
            * _idf(len(counts), df[key])
            * rates[group][key]
            / total_rate[key]
            for key, n in counter.items()
            if n >= min_count
        }
        suggestions[group] = _top_terms(scores, top)
    return suggestions


def _count_terms(docs: Iterable[str], forms: Counter[tuple[str, str]]) -> tuple[Counter[str], int]:
    """Messages per stemmed term in one group's messages, and the number of messages; ``forms``
    collects how often each surface form was seen."""
    counter: Counter[str] = Counter()
    messages = 0
    for text in docs:
        seen = {stem(term): term for term in segment_terms(text)}
        counter.update(seen.keys())
        forms.update(seen.items())
        messages += 1
    return counter, messages


def _idf(groups: int, df: int) -> float:
    """Smoothed inverse document frequency over groups, as scikit-learn's ``smooth_idf``."""
    return log((1 + groups) / (1 + df)) + 1


def _top_terms(scores: dict[str, float], top: int) -> list[tuple[str, float]]:
    """The ``top`` terms by score (scaled so the best is 1.0), ties alphabetical."""
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:top]
    best = ranked[0][1] if ranked else 1.0
    return [(term, round(score / best, 4)) for term, score in ranked]


@dataclass(frozen=True, slots=True)
class ThemeScore:
    """How well one message fits the group's theme, and why."""

    label: Label
    score: float  # 0..1; 0.5 (neutral) for too_short, which theme-fit shares should leave out
    matched: tuple[str, ...]
    reason_zh: str
    reason_en: str


class ThemeModel:
    """A group's theme: its description, the operator's keywords and optional suggested terms.

    >>> model = ThemeModel(description="跑步爱好者交流训练和比赛", keywords=["跑步", "marathon"])
    >>> model.score("周末西湖跑步，配速六分").label
    'on_theme'
    """

    def __init__(
        self,
        *,
        description: str = "",
        keywords: Iterable[str] = (),
        suggested: Iterable[tuple[str, float]] = (),
    ) -> None:
        # stem -> (display term, weight); the heavier source wins when a term comes twice
        self._weights: dict[str, tuple[str, float]] = {}
        for term, weight in suggested:
            self._add(stem(term.lower()), term, SUGGESTED_WEIGHT * max(0.0, min(1.0, weight)))
        for term in segment_terms(description):
            self._add(stem(term), term, DESCRIPTION_WEIGHT)
        phrases = []
        for keyword in keywords:
            folded = fold(keyword).strip().lower()
            if folded:
                phrases.append(folded)
                self._add(stem(folded), keyword.strip(), KEYWORD_WEIGHT)
        if not self._weights:
            raise InputError(
                "a theme needs a description, keywords or suggested terms", field="theme"
            )
        self._phrases = _phrase_pattern(phrases)
        self._memo: dict[str, tuple[str, float] | None] = {}

    def _add(self, key: str, display: str, weight: float) -> None:
        if weight > self._weights.get(key, ("", 0.0))[1]:
            self._weights[key] = (display, weight)

    def _hit(self, term: str) -> tuple[str, float] | None:
        """The theme term a message term stands for, memoised: stemming is the costly part."""
        try:
            return self._memo[term]
        except KeyError:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            hit = self._memo[term] = self._weights.get(stem(term))
            return hit

    @property
    def theme_terms(self) -> dict[str, float]:
        """Every theme term with its weight, heaviest first (for display and tuning)."""
        ranked = sorted(self._weights.values(), key=lambda item: (-item[1], item[0]))
        return dict(ranked)

    def score(
        self, text: str, *, terms: list[str] | None = None, folded: str | None = None
    ) -> ThemeScore:
        """Score one message; pass ``terms`` when the message was already segmented and
        ``folded`` (``segment.fold(text)``) when it was already folded."""
        folded = fold(text) if folded is None else folded
        message_terms = segment_terms(text, folded=folded) if terms is None else terms
        matched: dict[str, float] = {}
        if self._phrases is not None:
            for phrase in self._phrases.findall(folded):
                # .get: re's simple case folding can match what str.lower() maps elsewhere (İ)
                keyword = self._weights.get(stem(phrase.lower()))
                if keyword is not None:
                    matched[keyword[0]] = keyword[1]
        seen = self._memo.get  # the memo inline: a method call per term cost a third of a score
        for term in message_terms:
            hit = seen(term, _UNSEEN)
            if hit is _UNSEEN:
                hit = self._hit(term)
            if hit is not None:
                matched[hit[0]] = hit[1]
        if matched:
            return _verdict(matched)
        return _TOO_SHORT if len(set(message_terms)) < MIN_TERMS else _OFF_THEME


# Shared results (ThemeScore is immutable): most messages match nothing.
_TOO_SHORT = ThemeScore("too_short", 0.5, (), "太短，无法判断", "too short to tell")
_OFF_THEME = ThemeScore("off_theme", 0.0, (), "没有提到本群主题", "nothing about the group's theme")


def _phrase_pattern(phrases: list[str]) -> re.Pattern[str] | None:
    """One alternation for all keywords; Latin ones as whole words ("run" is not in "brunch")."""
    if not phrases:
        return None
    parts = []
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        escaped = re.escape(phrase)
        ascii_word = phrase.isascii()
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if ascii_word else escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def _verdict(matched: dict[str, float]) -> ThemeScore:
    """score = E / (E + HALF_EVIDENCE) over the summed weights E of the distinct matched terms
    (at least one)."""
    evidence = sum(matched.values())
    score = round(evidence / (evidence + HALF_EVIDENCE), 3)
    names = tuple(sorted(matched, key=lambda name: (-matched[name], name)))
    shown_zh, shown_en = "、".join(names[:5]), ", ".join(names[:5])
    if score >= ON_THEME_AT:
        return ThemeScore(
            "on_theme", score, names, f"含主题词：{shown_zh}", f"theme terms: {shown_en}"
        )
    if names:
        return ThemeScore(
            "off_theme",
            score,
            names,
            f"只含弱相关词：{shown_zh}",
            f"only weak theme terms: {shown_en}",
        )
    return ThemeScore("off_theme", 0.0, (), "没有提到本群主题", "nothing about the group's theme")
