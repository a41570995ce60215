"""Shared fixtures: settings on a temporary home, and stores on DuckDB and a real PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxo.settings import Settings
from cxo.store import engine as store_engine
from cxo.store.bootstrap import init_store
from tests.pgserver import PgServer, wait_ready


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer.start()
    try:
        wait_ready(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.create_database()
    yield url
    store_engine.dispose_engines()
    pg_server.drop_database(url)


def make_settings(home: Path, database_url: str | None = None, **kw: object) -> Settings:
    return Settings(
        home=home,
        database_url=database_url,
        secret_key="test-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        _env_file=None,  # type: ignore[call-arg]
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings on an empty DuckDB store in a temporary home (not yet initialised)."""
    yield make_settings(tmp_path / "home")
    store_engine.dispose_engines()


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised DuckDB file, built once; tests get copies (migrating each time is slow)."""
    home = tmp_path_factory.mktemp("template")
    init_store(make_settings(home))
    store_engine.dispose_engines()
    return home / "cxo.duckdb"


def copy_store(template: Path, home: Path) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(template, home / "cxo.duckdb")
    return make_settings(home)


@pytest.fixture
def store(template_store: Path, tmp_path: Path) -> Iterator[Settings]:
    """An initialised DuckDB store of its own."""
    yield copy_store(template_store, tmp_path / "home")
    store_engine.dispose_engines()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """An initialised store, once on DuckDB and once on PostgreSQL."""
    if request.param == "duckdb":
        s = make_settings(tmp_path / "home")
    else:
        s = make_settings(tmp_path / "home", request.getfixturevalue("pg_url"))
    init_store(s)
    yield s
    store_engine.dispose_engines()
