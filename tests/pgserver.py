"""A throwaway PostgreSQL server for the test suite, from the machine's PostgreSQL binaries.

Started once per test session in a temporary folder on a free loopback port, stopped and removed
at the end. When the tests run as root (as CI does), the server runs as the ``postgres`` system
user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa


def find_bindir() -> Path | None:
    env = os.environ.get("CXO_TEST_PG_BINDIR")
    if env:
        return Path(env)
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(versions[0]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bindir: Path
    datadir: Path
    port: int
    as_user: str | None

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    @classmethod
    def start(cls, options: str = "") -> PgServer:
        """Start a server; ``options`` are extra ``-c name=value`` server settings."""
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        base = Path(tempfile.mkdtemp(prefix="cxo-pg-"))
        as_user = "postgres" if os.geteuid() == 0 else None
        datadir = base / "data"
        if as_user:
            shutil.chown(base, user=as_user)
            base.chmod(0o755)
        server = cls(bindir, datadir, free_port(), as_user)
        server._run(
            "initdb", "-D", str(datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"
        )
        server._run(
            "pg_ctl",
            "-D",
            str(datadir),
            "-w",
            "-t",
            "60",
            "-l",
            str(base / "log"),
            "-o",
            f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off " + options,
            "start",
        )
        return server

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.datadir.parent, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """Create a fresh, empty database and return its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def wait_ready(server: PgServer, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            sa.create_engine(server.url()).connect().close()
            return
        except sa.exc.OperationalError:
            time.sleep(0.2)
    raise RuntimeError("PostgreSQL did not become ready")
