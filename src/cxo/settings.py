"""The one settings object. Nothing else in cxo reads the environment.

Every setting has a default and help text (``description``); ``tests/test_settings.py`` checks that
each one is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxo.errors import ConfigError

SECRET_KEY_FILE = "secret_key"  # noqa: S105  (a file name)


class Settings(BaseSettings):
    """cxo settings, read from ``CXO_*`` environment variables (or a ``.env`` file)."""

    model_config = SettingsConfigDict(
        env_prefix="CXO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(
        default=Path("./cxo-data"),
        description="Data folder: the embedded database, the generated secret key, exports.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store. Default: a DuckDB file `cxo.duckdb` in CXO_HOME. "
            "For a team server: postgresql+psycopg://user:password@host:5432/cxo"
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs session and CSRF tokens. If unset, one is generated on first run "
            "and kept in CXO_HOME/secret_key (mode 0600)."
        ),
    )
    default_locale: Literal["en", "zh_CN"] = Field(
        default="en", description="Language for users who have not chosen one: en or zh_CN."
    )
    smtp_host: str = Field(default="localhost", description="SMTP server host for outgoing e-mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = Field(
        default=None, description="SMTP user name, if the server needs one."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(
        default=False, description="Upgrade the SMTP connection with STARTTLS."
    )
    smtp_sender: str = Field(
        default="cxo@localhost", description="From address of the e-mails cxo sends."
    )
    session_hours: int = Field(
        default=12, ge=1, le=24 * 30, description="How long a web login lasts, in hours."
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=500,
        description="PostgreSQL connections each cxo process keeps open (the web server's "
        "threads share them); as many again may be opened for bursts.",
    )
    max_request_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        description="Largest request body the web app accepts; larger ones get HTTP 413.",
    )
    spark_master: str = Field(
        default="local[2]",
        description="Spark master URL for `--engine spark` (local mode by default).",
    )
    analytics_postgres_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL URL that `--engine postgres` computes on when the store itself is DuckDB. "
            "Default: the store, if it is PostgreSQL."
        ),
    )
    source_trust: str = Field(
        default="crm,branch,web,cti",
        description=(
            "Source systems from most to least trusted, comma-separated; golden records take "
            "'trusted' fields from the first source that has a value."
        ),
    )
    survivorship_file: Path | None = Field(
        default=None,
        description=(
            "YAML file of survivorship rules per golden-record field (trusted, recent or "
            "frequent); fields it does not name keep the defaults in docs/customer-360.md."
        ),
    )
    import_max_bytes: int = Field(
        default=4 * 1024**3,
        ge=1,
        description="Largest file `cxo import` accepts, in bytes (default 4 GiB); larger files "
        "are refused before anything is read.",
    )
    import_batch_rows: int = Field(
        default=65_536,
        ge=1,
        le=1_000_000,
        description="Rows an import reads, checks and stages at a time (memory stays bounded).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8765",
        max_length=300,
        description="The address respondents reach cxo at; survey links in e-mails start with it.",
    )
    survey_link_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Days a survey invitation link stays valid (a wave can set its own).",
    )
    survey_contact_cap_days: int = Field(
        default=30,
        ge=0,
        le=3650,
        description="No customer is invited to any survey more than once in this many days "
        "(0 = no cap).",
    )
    voc_include_flagged: bool = Field(
        default=False,
        description="Analyses and response exports include responses flagged for data quality "
        "(straight-lining, speeding, inconsistency, duplicates); off by default.",
    )
    telemetry: bool = Field(
        default=False,
        description="Let FastAPI report each web request to OpenTelemetry (traces, metrics, logs) "
        "when an OpenTelemetry SDK is configured in the process; off by default, since the check "
        "alone costs every request.",
    )
    survey_start_limit: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Anonymous survey starts allowed per client address per 10 minutes "
        "(public links; bot protection).",
    )

    @field_validator("database_url", "analytics_postgres_url")
    @classmethod
    def _check_url(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        if not (v.startswith("duckdb:///") or v.startswith("postgresql")):
            raise ValueError(
                f"must start with duckdb:/// or postgresql+psycopg:// (got {v.split(':', 1)[0]!r})"
            )
        return v

    # -- derived values -------------------------------------------------------------------

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return _duckdb_url(self.home, os.getcwd() if not self.home.is_absolute() else "")

    @property
    def is_duckdb(self) -> bool:
        return self.effective_database_url.startswith("duckdb")

    def ensure_home(self) -> Path:
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"Cannot create the data folder {self.home}: {exc.strerror}",
                hint="Set CXO_HOME to a folder you can write to.",
            ) from exc
        return self.home

    def get_secret_key(self) -> str:
        """Return the signing key, generating and storing one in CXO_HOME on first use."""
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
            if len(key) < 16:
                raise ConfigError(
                    "CXO_SECRET_KEY is too short (fewer than 16 characters).",
                    hint="Unset it to let cxo generate one, or use a long random value.",
                )
            return key
        path = self.ensure_home() / SECRET_KEY_FILE
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key)
        return key

    def masked(self) -> dict[str, Any]:
        """Effective settings for display, with secrets and URL passwords masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif name.endswith("_url") and isinstance(value, str):
                value = mask_url(value)
            out[name] = value if value is None else str(value)
        out["database_url (effective)"] = mask_url(self.effective_database_url)
        return out


def mask_url(url: str) -> str:
    """Hide the password of a database URL."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:********@{host}"


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, turning validation errors into one clear line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(
            f"Setting CXO_{loc.upper()} is invalid: {first['msg']}",
            hint="Fix the environment variable (see docs/configuration.md) or unset it.",
        ) from None


@functools.cache
def get_settings() -> Settings:
    return load_settings()


@functools.lru_cache(maxsize=64)
def _duckdb_url(home: Path, cwd: str) -> str:
    """The store file's URL (``cwd`` only keys the cache for a relative home). Cached: resolving
    the path costs a ``lstat`` per component, and every connection asks for it."""
    return f"duckdb:///{(home / 'cxo.duckdb').resolve()}"
