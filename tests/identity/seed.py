"""Seed a store with resolved customers directly (no engine), for tests of what sits on top."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from cxo.customers.models import customers, identity_links, source_records
from cxo.identity.service import refresh_golden
from cxo.settings import Settings
from cxo.store.engine import connect

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def add_record(conn: Any, system: str, rid: str, fields: dict[str, Any]) -> int:
    payload = {"source_record_id": rid, **fields}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return int(
        conn.execute(
            source_records.insert()
            .values(
                source_system=system,
                source_record_id=rid,
                payload=payload,
                payload_hash=hashlib.sha256(text.encode()).hexdigest(),
                created_at=T0,
                updated_at=T0,
            )
            .returning(source_records.c.id)
        ).scalar_one()
    )


def seed_customers(
    settings: Settings, people: list[list[tuple[str, str, dict[str, Any]]]]
) -> list[int]:
    """One customer per entry of ``people``; each holds (system, record id, fields) records."""
    ids = []
    with connect(settings, write=True) as conn:
        for records in people:
            cid = int(
                conn.execute(
                    customers.insert()
                    .values(created_at=T0, updated_at=T0)
                    .returning(customers.c.id)
                ).scalar_one()
            )
            ids.append(cid)
            for system, rid, fields in records:
                pk = add_record(conn, system, rid, fields)
                conn.execute(
                    identity_links.insert().values(
                        source_record_pk=pk,
                        customer_id=cid,
                        method="deterministic",
                        explanation={"keys": ["email"]},
                        active=True,
                        created_at=T0,
                    )
                )
        refresh_golden(conn, settings, set(ids))
    return ids
