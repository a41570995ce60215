"""Customer 360 page and API: search, masking by role, merge/unmerge/split with CSRF and roles."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from cxo.settings import Settings
from tests.identity.seed import seed_customers
from tests.web.conftest import csrf_of

PEOPLE = [
    [
        (
            "crm",
            "C1",
            {"full_name": "陈大文", "email": "dawen@example.hk", "phone": "+85291234567"},
        ),
        ("cti", "T1", {"full_name": "Chan Tai Man", "phone": "+85291234567"}),
    ],
    [("branch", "B1", {"full_name": "Peter Chan", "email": "peter@example.hk"})],
]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_page_shows_golden_record_records_and_masks_for_viewer(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    dawen, _peter = seed_customers(web_store, PEOPLE)
    client = login_as("analyst")
    page = client.get(f"/customers/{dawen}")
    assert page.status_code == 200
    assert "陈大文" in page.text and "dawen@example.hk" in page.text and "Chan Tai Man" in page.text
    assert "Merge" in page.text  # analysts may merge
    found = client.get("/customers", params={"q": "chen da wen"})
    assert f"/customers/{dawen}" in found.text
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    viewer = login_as("viewer")
    page = viewer.get(f"/customers/{dawen}")
    assert "陈大文" not in page.text and "dawen@example.hk" not in page.text
    assert "陈**" in page.text and "d***@example.hk" in page.text
    assert "Merge" not in page.text
    assert viewer.get("/customers/999999").status_code == 404


def test_merge_needs_write_role_and_csrf(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    dawen, peter = seed_customers(web_store, PEOPLE)
    viewer = login_as("viewer")
    token = csrf_of(viewer, "/")
    r = viewer.post(f"/customers/{dawen}/merge", data={"other": peter, "csrf_token": token})
    assert r.status_code == 403
    viewer.post("/logout", data={"csrf_token": token})
    analyst = login_as("analyst")
    r = analyst.post(f"/customers/{dawen}/merge", data={"other": peter}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    token = csrf_of(analyst, "/")
    r = analyst.post(
        f"/customers/{peter}/merge",
        data={"other": dawen, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/customers/{dawen}"
    alias_page = analyst.get(f"/customers/{peter}")
    assert "was merged into this customer" in alias_page.text
    r = analyst.post(
        f"/customers/{dawen}/unmerge", data={"csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303
    r = analyst.post(f"/customers/{dawen}/unmerge", data={"csrf_token": token})
    assert r.status_code == 409 and "never merged" in r.text


def test_api_360_search_merge_unmerge(
    client: TestClient, web_store: Settings, token_for: Callable[..., str]
) -> None:
    dawen, peter = seed_customers(web_store, PEOPLE)
    read = _bearer(token_for("analyst", "customers:read"))
    body = client.get(f"/api/v1/customers/{dawen}", headers=read).json()
    assert body["customer"]["display_name"] == "陈**"  # no pii:read scope
    assert len(body["records"]) == 2 and body["records"][0]["explanation"] == {"keys": ["email"]}
    pii = _bearer(token_for("analyst", "customers:read", "pii:read"))
    assert client.get(f"/api/v1/customers/{dawen}", headers=pii).json()["customer"]["email"] == (
        "dawen@example.hk"
    )
    hits = client.get("/api/v1/customers/search", params={"q": "peter@example.hk"}, headers=read)
    assert [c["id"] for c in hits.json()] == [peter]
    assert (
        client.get("/api/v1/customers/search", params={"q": "x" * 201}, headers=read).status_code
        == 400
    )
    r = client.post("/api/v1/customers/merge", json={"first": dawen, "second": peter}, headers=read)
    assert r.status_code == 403  # read scope only
    write = _bearer(token_for("analyst", "customers:write"))
    r = client.post(
        "/api/v1/customers/merge", json={"first": peter, "second": dawen}, headers=write
    )
    assert r.json() == {"survivor": dawen, "alias": peter, "records_moved": 1}
    by_alias = client.get(f"/api/v1/customers/{peter}", headers=read).json()
    assert by_alias["customer"]["id"] == dawen and by_alias["customer"]["requested_id"] == peter
    r = client.post(f"/api/v1/customers/{dawen}/unmerge", json={}, headers=write)
    assert r.json()["restored"] == peter
    r = client.post(f"/api/v1/customers/{dawen}/unmerge", json={}, headers=write)
    assert r.status_code == 409 and "never merged" in r.json()["detail"]
    assert client.post("/api/v1/records/999999/split", json={}, headers=write).status_code == 404
