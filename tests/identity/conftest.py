"""A small demo world generated in memory, resolved once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cxo.identity.engine import Resolution, resolve
from cxo.identity.worldmap import World, world_from_tables
from cxo.synth.world import SynthConfig, chunks, generate_chunk


@pytest.fixture(scope="session")
def small_world() -> World:
    """About 2,000 persons (≈5,600 source records) of the demo bank, seed 7."""
    config = SynthConfig(customers=2000, seed=7, weeks=8)
    (ctx,) = chunks(config)
    return world_from_tables(generate_chunk(config, ctx))


@pytest.fixture(scope="session")
def small_resolution(small_world: World) -> Resolution:
    return resolve(small_world.records)


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """cxo's SparkSession (skipped without PySpark/Java), stopped at the end."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    from cxo.engines import backends
    from tests.conftest import make_settings

    try:
        session = backends.spark_session(make_settings(tmp_path_factory.mktemp("spark") / "home"))
    except Exception as exc:  # no Java: skip rather than fail
        pytest.skip(f"Spark cannot start here: {exc}")
    yield session
    backends.stop_spark()
