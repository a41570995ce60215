"""Deny by default: every route but a short public list checks a permission."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute

from cxo.governance.permissions import PERMISSIONS
from cxo.settings import Settings
from cxo.web.app import create_app

PUBLIC = {"/healthz", "/login", "/logout", "/lang", "/static/plotly.min.js"}
# Respondents answer surveys without an account: the token in the path is the key.
RESPONDENT = {"/s/{token}", "/s/l/{key}", "/s/r/{token}", "/s/u/{token}"}
# RFC 8058 one-click unsubscribe: mail providers POST without cookies, so the unsubscribe POST
# checks CSRF for its own form only (see cxo.surveys.optout).
CSRF_OR_ONE_CLICK = {"csrf_protect", "csrf_protect_unless_one_click"}


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, including those of routers FastAPI includes lazily (0.16x)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _api_routes(inner.routes)


def test_the_route_walk_sees_every_domain() -> None:
    from cxo.web.app import create_app as make

    paths = {r.path for r in _api_routes(make().routes)}
    assert {"/customers", "/api/v1/customers", "/surveys", "/s/{token}", "/imports"} <= paths


def _dependency_names(route: APIRoute) -> set[str]:
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            names.add(getattr(dep.call, "__name__", ""))
        stack.extend(dep.dependencies)
    return names


def test_every_route_checks_a_permission(store: Settings) -> None:
    app = create_app(store)
    unchecked = []
    for route in _api_routes(app.routes):
        if route.path in PUBLIC or route.path in RESPONDENT:
            continue
        names = _dependency_names(route)
        kind = "require_api_" if route.path.startswith("/api/") else "require_page_"
        if not any(n.startswith(kind) for n in names) and not (
            route.path == "/api/v1/me" and "token_principal" in names
        ):
            unchecked.append(route.path)
    assert unchecked == []


def test_every_page_route_is_csrf_protected(store: Settings) -> None:
    app = create_app(store)
    for route in _api_routes(app.routes):
        if not route.path.startswith("/api/") and route.path not in {
            "/healthz",
            "/static/plotly.min.js",
        }:
            assert CSRF_OR_ONE_CLICK & _dependency_names(route), route.path


def test_permissions_name_known_roles_only() -> None:
    from cxo.governance.permissions import ROLES

    for perm, roles in PERMISSIONS.items():
        assert roles <= set(ROLES), perm


def test_fastapi_reports_to_opentelemetry_only_when_asked(store: Settings) -> None:
    """FastAPI's native telemetry checks for an OpenTelemetry SDK on every request (environment
    look-ups, ~10 % of a respondent page's time under load): off unless CXO_TELEMETRY is set."""
    off = create_app(store)
    assert not any(off._telemetry[k] for k in ("tracing", "metrics", "logs"))  # type: ignore[literal-required]
    on = create_app(store.model_copy(update={"telemetry": True}))
    assert all(on._telemetry[k] for k in ("tracing", "metrics", "logs"))  # type: ignore[literal-required]
