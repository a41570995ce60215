"""Login, logout, language switch and the governance page (users, audit log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxo.errors import AuthenticationFailed
from cxo.governance import audit
from cxo.governance import service as gov
from cxo.governance.service import Principal
from cxo.i18n import LOCALES, normalise_locale
from cxo.store.engine import connect
from cxo.web.deps import SESSION_COOKIE, Conn, SettingsDep, page_permission, session_principal
from cxo.web.render import LANG_COOKIE, render
from cxo.web.routing import page_router, safe_next

router = page_router()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> Response:
    if session_principal(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    limiter = request.app.state.login_limiter
    key = f"{request.client.host if request.client else '-'}|{username.lower()}"
    if limiter.blocked(key):
        return render(
            request, "login.html", {"next": safe_next(next), "error": "too_many"}, status_code=429
        )
    try:
        with connect(settings, write=True) as conn:
            principal = gov.authenticate(conn, username=username, password=password)
            token = gov.start_session(conn, principal=principal, hours=settings.session_hours)
    except AuthenticationFailed:
        limiter.fail(key)
        return render(
            request,
            "login.html",
            {"next": safe_next(next), "error": "bad_credentials", "username": username},
            status_code=401,
        )
    limiter.reset(key)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    if principal.locale:
        response.set_cookie(LANG_COOKIE, principal.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, settings: SettingsDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    principal = session_principal(request)
    if token and principal:
        with connect(settings, write=True) as conn:
            gov.end_session(conn, token=token, actor=principal.actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/lang")
def switch_language(
    request: Request,
    settings: SettingsDep,
    locale: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    chosen = normalise_locale(locale)
    response = RedirectResponse(safe_next(next), status_code=303)
    if chosen not in LOCALES:
        return response
    principal = session_principal(request)
    if principal is not None:
        with connect(settings, write=True) as conn:
            gov.set_locale(conn, principal=principal, locale=chosen)
    response.set_cookie(LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


@router.get("/governance", response_class=HTMLResponse)
def governance_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("governance.view")],
) -> Response:
    return render(
        request,
        "governance.html",
        {
            "users": gov.list_users(conn),
            "entries": gov.list_audit(conn, limit=50),
            "verify": audit.verify(conn),
        },
    )
