"""Fixtures for the analytics seam: one SparkSession for the whole test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxo.engines import backends
from tests.conftest import make_settings

SPARK_LITTER = ("spark-warehouse", "metastore_db", "derby.log")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The process's SparkSession (start-up ~20 s), shared by every Spark test, then stopped."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    before = {name for name in SPARK_LITTER if Path(name).exists()}
    settings = make_settings(tmp_path_factory.mktemp("spark") / "home")
    session = backends.spark_session(settings)
    yield session
    backends.stop_spark()
    # Spark must keep its warehouse and Derby files in its scratch folder, not in the checkout.
    assert {name for name in SPARK_LITTER if Path(name).exists()} == before
