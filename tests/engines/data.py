"""Test data for the pipeline: random interactions, loading them into a store, a pandas reference."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from cxo.customers.models import customers
from cxo.engines.models import customer_stage_stats
from cxo.interactions.models import CHANNELS, STAGES, interactions
from cxo.settings import Settings
from cxo.store.engine import connect

Row = tuple[int, str, int, float | None]  # customer_id, stage, n_interactions, median


def random_interactions(n: int, *, customers: int = 25, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` interactions over ``customers`` customers, some without customer or wait.

    Waits are whole quarter seconds: exactly representable in the 32-bit FLOAT that a DuckDB
    store keeps ``wait_seconds`` in, so a DuckDB and a PostgreSQL store hold the same values.
    """
    rng = np.random.default_rng(seed)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        customer = None if rng.random() < 0.05 else int(rng.integers(1, customers + 1))
        wait = None if rng.random() < 0.15 else float(rng.integers(0, 7200)) / 4
        rows.append(
            {
                "customer_id": customer,
                "stage": STAGES[int(rng.integers(0, len(STAGES)))],
                "channel": CHANNELS[int(rng.integers(0, len(CHANNELS)))],
                "started_at": start + dt.timedelta(minutes=17 * i),
                "wait_seconds": wait,
            }
        )
    return rows


def fill_store(settings: Settings, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the customers ``rows`` refer to, then the rows, into an initialised store."""
    ids = sorted({r["customer_id"] for r in rows if r["customer_id"] is not None})
    with connect(settings, write=True) as conn:
        if ids:
            conn.execute(customers.insert(), [{"id": i} for i in ids])
        conn.execute(interactions.insert().values(list(rows)))


def reference_stats(rows: Sequence[dict[str, Any]]) -> list[Row]:
    """The expected pipeline output by pandas: groupby size and median (NaN skipped)."""
    df = pd.DataFrame(list(rows), columns=["customer_id", "stage", "wait_seconds"])
    df = df.astype({"wait_seconds": "float64"})
    df = df[df["customer_id"].notna()].astype({"customer_id": "int64"})
    grouped = df.groupby(["customer_id", "stage"])["wait_seconds"].agg(["size", "median"])
    return sorted(
        (int(c), str(s), int(size), None if math.isnan(med) else float(med))
        for (c, s), size, med in zip(grouped.index, grouped["size"], grouped["median"], strict=True)
    )


def stored_stats(settings: Settings) -> list[Row]:
    """The rows of ``customer_stage_stats`` in the store, sorted."""
    t = customer_stage_stats
    with connect(settings) as conn:
        result = conn.execute(
            sa.select(t.c.customer_id, t.c.stage, t.c.n_interactions, t.c.median_wait_seconds)
        ).all()
    return sorted(
        (int(c), str(s), int(n), None if m is None else float(m)) for c, s, n, m in result
    )


def assert_same_stats(actual: Sequence[Row], expected: Sequence[Row]) -> None:
    """Equal keys and counts; medians equal to 1e-9 (engines round interpolation differently)."""
    assert [r[:3] for r in actual] == [r[:3] for r in expected]
    for got, want in zip(actual, expected, strict=True):
        if want[3] is None:
            assert got[3] is None, got
        else:
            assert got[3] is not None, got
            assert math.isclose(got[3], want[3], rel_tol=1e-9, abs_tol=1e-9), (got, want)
