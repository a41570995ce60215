"""Users, roles, sessions, API tokens and the hash-chained audit log."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, enum_check, id_column, metadata, updated_at

ROLES = ("admin", "analyst", "agent", "viewer")

users = sa.Table(
    "users",
    metadata,
    id_column("users"),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200)),
    sa.Column("email", sa.String(320)),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("locale", sa.String(10)),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("last_login_at", sa.DateTime(timezone=True)),
    created_at(),
    updated_at(),
    enum_check("role", ROLES, "role"),
)

web_sessions = sa.Table(
    "web_sessions",
    metadata,
    id_column("web_sessions"),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    created_at(),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    id_column("api_tokens"),
    sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("name", sa.String(100)),
    sa.Column("prefix", sa.String(16), nullable=False, comment="First characters, to recognise it"),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    created_at(),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    id_column("audit_log"),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("action", sa.String(100), nullable=False),
    sa.Column("object_type", sa.String(50), nullable=False),
    sa.Column("object_id", sa.String(100)),
    sa.Column("before_state", sa.JSON),
    sa.Column("after_state", sa.JSON),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
)

# The audit chain's head: one row per store, updated in the same transaction as each append.
# Holding a row lock on it serialises appends on PostgreSQL so the chain never forks.
audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("last_id", sa.BigInteger, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("entries", sa.BigInteger, nullable=False),
)
