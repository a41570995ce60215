"""`cxo export identities|customers` as CSV and Parquet; masking; audit; bad paths."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from cxo.customers.exports import ExportFailed, export_customers, export_identities
from cxo.governance.models import audit_log
from cxo.identity import service as identity
from cxo.settings import Settings
from cxo.store.engine import connect, dispose_engines
from tests.identity.seed import seed_customers
from tests.test_cli import cxo

PEOPLE = [
    [
        ("crm", "C1", {"full_name": '=HYPERLINK("x")', "email": "a@example.com"}),
        ("web", "W1", {"full_name": "A", "email": "a@example.com"}),
    ],
    [("crm", "C2", {"full_name": "李小龙", "phone": "+85291234567"})],
]


def test_identities_csv_and_parquet_agree(any_store: Settings, tmp_path: Path) -> None:
    a, b = seed_customers(any_store, PEOPLE)
    identity.merge_customers(any_store, actor="t", first=a, second=b)
    n = export_identities(any_store, tmp_path / "ids.csv", "csv", actor="t")
    m = export_identities(any_store, tmp_path / "ids.parquet", "parquet", actor="t")
    assert n == m == 3
    with (tmp_path / "ids.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    table = pq.read_table(tmp_path / "ids.parquet").to_pylist()
    assert [(r["source_system"], r["source_record_id"], int(r["customer_id"])) for r in rows] == [
        (r["source_system"], r["source_record_id"], r["customer_id"]) for r in table
    ]
    assert {r["customer_id"] for r in table} == {a}  # after the merge, every record is a's


def test_customers_export_masks_and_guards_formulas(any_store: Settings, tmp_path: Path) -> None:
    seed_customers(any_store, PEOPLE)
    assert export_customers(any_store, tmp_path / "c.csv", "csv", actor="t") == 2
    text = (tmp_path / "c.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "李小龙" in text
    export_customers(any_store, tmp_path / "m.parquet", "parquet", actor="t", mask_pii=True)
    names = pq.read_table(tmp_path / "m.parquet")["display_name"].to_pylist()
    assert "李**" in names and "李小龙" not in names
    with connect(any_store) as conn:
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert actions.count("customers.export") == 2


def test_unwritable_path_is_a_clear_error(store: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportFailed, match="Cannot write"):
        export_identities(store, blocker / "ids.csv", "csv", actor="t")


def test_cli_resolve_on_empty_store_and_exports(store: Settings, tmp_path: Path) -> None:
    dispose_engines()
    r = cxo(store.home, "resolve")
    assert r.returncode == 1 and "no customer records" in r.stderr.lower(), r.stderr
    r = cxo(store.home, "export", "identities", str(tmp_path / "ids.parquet"))
    assert r.returncode == 0 and "Wrote 0 identities" in r.stdout, r.stderr
    r = cxo(store.home, "customer", "unmerge", "5")
    assert r.returncode == 1 and "No customer with id 5" in r.stderr
