"""Every text rule on one message at once: what `shequn classify` prints, one JSON object a line.

Operators check and tune the rules on their own text with it (issue 4 §7). Input is plain text
(one message a line) or JSON lines with `text` and optionally `group` (a group in the store, whose
theme and keywords are used), `theme` and `keywords` (given inline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

from shequn.errors import InputError
from shequn.text.feedback import classify_feedback
from shequn.text.offtopic import detect_offtopic
from shequn.text.questions import detect_question
from shequn.text.rituals import checkin_day, detect_self_intro
from shequn.text.theme import ThemeModel


@dataclass
class ThemeSource:
    """A group's theme for the theme-fit score: description and keywords."""

    description: str = ""
    keywords: tuple[str, ...] = ()
    _model: ThemeModel | None = field(default=None, repr=False)

    def model(self) -> ThemeModel:
        if self._model is None:
            self._model = ThemeModel(description=self.description, keywords=self.keywords)
        return self._model


def classify_message(text: str, theme: ThemeSource | None = None) -> dict[str, Any]:
    """Labels, scores and reasons of one message; a rule that does not fire gives null."""
    intro = detect_self_intro(text)
    keywords = theme.keywords if theme else None
    out: dict[str, Any] = {
        "text": text,
        "question": _plain(detect_question(text)),
        "feedback": _plain(classify_feedback(text)),
        "offtopic": _plain(detect_offtopic(text, keywords or None)),
        "self_intro": {**_plain(intro), "fields": intro.fields} if intro else None,
        "checkin": _plain(checkin_day(text)),
    }
    if theme is not None and (theme.description or theme.keywords):
        out["theme"] = _plain(theme.model().score(text))
    return out


def _plain(match: Any) -> Any:
    return asdict(match) if match is not None else None


def read_messages(
    lines: Iterable[str], *, source: str, theme_of: Callable[[str], ThemeSource | None]
) -> Iterator[tuple[str, ThemeSource | None]]:
    """(text, theme) per input line; a line starting with `{` is JSON, any other is the text.

    A JSON line without a string `text` is an InputError naming the line and field.
    """
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        if not line.lstrip().startswith("{"):
            yield line, None
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InputError(f"not JSON: {exc}", file=source, line=number) from None
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError("expected a string", file=source, line=number, field="text")
        yield text, _theme_for(obj, theme_of)


def _theme_for(obj: dict[str, Any], theme_of: Callable[[str], ThemeSource | None]) -> Any:
    keywords = obj.get("keywords") or ()
    if isinstance(keywords, str):
        keywords = tuple(k for k in keywords.replace("，", ",").split(",") if k.strip())
    if obj.get("theme") or keywords:
        return ThemeSource(str(obj.get("theme") or ""), tuple(str(k) for k in keywords))
    group = obj.get("group")
    return theme_of(str(group)) if group else None
