"""`cxo serve --workers N`: several server processes on PostgreSQL, a clear refusal on DuckDB."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.test_cli import cxo


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    r = cxo(tmp_path / "home", "serve", "--workers", "2")
    assert r.returncode == 2
    assert "need a PostgreSQL store" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.postgres
def test_two_workers_serve_a_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    port = _free_port()
    env = {"CXO_DATABASE_URL": pg_url}
    assert cxo(tmp_path / "home", "init", env=env).returncode == 0
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CXO_")}
    environ |= {"CXO_HOME": str(tmp_path / "home"), **env}
    server = subprocess.Popen(
        [sys.executable, "-m", "cxo.cli", "serve", "--workers", "2", "--port", str(port)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 150  # spawned workers import the app afresh
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                if r.status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the server did not come up")
        assert r.json()["database"] == "ok"
        children = subprocess.run(
            ["pgrep", "-f", "-P", str(server.pid), "multiprocessing"],
            capture_output=True,
            text=True,
        ).stdout.split()
        assert len(children) >= 2  # uvicorn's supervisor runs the workers as child processes
    finally:
        server.terminate()
        server.wait(30)
