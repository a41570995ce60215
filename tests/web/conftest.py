"""Web fixtures: an app on a fresh store with one user per role, and logged-in clients."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from cxo.governance import service as gov
from cxo.governance.permissions import ROLES
from cxo.governance.schemas import TokenCreate, UserCreate
from cxo.settings import Settings
from cxo.store.engine import connect, dispose_engines
from cxo.web.app import create_app
from tests.conftest import copy_store
from tests.pgserver import free_port

PASSWORD = "pw-for-tests"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def web_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with one user per role (named after the role), built once per session."""
    s = copy_store(template_store, tmp_path_factory.mktemp("web-template"))
    with connect(s, write=True) as conn:
        for role in ROLES:
            gov.create_user(
                conn, data=UserCreate(username=role, role=role, password=PASSWORD), actor="test"
            )
    dispose_engines()
    return s.home / "cxo.duckdb"


@pytest.fixture
def web_store(web_template: Path, tmp_path: Path) -> Iterator[Settings]:
    yield copy_store(web_template, tmp_path / "web-home")
    dispose_engines()


@pytest.fixture
def client(web_store: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(web_store)) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/login") -> str:
    match = CSRF_RE.search(client.get(path).text)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def login_as(client: TestClient) -> Callable[[str], TestClient]:
    def do(role: str) -> TestClient:
        login(client, role)
        return client

    return do


@pytest.fixture
def token_for(web_store: Settings) -> Callable[..., str]:
    def make(username: str, *scopes: str) -> str:
        with connect(web_store, write=True) as conn:
            return gov.create_token(
                conn, data=TokenCreate(username=username, scopes=list(scopes)), actor="test"
            )

    return make


@pytest.fixture
def live_server(web_store: Settings) -> Iterator[str]:
    """The app on a real port (for a real browser), in a thread; its base address."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(web_store), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)
