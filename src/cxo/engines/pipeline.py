"""The batch analytics pipeline: pure Ibis expressions, and a small runner around them.

The expressions (:func:`customer_stage_stats`, :func:`build`) do no I/O; they run unchanged on
DuckDB, PostgreSQL and Spark. :func:`run_pipeline` gets the inputs to an engine
(:mod:`cxo.engines.backends`), executes, and replaces the store table ``customer_stage_stats``
with the result, with one audit entry.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import ibis
import pyarrow as pa
import sqlalchemy as sa

from cxo.engines import backends
from cxo.engines.models import customer_stage_stats as stats_table
from cxo.errors import CxoError
from cxo.governance import audit
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.metadata import utcnow

INPUTS: Final[Mapping[str, tuple[str, ...]]] = {
    "interactions": ("customer_id", "stage", "wait_seconds"),
}
"""The store columns the pipeline reads; engines that need a copy get only these."""

OUTPUT: Final = "customer_stage_stats"


def customer_stage_stats(interactions: ibis.Table) -> ibis.Table:
    """Count interactions and take the median wait, per customer and lifecycle stage.

    Parameters
    ----------
    interactions
        Rows with at least ``customer_id`` (int), ``stage`` (str) and ``wait_seconds`` (float).

    Returns
    -------
    ibis.Table
        One row per (``customer_id``, ``stage``) that has interactions, with

        - ``n_interactions``: number of interactions, including those without a recorded wait;
        - ``median_wait_seconds``: the exact sample median of the recorded waits, or null when
          none was recorded. Null waits are left out, as SQL aggregates do.

        Interactions without a ``customer_id`` (not yet matched to a customer) are left out.

    Notes
    -----
    The median is the sample quantile of Hyndman & Fan (1996), definition 7, at p = 0.5: the
    middle value for an odd count, the mean of the two middle values for an even count. Ibis
    compiles ``median()`` to an exact aggregate on each engine: DuckDB ``quantile_cont(x, 0.5)``,
    PostgreSQL ``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)``, Spark ``percentile(x, 0.5)``.
    (``approx_median()`` would not do: it is approximate on Spark and DuckDB.) The three
    interpolate with algebraically equal but differently rounded formulas, so results agree to
    a few units in the last place, not bit for bit.

    Waits are cast to float64 first: a DuckDB store keeps ``wait_seconds`` as a 32-bit FLOAT,
    whose median DuckDB would otherwise interpolate in 32-bit arithmetic.

    References
    ----------
    Hyndman, R. J. and Fan, Y. (1996). Sample quantiles in statistical packages.
    *The American Statistician* 50(4), 361-365.
    """
    known = interactions.filter(interactions.customer_id.notnull())
    wait = known.wait_seconds.cast("float64")
    return known.group_by("customer_id", "stage").aggregate(
        n_interactions=known.count(),
        median_wait_seconds=wait.median(),
    )


def build(tables: Mapping[str, ibis.Table]) -> ibis.Table:
    """The pipeline's output expression, from its input tables (:data:`INPUTS`)."""
    return customer_stage_stats(tables["interactions"])


# -- runner -------------------------------------------------------------------------------------


class StoreNotReady(CxoError):
    """The store lacks the tables the pipeline reads or writes."""


@dataclass(frozen=True)
class PipelineRun:
    """What a run did: the engine, rows written to ``customer_stage_stats``, wall time."""

    engine: str
    rows: int
    seconds: float
    in_place: bool
    """True when the engine computed on the store itself; False when the inputs were copied."""


def _check_schema(conn: sa.Connection) -> None:
    inspector = sa.inspect(conn)
    missing = [t for t in (*INPUTS, OUTPUT) if not inspector.has_table(t)]
    if missing:
        raise StoreNotReady(
            f"The store has no table {missing[0]!r}.",
            hint="Run `cxo init` to create or upgrade the store.",
        )


def run_pipeline(settings: Settings, engine: str, actor: str) -> PipelineRun:
    """Run the pipeline on ``engine`` and replace ``customer_stage_stats`` with its result.

    Inputs are read and the result computed in one (read) transaction; the result is written,
    with one ``pipeline.run`` audit entry, in a second, short write transaction.
    """
    name = backends.check_engine(engine)
    started = time.perf_counter()
    # Spark takes ~20 s to start; do it before holding a transaction open.
    backends.warm_up(settings, name)
    with connect(settings) as conn:
        _check_schema(conn)
        with backends.open_backend(settings, name, conn, INPUTS) as backend:
            result = backend.to_pyarrow(build(backend.tables))
            in_place = backend.in_place
    rows = _stamp(result, engine=name)
    with connect(settings, write=True) as conn:
        before = backends.replace_rows(conn, stats_table, rows)
        audit.record(
            conn,
            actor=actor,
            action="pipeline.run",
            object_type="pipeline",
            object_id=OUTPUT,
            before={"rows": before},
            after={"engine": name, "rows": rows.num_rows},
        )
    return PipelineRun(
        engine=name,
        rows=rows.num_rows,
        seconds=time.perf_counter() - started,
        in_place=in_place,
    )


def _stamp(result: pa.Table, *, engine: str) -> pa.Table:
    """Shape an engine's result as ``customer_stage_stats`` rows, stamped with time and engine."""
    schema = backends.arrow_schema(
        stats_table, ["customer_id", "stage", "n_interactions", "median_wait_seconds"]
    )
    # Engines differ in declared nullability (a group key is never null); the store's wins.
    data = pa.table([result[f.name].cast(f.type) for f in schema], schema=schema)
    n = data.num_rows
    computed_at = pa.scalar(utcnow(), type=pa.timestamp("us", tz="UTC"))
    data = data.append_column("computed_at", pa.repeat(computed_at, n))
    return data.append_column("engine", pa.repeat(pa.scalar(engine, type=pa.string()), n))
