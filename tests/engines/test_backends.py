"""Running the pipeline against a store: engines, inputs, write-back, audit, clear errors."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from cxo.engines import backends
from cxo.engines.pipeline import INPUTS, StoreNotReady, run_pipeline
from cxo.errors import ConfigError
from cxo.governance import audit
from cxo.governance.models import audit_log
from cxo.settings import Settings
from cxo.store.engine import connect
from tests.conftest import make_settings
from tests.engines.data import (
    assert_same_stats,
    fill_store,
    random_interactions,
    reference_stats,
    stored_stats,
)


def test_run_writes_stats_and_one_audit_entry(any_store: Settings) -> None:
    data = random_interactions(120, customers=10, seed=1)
    fill_store(any_store, data)

    result = run_pipeline(any_store, "duckdb", "tester")

    expected = reference_stats(data)
    assert result.engine == "duckdb"
    assert result.rows == len(expected)
    assert result.in_place == any_store.is_duckdb
    assert_same_stats(stored_stats(any_store), expected)
    with connect(any_store) as conn:
        entries = conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).all()
        assert audit.verify(conn).ok
    assert [(e.actor, e.action, e.object_type, e.object_id) for e in entries] == [
        ("tester", "pipeline.run", "pipeline", "customer_stage_stats")
    ]
    assert entries[0].after_state == {"engine": "duckdb", "rows": len(expected)}
    assert entries[0].before_state == {"rows": 0}


def test_a_second_run_replaces_the_rows(store: Settings) -> None:
    old = random_interactions(60, customers=5, seed=2)
    fill_store(store, old)
    first = run_pipeline(store, "duckdb", "tester")
    new = [{**r, "customer_id": None if r["customer_id"] is None else r["customer_id"] + 5}
           for r in random_interactions(40, customers=5, seed=3)]  # fmt: skip
    fill_store(store, new)
    second = run_pipeline(store, "duckdb", "tester")

    assert_same_stats(stored_stats(store), reference_stats(old + new))
    assert second.rows == len(reference_stats(old + new)) > first.rows
    with connect(store) as conn:
        befores = conn.execute(sa.select(audit_log.c.before_state).order_by(audit_log.c.id))
        assert [b for (b,) in befores] == [{"rows": 0}, {"rows": first.rows}]


def test_empty_store_gives_empty_table(store: Settings) -> None:
    assert run_pipeline(store, "duckdb", "tester").rows == 0
    assert stored_stats(store) == []


def test_duckdb_in_place_leaves_the_pooled_connection_as_it_was(store: Settings) -> None:
    # Ibis sets TimeZone=UTC on connections it adopts; the store's own connection must not change.
    with connect(store) as conn:
        raw = backends.duckdb_connection(conn)
        raw.execute("SET TimeZone = 'Asia/Shanghai'")
        with backends.open_backend(store, "duckdb", conn, INPUTS) as backend:
            assert backend.in_place
            backend.to_pyarrow(backend.tables["interactions"])
        zone = raw.execute("SELECT current_setting('TimeZone')").fetchone()
        raw.execute("RESET TimeZone")
    assert zone == ("Asia/Shanghai",)


def test_inputs_travel_with_one_schema(any_store: Settings) -> None:
    # DuckDB keeps wait_seconds as 32-bit FLOAT, PostgreSQL as double: both arrive as float64.
    fill_store(any_store, random_interactions(10, seed=4))
    with connect(any_store) as conn:
        data = backends.read_arrow(conn, "interactions", INPUTS["interactions"])
    assert data.num_rows == 10
    assert data.schema.types == [pa.int64(), pa.string(), pa.float64()]


def test_unknown_engine_is_a_config_error(store: Settings) -> None:
    with pytest.raises(ConfigError, match="Unknown analytics engine 'oracle'"):
        run_pipeline(store, "oracle", "tester")


def test_postgres_engine_on_duckdb_store_needs_a_url(store: Settings) -> None:
    with pytest.raises(ConfigError) as info:
        run_pipeline(store, "postgres", "tester")
    assert "CXO_ANALYTICS_POSTGRES_URL" in (info.value.hint or "")


def test_unreachable_analytics_postgres_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    url = f"postgresql+psycopg://cxo:secret@127.0.0.1:{port}/nowhere"
    settings = make_settings(tmp_path / "home", analytics_postgres_url=url)
    from cxo.store.bootstrap import init_store

    init_store(settings)
    with pytest.raises(backends.EngineUnavailable) as info:
        run_pipeline(settings, "postgres", "tester")
    assert "secret" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


def test_store_without_schema_says_run_init(settings: Settings) -> None:
    with pytest.raises(StoreNotReady) as info:
        run_pipeline(settings, "duckdb", "tester")
    assert "cxo init" in (info.value.hint or "")


def test_missing_pyspark_names_the_extra(store: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # import now raises ImportError
    with pytest.raises(backends.EngineUnavailable) as info:
        run_pipeline(store, "spark", "tester")
    assert "cxo[spark]" in (info.value.hint or "")
