"""Settings: defaults, validation errors as one clear line, secret handling, documentation."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from cxo.errors import ConfigError
from cxo.settings import Settings, load_settings, mask_url

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_point_at_a_duckdb_file_in_home(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    assert s.is_duckdb
    assert s.effective_database_url == f"duckdb:///{(tmp_path / 'cxo.duckdb').resolve()}"
    assert s.default_locale == "en"


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CXO_HOME", str(tmp_path))
    monkeypatch.setenv("CXO_DEFAULT_LOCALE", "zh_CN")
    monkeypatch.setenv("CXO_DATABASE_URL", "postgresql+psycopg://u:pw@db:5432/cxo")
    s = load_settings(_env_file=None)
    assert s.home == tmp_path
    assert s.default_locale == "zh_CN"
    assert not s.is_duckdb


@pytest.mark.parametrize(
    ("var", "value", "fragment"),
    [
        ("CXO_SMTP_PORT", "not-a-port", "CXO_SMTP_PORT"),
        ("CXO_SMTP_PORT", "70000", "CXO_SMTP_PORT"),
        ("CXO_DEFAULT_LOCALE", "fr", "CXO_DEFAULT_LOCALE"),
        ("CXO_DATABASE_URL", "mysql://x", "CXO_DATABASE_URL"),
        ("CXO_SESSION_HOURS", "0", "CXO_SESSION_HOURS"),
    ],
)
def test_malformed_settings_give_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)
    assert fragment in info.value.message
    assert "\n" not in info.value.message
    assert info.value.hint


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    s = Settings(home=tmp_path / "h", _env_file=None)  # type: ignore[call-arg]
    key = s.get_secret_key()
    assert len(key) >= 32
    path = tmp_path / "h" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(home=tmp_path / "h", _env_file=None).get_secret_key() == key  # type: ignore[call-arg]


def test_short_explicit_secret_is_refused(tmp_path: Path) -> None:
    s = Settings(home=tmp_path, secret_key="short", _env_file=None)  # type: ignore[arg-type,call-arg]
    with pytest.raises(ConfigError):
        s.get_secret_key()


def test_masked_settings_hide_secrets_and_passwords(tmp_path: Path) -> None:
    s = Settings(
        home=tmp_path,
        secret_key="a-very-secret-value-1234",  # type: ignore[arg-type]
        smtp_password="smtp-pass",  # type: ignore[arg-type]
        database_url="postgresql+psycopg://cxo:hunter2@db/cxo",
        _env_file=None,  # type: ignore[call-arg]
    )
    shown = repr(s.masked())
    for secret in ("a-very-secret-value-1234", "smtp-pass", "hunter2"):
        assert secret not in shown
    assert (
        mask_url("postgresql+psycopg://cxo:hunter2@db/cxo")
        == "postgresql+psycopg://cxo:********@db/cxo"
    )


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(CXO_[A-Z_]+)`", doc))
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no help text"
        assert f"CXO_{name.upper()}" in documented, f"CXO_{name.upper()} missing from docs"
