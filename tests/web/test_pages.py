"""Pages: login, language, CSRF, roles, PII masking, errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from cxo.customers.models import customers
from cxo.settings import Settings
from cxo.store.engine import connect
from tests.web.conftest import csrf_of, login


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for path in ("/", "/customers", "/governance", "/voc"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")


def test_login_page_in_both_languages(client: TestClient) -> None:
    assert "Log in to cxo" in client.get("/login").text
    zh = client.get("/login", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert "登录 cxo" in zh and 'lang="zh-CN"' in zh


def test_wrong_password_is_401_without_saying_which_part(client: TestClient) -> None:
    r = client.post(
        "/login", data={"username": "admin", "password": "nope", "csrf_token": csrf_of(client)}
    )
    assert r.status_code == 401
    assert "Wrong user name or password." in r.text


def test_repeated_failures_are_throttled(client: TestClient) -> None:
    token = csrf_of(client)
    codes = [
        client.post(
            "/login", data={"username": "admin", "password": "x", "csrf_token": token}
        ).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_forged_or_missing_csrf_is_403(client: TestClient) -> None:
    csrf_of(client)  # sets the cookie
    for token in ("forged", ""):
        r = client.post("/login", data={"username": "admin", "password": "pw", "csrf_token": token})
        assert r.status_code == 403
    other = TestClient(client.app)
    r = other.post(
        "/login", data={"username": "admin", "password": "pw", "csrf_token": csrf_of(client)}
    )
    assert r.status_code == 403  # a token from another browser's cookie does not fit


def test_session_cookie_flags(client: TestClient) -> None:
    r = client.post(
        "/login",
        data={"username": "admin", "password": "pw-for-tests", "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"]
    assert "cxo_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; set over https


def test_open_redirect_is_refused(client: TestClient) -> None:
    r = client.post(
        "/login",
        data={
            "username": "admin",
            "password": "pw-for-tests",
            "csrf_token": csrf_of(client),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_language_choice_is_remembered_for_the_user(login_as: Callable[[str], TestClient]) -> None:
    client = login_as("analyst")
    assert "Customer experience at a glance" in client.get("/").text
    r = client.post(
        "/lang", data={"locale": "zh_CN", "next": "/", "csrf_token": csrf_of(client, "/")}
    )
    assert "客户体验概览" in r.text and "客户之声" in r.text
    client.post("/logout", data={"csrf_token": csrf_of(client, "/")})
    client.cookies.clear()
    login(client, "analyst")
    assert "客户体验概览" in client.get("/").text  # from the user's profile, not the cookie


def test_roles_are_checked_on_pages(login_as: Callable[[str], TestClient]) -> None:
    client = login_as("viewer")
    assert client.get("/").status_code == 200
    r = client.get("/governance")
    assert r.status_code == 403 and "Your role may not open this page." in r.text
    assert client.get("/treatments").status_code == 403
    assert 'href="/governance"' not in client.get("/").text  # not offered in the menu


def test_admin_sees_governance_with_intact_chain(login_as: Callable[[str], TestClient]) -> None:
    r = login_as("admin").get("/governance")
    assert r.status_code == 200
    assert "The audit chain is intact" in r.text and "session.login" in r.text


def _add_customer(s: Settings) -> None:
    now = dt.datetime.now(dt.UTC)
    with connect(s, write=True) as conn:
        conn.execute(
            customers.insert().values(
                display_name="陈小明",
                email="chen.xm@example.cn",
                phone_e164="+8613800001234",
                created_at=now,
                updated_at=now,
            )
        )


@pytest.mark.parametrize(("role", "masked"), [("viewer", True), ("agent", False)])
def test_customer_pii_is_masked_for_viewers(
    web_store: Settings, login_as: Callable[[str], TestClient], role: str, masked: bool
) -> None:
    _add_customer(web_store)
    text = login_as(role).get("/customers").text
    assert ("chen.xm@example.cn" in text) is not masked
    assert ("c***@example.cn" in text) is masked
    assert ("+86*******1234" in text) is masked


def test_customers_page_htmx_fragment(
    web_store: Settings, login_as: Callable[[str], TestClient]
) -> None:
    _add_customer(web_store)
    r = login_as("analyst").get("/customers?page=1", headers={"HX-Request": "true"})
    assert r.status_code == 200 and "<html" not in r.text and "<table" in r.text


def test_bad_query_is_400_not_500(login_as: Callable[[str], TestClient]) -> None:
    client = login_as("analyst")
    assert client.get("/customers?page=abc").status_code == 400
    assert client.get("/customers?per_page=100000").status_code == 400


def test_unknown_page_is_a_friendly_404(login_as: Callable[[str], TestClient]) -> None:
    r = login_as("analyst").get("/no-such-page")
    assert r.status_code == 404 and "Page not found" in r.text


def test_oversized_body_is_413(client: TestClient) -> None:
    big = b"a" * (10 * 1024 * 1024 + 1)
    r = client.post(
        "/login", content=big, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 413


def test_security_headers(client: TestClient) -> None:
    r = client.get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_static_assets_are_served_locally(client: TestClient) -> None:
    assert client.get("/static/plotly.min.js").status_code == 200
    assert client.get("/static/htmx-2.0.11.min.js").status_code == 200


@pytest.mark.parametrize(("role", "masked"), [("viewer", True), ("analyst", False)])
def test_customer_csv_export(
    web_store: Settings, login_as: Callable[[str], TestClient], role: str, masked: bool
) -> None:
    _add_customer(web_store)
    now = dt.datetime.now(dt.UTC)
    with connect(web_store, write=True) as conn:
        conn.execute(
            customers.insert().values(display_name="=HYPERLINK(1)", created_at=now, updated_at=now)
        )
    client = login_as(role)
    r = client.get("/customers/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeffid,display_name,email")
    lines = text.strip().splitlines()
    assert len(lines) == 3
    assert ("chen.xm@example.cn" in text) is not masked
    assert "+86" in lines[1]  # a phone number is not mistaken for a formula
    if not masked:
        assert "'=HYPERLINK(1)" in lines[2]
    entries = login_as("admin").get("/governance").text
    assert "customers.export" in entries
