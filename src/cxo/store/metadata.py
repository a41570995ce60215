"""The shared SQLAlchemy metadata and column helpers every domain's ``models.py`` uses.

IDs come from sequences rather than IDENTITY/SERIAL columns: DuckDB has no IDENTITY, and a
sequence behaves the same on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def id_column(table: str) -> sa.Column[Any]:
    """A BIGINT primary key filled from ``<table>_id_seq``."""
    seq = sa.Sequence(f"{table}_id_seq", metadata=metadata)
    return sa.Column(
        "id",
        sa.BigInteger,
        seq,
        server_default=seq.next_value(),
        primary_key=True,
        autoincrement=False,
    )


def created_at() -> sa.Column[Any]:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, default=utcnow)


def updated_at() -> sa.Column[Any]:
    return sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )


def enum_check(column: str, values: tuple[str, ...], name: str) -> sa.CheckConstraint:
    """A CHECK constraint keeping ``column`` within ``values`` (portable; no native ENUM types)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({quoted})", name=name)
