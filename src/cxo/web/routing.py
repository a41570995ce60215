"""Routers for pages (CSRF-checked) and for the JSON API (token-authenticated)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request

from cxo.errors import PermissionDenied
from cxo.web import csrf

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfFailed(PermissionDenied):
    pass


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe page request whose CSRF token does not match the browser's cookie."""
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get(csrf.CSRF_HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()
        value = form.get(csrf.CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    verify_csrf(request, submitted)


def verify_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403) a request whose submitted CSRF token does not match its cookie."""
    if not csrf.check(
        request.cookies.get(csrf.CSRF_COOKIE), submitted, request.app.state.secret_key
    ):
        raise CsrfFailed(
            "The form expired or did not come from this site (CSRF check failed).",
            hint="Reload the page and try again.",
        )


def page_router(**kwargs: Any) -> APIRouter:
    """A router for HTML pages: every unsafe request on it is CSRF-checked."""
    return APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False, **kwargs)


def api_router(**kwargs: Any) -> APIRouter:
    """A router for the JSON API under /api/v1 (callers authenticate with Bearer tokens)."""
    return APIRouter(prefix="/api/v1", **kwargs)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only redirect to a path on this site (no scheme, no host, no `//`)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return default
    return target
