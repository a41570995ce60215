"""Exports to the user's tools: identities (source record -> customer) and golden records.

Both stream in batches (CSV as UTF-8 with BOM and formula-safe cells, or Parquet) and write one
audit entry saying who exported what, and whether personal data was masked.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

from cxo.customers.models import customers, identity_links, source_records
from cxo.customers.schemas import mask_email, mask_name, mask_phone
from cxo.errors import CxoError
from cxo.governance import audit
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.web.export import csv_cell

BATCH = 50_000

IDENTITY_SCHEMA = pa.schema(
    [
        ("source_system", pa.string()),
        ("source_record_id", pa.string()),
        ("customer_id", pa.int64()),
        ("method", pa.string()),
        ("match_weight", pa.float64()),
    ]
)

CUSTOMER_COLUMNS = (
    "id",
    "display_name",
    "given_name",
    "family_name",
    "name_latin",
    "email",
    "phone_e164",
    "birth_date",
    "gender",
    "city",
    "country",
    "segment",
    "created_at",
    "updated_at",
)


class ExportFailed(CxoError):
    exit_code = 2


def _identity_batches(settings: Settings) -> Iterator[pa.RecordBatch]:
    sr, link = source_records, identity_links
    last = 0
    while True:
        with connect(settings) as conn:
            rows = conn.execute(
                sa.select(
                    sr.c.id,
                    sr.c.source_system,
                    sr.c.source_record_id,
                    link.c.customer_id,
                    link.c.method,
                    link.c.match_weight,
                )
                .select_from(
                    sr.outerjoin(link, sa.and_(link.c.source_record_pk == sr.c.id, link.c.active))
                )
                .where(sr.c.id > last)
                .order_by(sr.c.id)
                .limit(BATCH)
            ).all()
        if not rows:
            return
        last = int(rows[-1][0])
        cols = list(zip(*(r[1:] for r in rows), strict=True))
        yield pa.record_batch(
            [pa.array(list(c), f.type) for c, f in zip(cols, IDENTITY_SCHEMA, strict=True)],
            schema=IDENTITY_SCHEMA,
        )


def _customer_batches(settings: Settings, mask_pii: bool) -> Iterator[pa.RecordBatch]:
    last = 0
    while True:
        with connect(settings) as conn:
            rows = conn.execute(
                sa.select(*(customers.c[c] for c in CUSTOMER_COLUMNS))
                .where(customers.c.merged_into_id.is_(None), customers.c.id > last)
                .order_by(customers.c.id)
                .limit(BATCH)
            ).all()
        if not rows:
            return
        last = int(rows[-1][0])
        data: dict[str, list[Any]] = {
            c: [r[i] for r in rows] for i, c in enumerate(CUSTOMER_COLUMNS)
        }
        if mask_pii:
            for field, fn in (
                ("display_name", mask_name),
                ("given_name", mask_name),
                ("family_name", mask_name),
                ("name_latin", mask_name),
                ("email", mask_email),
                ("phone_e164", mask_phone),
            ):
                data[field] = [fn(v) for v in data[field]]
            data["birth_date"] = [None] * len(rows)
        yield pa.RecordBatch.from_pydict(data, schema=_customer_schema())


def _customer_schema() -> pa.Schema:
    from cxo.engines.backends import arrow_type

    return pa.schema([(c, arrow_type(customers.c[c].type)) for c in CUSTOMER_COLUMNS])


def _write(path: Path, fmt: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> int:
    n = 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "parquet":
            with pq.ParquetWriter(path, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)
                    n += batch.num_rows
            return n
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            writer_csv = csv.writer(fh)
            writer_csv.writerow(schema.names)
            for batch in batches:
                for row in zip(*(c.to_pylist() for c in batch.columns), strict=True):
                    writer_csv.writerow([csv_cell(v) for v in row])
                n += batch.num_rows
    except OSError as exc:
        raise ExportFailed(f"Cannot write {path}: {exc.strerror or exc}") from None
    return n


def _audit(settings: Settings, actor: str, what: str, fmt: str, n: int, masked: bool) -> None:
    with connect(settings, write=True) as conn:
        audit.record(
            conn,
            actor=actor,
            action=f"{what}.export",
            object_type=what,
            after={"format": fmt, "rows": n, "pii_masked": masked},
        )


def export_identities(settings: Settings, path: Path, fmt: str, *, actor: str) -> int:
    """Write every source record with its customer; returns the number of rows."""
    n = _write(path, fmt, IDENTITY_SCHEMA, _identity_batches(settings))
    _audit(settings, actor, "identities", fmt, n, False)
    return n


def export_customers(
    settings: Settings, path: Path, fmt: str, *, actor: str, mask_pii: bool = False
) -> int:
    """Write every live golden record; returns the number of rows."""
    n = _write(path, fmt, _customer_schema(), _customer_batches(settings, mask_pii))
    _audit(settings, actor, "customers", fmt, n, mask_pii)
    return n
