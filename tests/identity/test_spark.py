"""The same model on Spark gives the same clusters as on DuckDB (skipped without Java)."""

from __future__ import annotations

import pytest

from cxo.identity.engine import Resolution, resolve
from cxo.identity.worldmap import World

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_spark_matches_duckdb(small_world: World, small_resolution: Resolution,
                              spark_session: object) -> None:  # fmt: skip
    records = small_world.records.slice(0, 400)
    duck = resolve(records, model=small_resolution.model)
    spark = resolve(records, model=small_resolution.model, engine="spark", spark=spark_session)
    assert spark.stats["engine"] == "spark"
    assert spark.assignments["cluster"].equals(duck.assignments["cluster"])
    assert spark.assignments["method"].equals(duck.assignments["method"])
