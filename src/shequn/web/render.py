"""Rendering pages: one Jinja2 environment, the user's language and zone in every template.

Templates get `_` (phrases), `user`, `lang`, `csrf` (the token forms and htmx send back),
`fmt_dt` / `fmt_day` (times in the user's zone), `fmt_num`, and `url_with` (the current URL with
some query parameters replaced, for filters, sorting and paging).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from shequn.store.users import User
from shequn.web import i18n

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=str(TEMPLATES))
# Every template is HTML: escape by default (select_autoescape does not know the .j2 suffix).
templates.env.autoescape = True
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def user_zone(user: User | None) -> str:
    """The user's own zone, else the store's default zone (setting, else this machine's)."""
    if user is not None and user.timezone:
        return user.timezone
    from shequn.analytics.run import default_zone

    return default_zone()


def request_lang(request: Request, user: User | None) -> str:
    """The user's language; before sign-in, `?lang=` or the browser's Accept-Language."""
    if user is not None:
        return user.lang
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS:
        return asked
    accept = request.headers.get("accept-language", "")
    return "en" if accept[:2].lower() == "en" else "zh"


def fmt_dt(value: Any, zone: str, *, seconds: bool = False) -> str:
    """An aware datetime (or ISO text) shown in `zone` as YYYY-MM-DD HH:MM."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(_zone(zone))
        return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fmt_num(value: Any, digits: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and digits == 0 and not value.is_integer():
        digits = 2
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def fmt_pct(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.1f}%"


def url_with(request: Request, **changes: Any) -> str:
    """This page's URL with query parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def context(request: Request, user: User | None, **values: Any) -> dict[str, Any]:
    """The values every template gets, plus the page's own."""
    lang = request_lang(request, user)
    zone = user_zone(user)
    csrf = getattr(request.state, "csrf", None) or getattr(request.state, "anon_csrf", None)
    base: dict[str, Any] = {
        "request": request,
        "user": user,
        "lang": lang,
        "zone": zone,
        "csrf": csrf or "",
        "_": lambda key, **kw: i18n.text(lang, key, **kw),
        "fmt_dt": lambda v, seconds=False: fmt_dt(v, zone, seconds=seconds),
        "fmt_num": fmt_num,
        "fmt_pct": fmt_pct,
        "url_with": lambda **kw: url_with(request, **kw),
    }
    base.update(values)
    return base


def page(
    request: Request, user: User | None, name: str, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    """Render template `name` with the common context."""
    return templates.TemplateResponse(
        request, name, context(request, user, **values), status_code=status_code
    )
