"""The web app factory: pages (Jinja2 + HTMX) and the JSON API under /api/v1."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import plotly
import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxo import __version__
from cxo.customers import api as customers_api
from cxo.customers import pages as customers_pages
from cxo.errors import CxoError
from cxo.governance import api as governance_api
from cxo.governance import pages as governance_pages
from cxo.governance.ratelimit import FailureLimiter
from cxo.imports import api as imports_api
from cxo.imports import pages as imports_pages
from cxo.imports.jobs import ImportJobs
from cxo.overview import api as overview_api
from cxo.overview import pages as overview_pages
from cxo.settings import Settings, get_settings
from cxo.store.engine import connect
from cxo.surveys import api as surveys_api
from cxo.surveys import exchange_api as surveys_exchange_api
from cxo.surveys import optout as surveys_optout
from cxo.surveys import pages as surveys_pages
from cxo.surveys import public as surveys_public
from cxo.surveys.intake import Intake
from cxo.surveys.mailer import MailJobs
from cxo.web.deps import LoginRequired
from cxo.web.middleware import BodySizeLimit, SecurityHeaders
from cxo.web.render import render

log = logging.getLogger("cxo.web")
STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Page routers in the order they match; placeholder areas (overview) come last so a domain's own
# page replaces its placeholder by being registered earlier.
PAGE_ROUTERS = (
    governance_pages.router,
    customers_pages.router,
    imports_pages.router,
    surveys_pages.router,
    surveys_optout.router,
    overview_pages.router,
)
API_ROUTERS = (
    governance_api.router,
    customers_api.router,
    imports_api.router,
    surveys_api.router,
    surveys_exchange_api.router,
    overview_api.router,
)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(request: Request, status: int, message: str, hint: str | None) -> Response:
    if _is_api(request):
        body: dict[str, Any] = {"detail": message}
        if hint:
            body["hint"] = hint
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(body, status_code=status, headers=headers)
    return render(
        request,
        "error.html",
        {"status": status, "message": message, "hint": hint},
        status_code=status,
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="cxo",
        version=__version__,
        description="Customer experience optimization: JSON API. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `cxo token create`).",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        telemetry=None
        if settings.telemetry
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.secret_key = settings.get_secret_key()
    app.state.login_limiter = FailureLimiter()
    app.state.survey_start_limiter = FailureLimiter(limit=settings.survey_start_limit, window=600.0)
    app.state.import_jobs = ImportJobs(settings)
    app.state.mail_jobs = MailJobs(settings)
    app.state.survey_intake = Intake(settings)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        # Served from the plotly package itself: no CDN, and it always matches the Python side.
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Liveness and database reachability (no authentication, reveals nothing private)."""
        try:
            with connect(settings) as conn:
                conn.execute(sa.text("SELECT 1"))
        except CxoError:
            return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    # Respondents' pages first: they carry the most traffic, and routes are matched in order.
    app.include_router(surveys_public.router)
    for router in API_ROUTERS:
        app.include_router(router)
    for router in PAGE_ROUTERS:
        app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)

    @app.exception_handler(CxoError)
    async def _cxo_error(request: Request, exc: CxoError) -> Response:
        return _error_response(request, exc.http_status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {
                "field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "problem": e["msg"],
            }
            for e in exc.errors()[:20]
        ]
        if _is_api(request):
            return JSONResponse(
                {"detail": "Invalid request.", "problems": problems}, status_code=400
            )
        first = problems[0] if problems else {"field": "?", "problem": "invalid"}
        return _error_response(request, 400, f"{first['field']}: {first['problem']}", None)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Not found." if exc.status_code == 404 else str(exc.detail)
        return _error_response(request, exc.status_code, message, None)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error_response(
            request, 500, "Something went wrong on our side.", "The error was logged; try again."
        )

    # Innermost first (each added one wraps the ones before): respondents' pages, the body limit
    # before anything reads a body, headers on every response.
    app.add_middleware(surveys_public.RespondentFastPath, owner=app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_request_bytes,
        upload_paths=(imports_api.UPLOAD_PATH, imports_pages.UPLOAD_PATH),
        upload_max_bytes=settings.import_max_bytes,
        upload_patterns=(surveys_pages.RESPONSES_UPLOAD_PATTERN,),
    )
    app.add_middleware(SecurityHeaders)
    return app


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
