"""A group's settings the operator sets: kind, theme, keywords, rules, zone, answer window.

One validation and one write for the CLI (`shequn group set`) and the API
(`PUT /api/v1/groups/{id}/settings`): everything is checked before anything is written, the
write is one transaction, and a changed theme or keyword list re-scores the group's labelled
messages (text/rescore.py). docs/groups.md says what each setting affects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import Connection, Engine, func, select

from shequn.errors import InputError, NotFound
from shequn.store import schema as t
from shequn.text.answers import DEFAULT_WINDOW_MINUTES

KINDS = ("interest", "brand", "knowledge", "product", "learning")
MAX_WINDOW_MINUTES = 7 * 24 * 60
MAX_KEYWORDS = 100
MAX_KEYWORD_CHARS = 40
MAX_TEXT_CHARS = 4000  # theme and rules
SUGGEST_MESSAGES = 20_000  # latest messages read per group for keyword suggestions

_KEYWORD_SPLIT = re.compile(r"[,，、;；\n]")
_THEME_COLUMNS = ("theme", "keywords")


@dataclass(frozen=True)
class GroupSettings:
    """What `shequn group show` and the settings API show for one group."""

    id: int
    platform: str
    name: str
    kind: str | None
    theme: str | None
    keywords: list[str]
    rules: str | None
    timezone: str | None
    answer_window: int | None  # None: DEFAULT_WINDOW_MINUTES applies
    effective_answer_window: int
    messages: int
    labelled: int


@dataclass(frozen=True)
class SettingsResult:
    """What one write changed: the columns written and how many messages were re-scored."""

    settings: GroupSettings
    changed: list[str]
    rescored: bool
    rescored_messages: int


def parse_keywords(raw: str | Iterable[str]) -> list[str]:
    """Keywords from "a,b,c" (also ，、; and new lines) or a list: trimmed, blanks dropped,
    repeats (case-insensitive) dropped, order kept; InputError when none is left."""
    parts = _KEYWORD_SPLIT.split(raw) if isinstance(raw, str) else [str(k) for k in raw]
    out: list[str] = []
    seen: set[str] = set()
    for part in (p.strip() for p in parts):
        if part and part.casefold() not in seen:
            seen.add(part.casefold())
            out.append(part)
    if not out:
        raise InputError("give at least one keyword / 至少一个关键词", field="keywords")
    if len(out) > MAX_KEYWORDS:
        raise InputError(f"at most {MAX_KEYWORDS} keywords / 关键词过多", field="keywords")
    long = [k for k in out if len(k) > MAX_KEYWORD_CHARS]
    if long:
        raise InputError(
            f"a keyword has at most {MAX_KEYWORD_CHARS} characters: {long[0][:20]!r}…",
            field="keywords",
        )
    return out


def validate_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Check the settings given (keys: kind, theme, keywords, rules, timezone, answer_window;
    None clears one, and so do "" and [] for the texts and the keywords) and return the column
    values to write. Raises InputError naming the first bad field; nothing is written here."""
    unknown = sorted(set(values) - set(_CHECKS))
    if unknown:
        raise InputError(f"unknown setting {unknown[0]!r}", field=unknown[0])
    return {name: _CHECKS[name](value) for name, value in values.items()}


def _kind(value: Any) -> str:
    kind = str(value).strip().lower()
    if kind not in KINDS:
        raise InputError(f"expected one of {', '.join(KINDS)}; got {value!r}", field="kind")
    return kind


def _text(field: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is not None and not isinstance(value, str):
            raise InputError("expected text", field=field)
        text = (value or "").strip()
        if len(text) > MAX_TEXT_CHARS:
            raise InputError(f"at most {MAX_TEXT_CHARS} characters", field=field)
        return text or None  # "" clears

    return check


def _keywords(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str | list | tuple):
        raise InputError("expected text or a list of words", field="keywords")
    if not (value.strip() if isinstance(value, str) else value):
        return None  # "" or [] clears, as for the theme; "，," is a mistake, refused below
    return orjson.dumps(parse_keywords(value)).decode()


def _timezone(value: Any) -> str:
    zone = str(value).strip()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"unknown time zone {value!r}; use Area/City, e.g. Asia/Shanghai", field="timezone"
        ) from None
    return zone


def _answer_window(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("expected whole minutes", field="answer_window")
    if not 0 <= value <= MAX_WINDOW_MINUTES:
        raise InputError(
            f"expected 0 to {MAX_WINDOW_MINUTES} minutes (7 days); got {value}",
            field="answer_window",
        )
    return value


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "kind": _kind,
    "theme": _text("theme"),
    "keywords": _keywords,
    "rules": _text("rules"),
    "timezone": _timezone,
    "answer_window": _answer_window,
}


def group_settings(store: Engine, community_id: int) -> GroupSettings:
    """The group's settings with its message and labelled-message counts."""
    with store.connect() as conn:
        return _read(conn, community_id)


def _read(conn: Connection, community_id: int) -> GroupSettings:
    c = t.community.c
    row = conn.execute(select(t.community).where(c.id == community_id)).first()
    if row is None:
        raise NotFound(f"no group {community_id} (see `shequn groups`)")
    count = select(func.count())
    messages = conn.execute(count.where(t.message.c.community_id == community_id)).scalar_one()
    labelled = conn.execute(
        count.where(t.message_label.c.community_id == community_id)
    ).scalar_one()
    return GroupSettings(
        id=row.id,
        platform=row.platform,
        name=row.name,
        kind=row.kind,
        theme=row.theme,
        keywords=_stored_keywords(row.keywords),
        rules=row.rules,
        timezone=row.timezone,
        answer_window=row.answer_window,
        effective_answer_window=(
            DEFAULT_WINDOW_MINUTES if row.answer_window is None else row.answer_window
        ),
        messages=int(messages),
        labelled=int(labelled),
    )


def _stored_keywords(raw: str | None) -> list[str]:
    try:
        value = orjson.loads(raw) if raw else []
    except orjson.JSONDecodeError:
        value = []
    return [str(k) for k in value] if isinstance(value, list) else []


def update_group_settings(
    store: Engine,
    community_id: int,
    values: Mapping[str, Any],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> SettingsResult:
    """Validate `values` (see validate_settings), write them in one transaction, and re-score
    the group's labelled messages when a theme or keywords were given."""
    from shequn.text.rescore import rescore_group

    columns = validate_settings(values)
    c = t.community.c
    with store.begin() as conn:
        before = conn.execute(select(t.community).where(c.id == community_id)).first()
        if before is None:
            raise NotFound(f"no group {community_id} (see `shequn groups`)")
        # in the order of _CHECKS, whatever order they were given in
        changed = [
            k
            for k in _CHECKS
            if k in columns and _stored(before, k) != _stored_value(k, columns[k])
        ]
        if changed:
            conn.execute(t.community.update().where(c.id == community_id).values(**columns))
    # given, not only changed: a re-scoring that was stopped is finished by setting the same
    # theme again (rows already new are not written twice)
    rescore = any(k in _THEME_COLUMNS for k in columns)
    rescored = rescore_group(store, community_id, progress=progress) if rescore else 0
    return SettingsResult(group_settings(store, community_id), changed, rescore, rescored)


def _stored(row: Any, column: str) -> Any:
    return _stored_value(column, getattr(row, column))


def _stored_value(column: str, value: Any) -> Any:
    # keywords compare as lists: the same words written by another tool may be spelt differently
    return _stored_keywords(value) if column == "keywords" else value


def group_texts(store: Engine, *, per_group: int = SUGGEST_MESSAGES) -> dict[int, list[str]]:
    """Every group's latest `per_group` messages with words (the kinds enrichment labels)."""
    from shequn.text.enrich import LABELLED_KINDS

    m = t.message.c
    out: dict[int, list[str]] = {}
    with store.connect() as conn:
        for cid in conn.execute(select(t.community.c.id).order_by(t.community.c.id)).scalars():
            query = (
                select(m.text)
                .where(m.community_id == cid, m.kind.in_(sorted(LABELLED_KINDS)))
                .order_by(m.sent_at.desc())
                .limit(per_group)
            )
            out[cid] = [text for text in conn.execute(query).scalars() if text and text.strip()]
    return out


def suggest_group_keywords(
    store: Engine, community_id: int, *, top: int = 12, per_group: int = SUGGEST_MESSAGES
) -> list[tuple[str, float]]:
    """The group's most distinctive terms against the other groups (text.theme.suggest_keywords
    over each group's latest `per_group` messages), best first, scores 0..1."""
    from shequn.text.theme import suggest_keywords

    if top < 1:
        raise InputError("top must be at least 1", field="top")
    texts = group_texts(store, per_group=per_group)
    if community_id not in texts:
        raise NotFound(f"no group {community_id} (see `shequn groups`)")
    return suggest_keywords(texts, top=top)[community_id]
