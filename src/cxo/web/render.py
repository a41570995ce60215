"""Rendering pages: one Jinja2 environment, the request's language, navigation and CSRF token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cxo.governance.permissions import allowed
from cxo.i18n import (
    LANGUAGE_NAMES,
    LOCALES,
    Translator,
    negotiate,
    normalise_locale,
    translator,
)
from cxo.web import csrf
from cxo.web.deps import get_settings, session_principal

TEMPLATES = Path(__file__).parent / "templates"
LANG_COOKIE = "cxo_lang"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship with the package; no stat() per render
)


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # English source string; translated in the template
    permission: str


# The areas of cxo, in menu order. Labels are extracted for translation from base.html's calls.
NAV: tuple[NavItem, ...] = (
    NavItem("/", "Home", "home.view"),
    NavItem("/customers", "Customers", "customers.read"),
    NavItem("/journey", "Journey", "journey.view"),
    NavItem("/voc", "Voice of the customer", "voc.view"),
    NavItem("/value", "Value", "value.view"),
    NavItem("/cases", "Cases", "cases.view"),
    NavItem("/treatments", "Treatments", "treatments.view"),
    NavItem("/surveys", "Surveys", "surveys.read"),
    NavItem("/imports", "Imports", "imports.read"),
    NavItem("/governance", "Governance", "governance.view"),
)


def resolve_locale(request: Request) -> str:
    """The user's saved language, else the language cookie, else the browser's, else the default."""
    cached = getattr(request.state, "locale", None)
    if cached:
        return str(cached)
    principal = session_principal(request)
    locale = (
        (principal.locale if principal and principal.locale in LOCALES else None)
        or normalise_locale(request.cookies.get(LANG_COOKIE))
        or negotiate(request.headers.get("accept-language"), get_settings(request).default_locale)
    )
    request.state.locale = locale
    return locale


def request_translator(request: Request) -> Translator:
    """The ``_`` function in the request's language, for strings built in Python."""
    return translator(resolve_locale(request))


def csrf_token(request: Request) -> str:
    cookie = request.cookies.get(csrf.CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not cookie:
        cookie = csrf.new_cookie_value()
        request.state.new_csrf = cookie
    return csrf.token_for(cookie, request.app.state.secret_key)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    locale = resolve_locale(request)
    principal = session_principal(request)
    nav = [n for n in NAV if principal and allowed(principal.role, None, n.permission)]
    ctx: dict[str, Any] = {
        "request": request,
        "_": translator(locale),
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "languages": LANGUAGE_NAMES,
        "principal": principal,
        "nav": nav,
        "current_path": request.url.path,
        "csrf_token": csrf_token(request),
    }
    ctx.update(context or {})
    return page_response(request, env.get_template(template).render(ctx), status_code)


def page_response(request: Request, html: str, status_code: int = 200) -> HTMLResponse:
    """A rendered page as a response: never cached, with the CSRF cookie its token was made for
    when the browser had none."""
    response = HTMLResponse(html, status_code=status_code)
    headers = response.raw_headers
    new_cookie = getattr(request.state, "new_csrf", None)
    if new_cookie:
        # What Response.set_cookie writes, without http.cookies (the value is URL-safe base64).
        secure = "; Secure" if request.scope.get("scheme") == "https" else ""
        cookie = f"{csrf.CSRF_COOKIE}={new_cookie}; HttpOnly; Path=/; SameSite=lax{secure}"
        headers.append((b"set-cookie", cookie.encode("latin-1")))
    headers.append((b"cache-control", b"no-store"))
    return response
