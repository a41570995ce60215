"""The pure pipeline expression: hand-computed values, a pandas oracle, exact median per dialect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxo.engines.pipeline import INPUTS, build, customer_stage_stats
from cxo.interactions.models import STAGES
from tests.engines.data import Row, assert_same_stats, reference_stats

SCHEMA = pa.schema(
    [("customer_id", pa.int64()), ("stage", pa.string()), ("wait_seconds", pa.float64())]
)


@pytest.fixture(scope="module")
def con() -> Iterator[Any]:
    backend = ibis.duckdb.connect()
    yield backend
    backend.disconnect()


def run(con: Any, rows: list[dict[str, Any]]) -> list[Row]:
    table = ibis.memtable(pa.Table.from_pylist(rows, schema=SCHEMA))
    result = con.to_pyarrow(customer_stage_stats(table)).to_pylist()
    return sorted(
        (r["customer_id"], r["stage"], r["n_interactions"], r["median_wait_seconds"])
        for r in result
    )


def rows(*values: tuple[int | None, str, float | None]) -> list[dict[str, Any]]:
    return [{"customer_id": c, "stage": s, "wait_seconds": w} for c, s, w in values]


def test_hand_computed_counts_and_medians(con: Any) -> None:
    data = rows(
        # odd count: the middle value
        (1, "engage", 10.0), (1, "engage", 30.0), (1, "engage", 20.0),
        # even count: the mean of the two middle values
        (1, "service", 8.0), (1, "service", 1.0), (1, "service", 4.0), (1, "service", 2.0),
        # a null wait is counted but left out of the median: median of 5 and 7
        (2, "engage", 5.0), (2, "engage", None), (2, "engage", 7.0),
        # no wait recorded at all: null median
        (2, "fulfil", None), (2, "fulfil", None),
        # one interaction
        (3, "transact", 0.5),
        # no customer: left out entirely
        (None, "transact", 99.0), (None, "engage", None),
    )  # fmt: skip
    assert run(con, data) == [
        (1, "engage", 3, 20.0),
        (1, "service", 4, 3.0),
        (2, "engage", 3, 6.0),
        (2, "fulfil", 2, None),
        (3, "transact", 1, 0.5),
    ]


def test_no_rows_gives_no_groups(con: Any) -> None:
    assert run(con, []) == []
    assert run(con, rows((None, "engage", 1.0))) == []


def test_output_schema() -> None:
    table = ibis.table(
        {"customer_id": "int64", "stage": "string", "wait_seconds": "float32"}, name="interactions"
    )
    out = build({"interactions": table})
    assert dict(out.schema().items()) == {
        "customer_id": ibis.dtype("int64"),
        "stage": ibis.dtype("string"),
        "n_interactions": ibis.dtype("int64"),
        "median_wait_seconds": ibis.dtype("float64"),
    }
    assert set(INPUTS["interactions"]) <= set(table.columns)


interaction = st.fixed_dictionaries(
    {
        "customer_id": st.one_of(st.none(), st.integers(1, 6)),
        "stage": st.sampled_from(STAGES),
        "wait_seconds": st.one_of(
            st.none(), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)
        ),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(interaction, max_size=60))
def test_matches_pandas_groupby_median(con: Any, data: list[dict[str, Any]]) -> None:
    assert_same_stats(run(con, data), reference_stats(data))


def expr_sql(dialect: str) -> str:
    table = ibis.table(
        {"customer_id": "int64", "stage": "string", "wait_seconds": "float64"}, name="interactions"
    )
    return ibis.to_sql(customer_stage_stats(table), dialect=dialect).lower()


def test_median_is_exact_on_duckdb_and_postgres() -> None:
    assert "quantile_cont(" in expr_sql("duckdb")
    assert "approx" not in expr_sql("duckdb")
    assert "percentile_cont(0.5) within group" in expr_sql("postgres")


def test_median_is_exact_on_spark() -> None:
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    assert ibis.pyspark is not None  # loads the backend, which registers the dialect's options
    sql = expr_sql("pyspark")
    assert "percentile(" in sql
    assert "percentile_approx" not in sql and "approx_percentile" not in sql
