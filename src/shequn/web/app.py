"""The workspace application: `create_app()` wires the store, the routes and the guards.

Every router comes from one module of this package (pages_*.py for pages, api_*.py for
`/api/v1`); each module owns its routes and its phrases. All assets are served from this
package: no CDN, nothing fetched at run time.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from shequn import __version__
from shequn.errors import ShequnError
from shequn.store.db import open_store
from shequn.web.auth import ANON_CSRF_COOKIE, csrf_guard, optional_user
from shequn.web.render import page

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
REPORT_STATIC = Path(__file__).parent.parent / "analytics" / "static"
SWAGGER = "/static/vendor/swagger-ui-5.35.0"

# Page and API modules, in the order their routes are matched.
ROUTER_MODULES = (
    "pages_auth",
    "pages_overview",
    "pages_group",
    "pages_member",
    "pages_inbox",
    "pages_archive",
    "pages_import",
    "pages_admin",
    "api_groups",
    "api_people",
    "api_search",
    "api_inbox",
    "api_imports",
    "api_users",
)

STATUS = {
    "bad_input": 400,
    "format_not_detected": 400,
    "login_required": 401,
    "permission_denied": 403,
    "csrf_failed": 403,
    "not_found": 404,
    "conflict": 409,
    "too_many_attempts": 429,
}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)
# Swagger UI starts from an inline script; only its page allows one.
DOCS_CSP = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        docs = request.url.path == "/api/docs"
        response.headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        new_csrf = getattr(request.state, "new_anon_csrf", None)
        if new_csrf:
            response.set_cookie(
                ANON_CSRF_COOKIE,
                new_csrf,
                httponly=True,
                samesite="strict",
                secure=request.url.scheme == "https",
            )
        return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, status: int, code: str, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"error": code, "message": message}, status_code=status)
    if code == "login_required":
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    user = getattr(request.state, "user", None)
    return page(request, user, "error.html.j2", status_code=status, code=code, message=message)


async def _shequn_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShequnError)
    status = STATUS.get(exc.code, 400)
    return _error_response(request, status, exc.code, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    return _error_response(request, exc.status_code, code, str(exc.detail))


def _docs_routes(app: FastAPI) -> None:
    @app.get("/api/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/v1/openapi.json",
            title="shequn API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )


def create_app(store: Engine | str | None = None) -> FastAPI:
    """The workspace on `store`: an engine, a URL, or None for the configured store."""
    app = FastAPI(
        title="shequn 社群",
        version=__version__,
        description="The operator's workspace API. 社群运营工作台接口。",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(optional_user), Depends(csrf_guard)],
    )
    app.state.store = store if isinstance(store, Engine) else open_store(store)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(ShequnError, _shequn_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.mount("/static/report", StaticFiles(directory=REPORT_STATIC), name="report-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _docs_routes(app)
    app.state.routers = []
    for name in ROUTER_MODULES:
        try:
            module = importlib.import_module(f"shequn.web.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"shequn.web.{name}":
                raise
            log.debug("router module %s not present", name)
            continue
        app.include_router(module.router)
        app.state.routers.append(module.router)
    return app


def all_routes(app: FastAPI) -> list[APIRoute]:
    """Every route of the workspace's own modules (tests check access rules route by route)."""
    found = [r for r in app.routes if isinstance(r, APIRoute)]
    for router in app.state.routers:
        found.extend(r for r in router.routes if isinstance(r, APIRoute))
    return found
