"""Fixtures for import tests: store snapshots to prove a re-import changes nothing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cxo.settings import Settings
from cxo.store.engine import connect

# Tables an import writes (besides its own bookkeeping: imports, import_quarantine, audit).
DATA_TABLES = ("source_records", "interactions", "transactions", "surveys", "responses", "answers")


def snapshot(settings: Settings) -> dict[str, Any]:
    """Every row of the data tables, in id order (timestamps included)."""
    out: dict[str, Any] = {}
    with connect(settings) as conn:
        for table in DATA_TABLES:
            rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
            out[table] = [tuple(str(v) for v in r) for r in rows]
    return out


def count(settings: Settings, table: str, where: str = "TRUE", **params: Any) -> int:
    with connect(settings) as conn:
        return int(
            conn.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {where}"),
                params,
            ).scalar_one()
        )
