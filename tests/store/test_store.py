"""The store: migrations on DuckDB and PostgreSQL, round-trips, and clear errors."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cxo.errors import StoreLocked, StoreUnavailable
from cxo.settings import Settings
from cxo.store import migrate
from cxo.store.bootstrap import init_store
from cxo.store.engine import connect, dispose_engines
from cxo.store.tables import customers, interactions, metadata, transactions
from tests.conftest import make_settings


def test_init_is_idempotent(any_store: Settings) -> None:
    again = init_store(any_store)
    assert not again.changed
    assert again.after == migrate.head_revision()
    with connect(any_store) as conn:
        names = set(sa.inspect(conn).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names


@pytest.mark.postgres
def test_migrations_match_the_table_definitions(pg_url: str, tmp_path: Path) -> None:
    s = make_settings(tmp_path, pg_url)
    init_store(s)
    with connect(s) as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_round_trip_of_customers_interactions_transactions(any_store: Settings) -> None:
    t0 = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    with connect(any_store, write=True) as conn:
        cid = conn.execute(
            customers.insert()
            .values(
                display_name="陈小明",
                email="chen@example.cn",
                attributes={"tier": "gold"},
                created_at=t0,
                updated_at=t0,
            )
            .returning(customers.c.id)
        ).scalar_one()
        conn.execute(
            interactions.insert(),
            [
                {
                    "customer_id": cid,
                    "channel": "phone",
                    "stage": "service",
                    "started_at": t0,
                    "wait_seconds": 42.5,
                    "source_system": "cti",
                    "source_record_id": "c1",
                    "created_at": t0,
                },
                {
                    "customer_id": cid,
                    "channel": "web",
                    "stage": "engage",
                    "started_at": t0,
                    "wait_seconds": None,
                    "source_system": "web",
                    "source_record_id": "w1",
                    "created_at": t0,
                },
            ],
        )
        conn.execute(
            transactions.insert().values(
                customer_id=cid, occurred_at=t0, amount="12.34", currency="CNY", created_at=t0
            )
        )
    with connect(any_store) as conn:
        row = conn.execute(sa.select(customers).where(customers.c.id == cid)).one()
        assert row.display_name == "陈小明"
        assert row.attributes == {"tier": "gold"}
        assert row.created_at.astimezone(dt.UTC) == t0
        n = conn.execute(sa.select(sa.func.count()).select_from(interactions)).scalar_one()
        assert n == 2
        amount = conn.execute(sa.select(transactions.c.amount)).scalar_one()
        assert str(amount) == "12.34"


def test_stage_outside_the_lifecycle_is_refused(any_store: Settings) -> None:
    with pytest.raises(sa.exc.IntegrityError), connect(any_store, write=True) as conn:
        conn.execute(
            interactions.insert().values(
                channel="phone",
                stage="nonsense",
                started_at=dt.datetime.now(dt.UTC),
                created_at=dt.datetime.now(dt.UTC),
            )
        )


def test_failed_transaction_writes_nothing(any_store: Settings) -> None:
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(RuntimeError), connect(any_store, write=True) as conn:
        conn.execute(customers.insert().values(display_name="x", created_at=now, updated_at=now))
        raise RuntimeError("boom")
    with connect(any_store) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one() == 0


def test_unreachable_postgres_is_a_clear_error(tmp_path: Path) -> None:
    from tests.pgserver import free_port

    s = make_settings(tmp_path, f"postgresql+psycopg://u:secretpw@127.0.0.1:{free_port()}/x")
    with pytest.raises(StoreUnavailable) as info:
        init_store(s)
    assert "secretpw" not in info.value.message
    assert info.value.hint


HOLDER = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    con.execute("CREATE TABLE IF NOT EXISTS held(x INT)")
    print("held", flush=True)
    time.sleep(60)
    """
)


def test_duckdb_file_held_by_another_process_is_refused_at_once(tmp_path: Path) -> None:
    db = tmp_path / "home" / "cxo.duckdb"
    db.parent.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        s = make_settings(tmp_path / "home")
        with pytest.raises(StoreLocked) as info:
            init_store(s)
        assert "in use by another cxo process" in info.value.message
        assert "cxo serve" in (info.value.hint or "")
    finally:
        holder.kill()
        holder.wait()
        dispose_engines()
