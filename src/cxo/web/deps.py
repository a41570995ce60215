"""Reusable FastAPI dependencies: settings, connections, the current principal, permission checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.engine import Connection

from cxo.errors import AuthenticationFailed, PermissionDenied
from cxo.governance import service as gov
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.settings import Settings
from cxo.store.engine import connect

SESSION_COOKIE = "cxo_session"


class LoginRequired(Exception):
    """Raised by page dependencies: the app redirects to the login page."""


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_conn(request: Request) -> Iterator[Connection]:
    """A read connection (one transaction) for the duration of the request."""
    with connect(get_settings(request)) as conn:
        yield conn


def get_write_conn(request: Request) -> Iterator[Connection]:
    """A write transaction, serialised on DuckDB, committed when the route returns."""
    with connect(get_settings(request), write=True) as conn:
        yield conn


Conn = Annotated[Connection, Depends(get_conn)]
WriteConn = Annotated[Connection, Depends(get_write_conn)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def session_principal(request: Request) -> Principal | None:
    """The logged-in user of a page request (from the session cookie), cached on the request."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    principal = None
    if token and len(token) < 200:
        with connect(get_settings(request)) as conn:
            principal = gov.resolve_session(conn, token=token)
    request.state.principal = principal
    return principal


def token_principal(request: Request) -> Principal:
    """The caller of an API request (from its Bearer token); 401 when missing or invalid."""
    token = _bearer(request)
    if not token:
        raise AuthenticationFailed(
            "Missing API token.", hint="Send `Authorization: Bearer <token>` (cxo token create)."
        )
    with connect(get_settings(request)) as conn:
        principal = gov.resolve_token(conn, token=token)
    if principal is None:
        raise AuthenticationFailed("Invalid, expired or revoked API token.")
    return principal


def require_page(permission: str) -> Callable[..., Principal]:
    """Page dependency: logged in (else redirect to login) and holding ``permission`` (else 403)."""

    def dep(request: Request) -> Principal:
        principal = session_principal(request)
        if principal is None:
            raise LoginRequired()
        if not allowed(principal.role, None, permission):
            raise PermissionDenied("Your role may not open this page.")
        return principal

    dep.__name__ = f"require_page_{permission.replace('.', '_')}"
    return dep


def require_api(permission: str) -> Callable[..., Principal]:
    """API dependency: a valid token whose user role and scopes both grant ``permission``."""

    def dep(request: Request) -> Principal:
        principal = token_principal(request)
        if not allowed(principal.role, principal.scopes, permission):
            raise PermissionDenied(
                f"This token may not do this ({permission}).",
                hint="Create a token with a scope that grants it and a user whose role holds it.",
            )
        return principal

    dep.__name__ = f"require_api_{permission.replace('.', '_')}"
    return dep


def page_permission(permission: str) -> Any:
    return Depends(require_page(permission))


def api_permission(permission: str) -> Any:
    return Depends(require_api(permission))
