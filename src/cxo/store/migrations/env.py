"""Alembic environment: runs on the connection cxo hands it (see cxo.store.migrate)."""

from __future__ import annotations

from alembic import context

import cxo.store.migrate  # noqa: F401  (registers Alembic's duckdb dialect support)
from cxo.store.tables import metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("cxo runs migrations through `cxo init`, which passes a connection")
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=False)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline migrations are not supported; run `cxo init`")
run_migrations_online()
