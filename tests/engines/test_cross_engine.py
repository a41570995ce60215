"""One pipeline, the same answer on every engine and store (DuckDB, PostgreSQL, Spark)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxo.engines.pipeline import run_pipeline
from cxo.settings import Settings
from cxo.store.bootstrap import init_store
from tests.conftest import make_settings
from tests.engines.data import (
    assert_same_stats,
    fill_store,
    random_interactions,
    reference_stats,
    stored_stats,
)

DATA = random_interactions(400, customers=30, seed=20261122)

postgres = pytest.mark.postgres
spark = [pytest.mark.spark, pytest.mark.slow]


def make_store(request: pytest.FixtureRequest, tmp_path: Path, kind: str, **kw: object) -> Settings:
    url = request.getfixturevalue("pg_url") if kind == "postgres" else None
    settings = make_settings(tmp_path / f"home-{kind}", url, **kw)
    init_store(settings)
    fill_store(settings, DATA)
    return settings


def test_data_exercises_the_edge_cases() -> None:
    counts = [n for _, _, n, _ in reference_stats(DATA)]
    assert any(n % 2 for n in counts) and any(n % 2 == 0 for n in counts)
    assert any(r["customer_id"] is None for r in DATA)
    assert any(r["wait_seconds"] is None for r in DATA)


@pytest.mark.parametrize(
    ("store_kind", "engine"),
    [
        pytest.param("duckdb", "duckdb", id="duckdb-store/duckdb"),
        pytest.param("duckdb", "postgres", marks=postgres, id="duckdb-store/postgres"),
        pytest.param("duckdb", "spark", marks=spark, id="duckdb-store/spark"),
        pytest.param("postgres", "duckdb", marks=postgres, id="postgres-store/duckdb"),
        pytest.param("postgres", "postgres", marks=postgres, id="postgres-store/postgres"),
        pytest.param("postgres", "spark", marks=[postgres, *spark], id="postgres-store/spark"),
    ],
)
def test_engine_matches_reference(
    request: pytest.FixtureRequest, tmp_path: Path, store_kind: str, engine: str
) -> None:
    if engine == "spark":
        request.getfixturevalue("spark")
    extra = {}
    if store_kind == "duckdb" and engine == "postgres":
        extra["analytics_postgres_url"] = request.getfixturevalue("pg_url")
    settings = make_store(request, tmp_path, store_kind, **extra)

    result = run_pipeline(settings, engine, "tester")

    expected = reference_stats(DATA)
    assert result.rows == len(expected)
    assert_same_stats(stored_stats(settings), expected)


@pytest.mark.postgres
@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_postgres_and_spark_agree(
    request: pytest.FixtureRequest, tmp_path: Path, spark: object
) -> None:
    """The same interactions through DuckDB, PostgreSQL and Spark give the same table."""
    duck = make_store(request, tmp_path, "duckdb")
    pg = make_store(request, tmp_path, "postgres")

    results = {}
    for name, settings, engine in [
        ("duckdb", duck, "duckdb"),
        ("postgres", pg, "postgres"),
        ("spark", duck, "spark"),
    ]:
        run = run_pipeline(settings, engine, "tester")
        assert run.engine == engine
        results[name] = stored_stats(settings)

    assert len(results["duckdb"]) > 50
    assert_same_stats(results["postgres"], results["duckdb"])
    assert_same_stats(results["spark"], results["duckdb"])


@pytest.mark.spark
@pytest.mark.slow
def test_spark_cluster_path_ships_rows_with_the_plan(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    spark: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Off local mode, inputs go by createDataFrame (executors cannot read our scratch files)."""
    from cxo.engines import backends

    monkeypatch.setattr(backends, "_spark_is_local", lambda master: False)
    settings = make_store(request, tmp_path, "duckdb")

    run_pipeline(settings, "spark", "tester")

    assert_same_stats(stored_stats(settings), reference_stats(DATA))
