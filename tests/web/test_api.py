"""The JSON API: tokens, scopes, roles, pagination, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from cxo.customers.models import customers
from cxo.settings import Settings
from cxo.store.engine import connect


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_login(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


def test_openapi_lists_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/customers" in spec["paths"]
    assert not any(p in spec["paths"] for p in ("/login", "/customers"))  # pages are not API


def test_missing_or_bad_token_is_401(client: TestClient) -> None:
    r = client.get("/api/v1/customers")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/customers", headers=_bearer("cxo_forged")).status_code == 401
    assert client.get("/api/v1/customers", headers={"Authorization": "Basic x"}).status_code == 401


def test_under_scoped_token_is_403(client: TestClient, token_for: Callable[..., str]) -> None:
    token = token_for("admin", "customers:read")
    assert client.get("/api/v1/customers", headers=_bearer(token)).status_code == 200
    r = client.get("/api/v1/audit", headers=_bearer(token))
    assert r.status_code == 403 and "audit.read" in r.json()["detail"]


def test_scope_cannot_exceed_role(client: TestClient, token_for: Callable[..., str]) -> None:
    token = token_for("viewer", "admin")
    assert client.get("/api/v1/users", headers=_bearer(token)).status_code == 403


def test_customers_paginated_and_masked_without_pii_scope(
    client: TestClient, web_store: Settings, token_for: Callable[..., str]
) -> None:
    now = dt.datetime.now(dt.UTC)
    with connect(web_store, write=True) as conn:
        conn.execute(
            customers.insert(),
            [
                {
                    "display_name": f"Customer {i}",
                    "email": f"c{i}@example.com",
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(7)
            ],
        )
    plain = token_for("analyst", "customers:read")
    body = client.get("/api/v1/customers?page=2&per_page=3", headers=_bearer(plain)).json()
    assert body["total"] == 7 and body["page"] == 2 and len(body["items"]) == 3
    assert body["items"][0]["email"] == "c***@example.com"
    pii = token_for("analyst", "customers:read", "pii:read")
    body = client.get("/api/v1/customers?per_page=3", headers=_bearer(pii)).json()
    assert body["items"][0]["email"] == "c0@example.com"
    last = client.get("/api/v1/customers?page=3&per_page=3", headers=_bearer(plain)).json()
    assert len(last["items"]) == 1


def test_invalid_parameters_are_400(client: TestClient, token_for: Callable[..., str]) -> None:
    token = token_for("analyst", "customers:read")
    r = client.get("/api/v1/customers?per_page=0", headers=_bearer(token))
    assert r.status_code == 400 and r.json()["problems"][0]["field"] == "per_page"


def test_me_and_audit(client: TestClient, token_for: Callable[..., str]) -> None:
    token = token_for("admin", "audit:read")
    assert client.get("/api/v1/me", headers=_bearer(token)).json()["role"] == "admin"
    entries = client.get("/api/v1/audit", headers=_bearer(token)).json()
    assert entries[0]["action"] == "token.create"
    assert client.get("/api/v1/audit/verify", headers=_bearer(token)).json()["ok"] is True


def test_overview_counts(client: TestClient, token_for: Callable[..., str]) -> None:
    body = client.get(
        "/api/v1/overview", headers=_bearer(token_for("viewer", "customers:read"))
    ).json()
    assert body["customers"] == 0 and set(body["interactions_by_stage"]) == {
        "engage",
        "transact",
        "fulfil",
        "service",
    }
