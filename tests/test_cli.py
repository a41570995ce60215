"""The `cxo` command line, run as a user runs it (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from cxo.governance.models import audit_log
from cxo.store.engine import connect, dispose_engines
from tests.conftest import copy_store, make_settings


def cxo(
    home: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CXO_")}
    environ.update({"CXO_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1"}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "cxo.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


@pytest.fixture
def home(template_store: Path, tmp_path: Path) -> Path:
    copy_store(template_store, tmp_path / "home")
    return tmp_path / "home"


def test_help_lists_every_command(tmp_path: Path) -> None:
    out = cxo(tmp_path, "--help").stdout
    for command in ("init", "config", "serve", "demo", "user", "token", "audit", "pipeline"):
        assert command in out


def test_init_creates_then_is_idempotent(tmp_path: Path) -> None:
    first = cxo(tmp_path / "new", "init")
    assert first.returncode == 0 and "Store ready" in first.stdout
    second = cxo(tmp_path / "new", "init")
    assert second.returncode == 0 and "already at the newest schema" in second.stdout


def test_user_add_token_create_and_audit_verify(home: Path) -> None:
    r = cxo(home, "user", "add", "lin", "--role", "analyst", "--password-stdin", stdin="pw1234\n")
    assert r.returncode == 0, r.stderr
    r = cxo(home, "token", "create", "--user", "lin", "--scope", "customers:read,pii:read")
    assert r.returncode == 0 and r.stdout.strip().startswith("cxo_")
    r = cxo(home, "audit", "verify")
    assert r.returncode == 0 and "2 entries" in r.stdout


def test_audit_verify_names_the_tampered_row(home: Path) -> None:
    for name in ("a1", "a2", "a3"):
        cxo(home, "user", "add", name, "--role", "viewer", "--password-stdin", stdin="pw1234\n")
    s = make_settings(home)
    with connect(s, write=True) as conn:
        second = conn.execute(sa.select(audit_log.c.id).order_by(audit_log.c.id).offset(1)).scalar()
        conn.execute(
            audit_log.update().where(audit_log.c.id == second).values(action="user.nothing")
        )
    dispose_engines()
    r = cxo(home, "audit", "verify")
    assert r.returncode == 1
    assert f"entry {second}" in r.stderr and "Traceback" not in r.stderr


def test_errors_are_one_line_with_a_hint(home: Path) -> None:
    r = cxo(home, "user", "add", "x!", "--role", "analyst", "--password-stdin", stdin="pw1234\n")
    assert (
        r.returncode == 1 and r.stderr.startswith("Error: username") and "Traceback" not in r.stderr
    )
    r = cxo(home, "user", "add", "bob", "--role", "king", "--password-stdin", stdin="pw1234\n")
    assert r.returncode == 1 and "role" in r.stderr
    r = cxo(home, "token", "create", "--user", "ghost", "--scope", "admin")
    assert r.returncode == 1 and "No user named 'ghost'" in r.stderr and "Hint:" in r.stderr
    r = cxo(home, "token", "create", "--user", "ghost", "--scope", "everything")
    assert r.returncode == 1 and "unknown scope" in r.stderr


def test_bad_setting_exits_2_naming_it(home: Path) -> None:
    r = cxo(home, "init", env={"CXO_SMTP_PORT": "abc"})
    assert r.returncode == 2 and "CXO_SMTP_PORT" in r.stderr and "Traceback" not in r.stderr


def test_debug_shows_the_traceback(home: Path) -> None:
    r = cxo(home, "--debug", "token", "create", "--user", "ghost", "--scope", "admin")
    assert r.returncode != 0 and "Traceback" in r.stderr


def test_config_masks_secrets(home: Path) -> None:
    r = cxo(
        home,
        "config",
        env={"CXO_SMTP_PASSWORD": "hunter2secret", "CXO_SECRET_KEY": "abcdefghijklmnopqrstuvwxyz"},
    )
    assert (
        r.returncode == 0 and "hunter2secret" not in r.stdout and "abcdefghijklmnop" not in r.stdout
    )
    assert "smtp_password" in r.stdout


def test_unknown_command_and_option(home: Path) -> None:
    r = cxo(home, "frobnicate")
    assert r.returncode == 2 and "No such command" in r.stderr
    r = cxo(home, "init", "--nope")
    assert r.returncode == 2 and "No such option" in r.stderr


def test_cli_speaks_chinese_when_asked(home: Path) -> None:
    r = cxo(home, "init", env={"CXO_DEFAULT_LOCALE": "zh_CN"})
    assert r.returncode == 0 and "数据库已是最新结构" in r.stdout


def test_writing_while_the_server_holds_the_file_fails_clearly(home: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
            str(home / "cxo.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        r = cxo(home, "user", "add", "x1", "--role", "viewer", "--password-stdin", stdin="pw1234\n")
        assert r.returncode == 4
        assert "in use by another cxo process" in r.stderr and "Traceback" not in r.stderr
    finally:
        holder.kill()
        holder.wait()
    r = cxo(home, "user", "list")
    assert "x1" not in r.stdout  # nothing was partly written
