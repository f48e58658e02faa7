"""The coordinator's desk: dashboard pages, the REST API and token-protected API docs.

Add it to an app with ``install(app)`` (bot/app.py's create_app does). Installing twice
only updates the settings given (tests use that to set a controlled clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from bot.auth import Desk, LoginRequired, TokenBucket, api_principal, page_principal

STATIC = Path(__file__).resolve().parent / "static"
STATIC_URL = "/desk-static"
DOCS_STATIC_URL = "/docs-static"
DOCS_STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"
"""Swagger UI's script and styles for /docs, served from the fastapi-offline package (Swagger UI
5, which reads FastAPI's OpenAPI 3.1): the page works with no internet and loads no third-party
script beside the desk's session."""
PUBLIC_DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")


def install(app: FastAPI, *, clock: Callable[[], datetime] | None = None, rate: float | None = None,
            burst: int | None = None, theme_finder: Callable[..., Any] | None = None) -> Desk:
    """Add the dashboard and API to ``app`` (once), then apply any settings given."""
    desk: Desk | None = getattr(app.state, "desk", None)
    if desk is None:
        desk = Desk()
        app.state.desk = desk
        _add_routes(app)
    if clock is not None:
        desk.clock = clock
    if rate is not None or burst is not None:
        desk.limiter = TokenBucket(rate if rate is not None else desk.limiter.rate,
                                   burst if burst is not None else desk.limiter.burst)
    if theme_finder is not None:
        desk.theme_finder = theme_finder
    return desk


def _add_routes(app: FastAPI) -> None:
    from bot.api.analysis import router as analysis_router
    from bot.api.privacy import router as privacy_router
    from bot.api.studies import router as studies_router
    from bot.dashboard.methods import router as methods_router
    from bot.dashboard.pages import router as pages_router
    from bot.dashboard.participants import router as participants_router
    from bot.dashboard.work import router as work_router

    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) not in PUBLIC_DOCS]
    app.include_router(studies_router)
    app.include_router(analysis_router)
    app.include_router(privacy_router)
    app.include_router(pages_router)
    app.include_router(methods_router)
    app.include_router(work_router)
    app.include_router(participants_router)
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="desk-static")
    app.mount(DOCS_STATIC_URL, StaticFiles(directory=DOCS_STATIC), name="docs-static")
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]

    @app.get("/openapi.json", include_in_schema=False, dependencies=[Depends(api_principal)])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(page_principal)])
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="Chorus API", swagger_js_url=f"{DOCS_STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC_URL}/swagger-ui.css", swagger_favicon_url=f"{DOCS_STATIC_URL}/favicon.png")


def _to_login(request: Request, error: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(error.next_path, safe='/')}", status_code=303)
