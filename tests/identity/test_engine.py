"""The engine end to end on a small demo world: contract, constraints, bad input, determinism."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxo.identity.engine import (
    ASSIGNMENT_SCHEMA,
    RECORD_COLUMNS,
    Resolution,
    resolve,
    resolve_incremental,
)
from cxo.identity.evaluate import pairwise
from cxo.identity.worldmap import World


def _f1(res: Resolution, world: World) -> float:
    truth = dict(
        zip(world.truth["record_pk"].to_pylist(), world.truth["person_id"].to_pylist(), strict=True)
    )
    pks = res.assignments["record_pk"].to_pylist()
    return pairwise(res.assignments["cluster"].to_numpy(), [truth[p] for p in pks])["f1"]


def test_contract_and_quality(small_world: World, small_resolution: Resolution) -> None:
    res = small_resolution
    a = res.assignments
    assert a.schema == ASSIGNMENT_SCHEMA
    assert a.num_rows == small_world.records.num_rows
    assert a["record_pk"].to_pylist() == sorted(small_world.records["record_pk"].to_pylist())
    # cluster id = smallest record_pk in the cluster
    smallest = pc.min(a["record_pk"]).as_py()
    groups = a.group_by("cluster").aggregate([("record_pk", "min")])
    assert groups["cluster"].to_pylist() == groups["record_pk_min"].to_pylist()
    assert smallest in set(a["cluster"].to_pylist())
    assert set(a["method"].to_pylist()) <= {"deterministic", "probabilistic", "singleton"}
    for row in a.to_pylist():
        ex = json.loads(row["explanation"])
        if row["method"] == "singleton":
            assert ex == {}
        elif row["method"] == "deterministic":
            assert ex["keys"] and isinstance(ex["to"], int) and row["match_weight"] is None
        else:
            assert row["match_weight"] is not None and ex["fields"]
            assert {"level", "bayes_factor"} <= set(next(iter(ex["fields"].values())))
    assert res.stats["records"] == a.num_rows and res.stats["engine"] == "duckdb"
    assert set(res.stats["seconds"]) >= {"normalise", "deterministic", "train", "predict"}
    json.dumps(res.model)  # storable as JSON
    assert _f1(res, small_world) >= 0.93


def test_empty_input_gives_empty_tables() -> None:
    empty = pa.table(
        {c: pa.array([], pa.int64() if c == "record_pk" else pa.string()) for c in RECORD_COLUMNS}
    )
    res = resolve(empty)
    assert res.assignments.num_rows == 0 and res.assignments.schema == ASSIGNMENT_SCHEMA
    assert res.stats["records"] == 0


def test_records_without_data_are_singletons(small_resolution: Resolution) -> None:
    bare = pa.table(
        {"record_pk": pa.array([5, 6, 7], pa.int64()), "source_system": ["a", "a", "b"]}
    )
    res = resolve(bare, model=small_resolution.model)
    assert res.assignments["method"].to_pylist() == ["singleton"] * 3
    assert res.assignments["cluster"].to_pylist() == [5, 6, 7]


def test_bad_input_is_a_clear_error(small_world: World, small_resolution: Resolution) -> None:
    records = small_world.records.slice(0, 20)
    bad = pa.table(
        {
            "record_a": pa.array([1, 999_999], pa.int64()),
            "record_b": pa.array([2, 3], pa.int64()),
            "kind": ["must_link", "cannot_link"],
        }
    )
    with pytest.raises(ValueError, match="not in the input: 999999"):
        resolve(records, constraints=bad, model=small_resolution.model)
    with pytest.raises(ValueError, match="unique"):
        resolve(pa.concat_tables([records, records]), model=small_resolution.model)
    with pytest.raises(ValueError, match="another version"):
        resolve(records, model={"comparisons": []})


def _subset(world: World, res: Resolution, size: int) -> pa.Table:
    """Whole predicted clusters of the first records, about ``size`` records."""
    clusters = res.assignments["cluster"].to_numpy()
    keep = np.isin(clusters, np.unique(clusters)[: size // 3])
    return world.records.filter(pa.array(keep))


def test_constraints_are_respected(small_world: World, small_resolution: Resolution) -> None:
    records = _subset(small_world, small_resolution, 600)
    base = resolve(records, model=small_resolution.model).assignments
    cl = dict(zip(base["record_pk"].to_pylist(), base["cluster"].to_pylist(), strict=True))
    by_cluster: dict[int, list[int]] = {}
    for pk, c in cl.items():
        by_cluster.setdefault(c, []).append(pk)
    together = next(v for v in by_cluster.values() if len(v) >= 2)
    singles = [v[0] for v in by_cluster.values() if len(v) == 1][:2]
    constraints = pa.table(
        {
            "record_a": pa.array([together[0], singles[0]], pa.int64()),
            "record_b": pa.array([together[1], singles[1]], pa.int64()),
            "kind": ["cannot_link", "must_link"],
        }
    )
    out = resolve(records, constraints=constraints, model=small_resolution.model).assignments
    got = dict(zip(out["record_pk"].to_pylist(), out["cluster"].to_pylist(), strict=True))
    assert got[together[0]] != got[together[1]]
    assert got[singles[0]] == got[singles[1]]
    method = dict(zip(out["record_pk"].to_pylist(), out["method"].to_pylist(), strict=True))
    assert method[singles[0]] == method[singles[1]] == "manual"


def test_hub_values_are_capped_and_reported(small_resolution: Resolution) -> None:
    n = 5000
    hub = pa.table(
        {
            "record_pk": pa.array(range(1, n + 1), pa.int64()),
            "source_system": ["cti"] * n,
            "full_name": [f"Caller {i % 97} Number{i}" for i in range(n)],
            "phone": ["+85228001234"] * n,  # the call centre's own number
        }
    )
    res = resolve(hub, model=small_resolution.model)
    assert res.stats["hubs"]["phone"] == {"values": 1, "records": n}
    assert pc.count_distinct(res.assignments["cluster"]).as_py() > n * 0.9


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.randoms(use_true_random=False))
def test_order_of_rows_does_not_matter(
    small_world: World, small_resolution: Resolution, rnd: object
) -> None:
    records = _subset(small_world, small_resolution, 400)
    order = list(range(records.num_rows))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = records.take(pa.array(order))
    a = resolve(records, model=small_resolution.model).assignments
    b = resolve(shuffled, model=small_resolution.model).assignments
    assert a.equals(b)


def test_training_is_repeatable(small_world: World) -> None:
    records = small_world.records.slice(0, 1500)
    first, second = resolve(records), resolve(records)
    assert first.model == second.model
    assert first.assignments.equals(second.assignments)


def test_incremental_joins_existing_clusters(
    small_world: World, small_resolution: Resolution
) -> None:
    records = small_world.records
    rng = np.random.default_rng(3)
    is_new = np.zeros(records.num_rows, bool)
    is_new[rng.choice(records.num_rows, 300, replace=False)] = True
    old = records.filter(pa.array(~is_new))
    new = records.filter(pa.array(is_new))
    full = resolve(old, model=small_resolution.model)
    existing = old.append_column("cluster", full.assignments["cluster"])
    inc = resolve_incremental(new, existing, model=small_resolution.model)
    a = inc.assignments
    assert a.schema == ASSIGNMENT_SCHEMA
    assert a["record_pk"].to_pylist() == sorted(new["record_pk"].to_pylist())
    old_ids = set(existing["cluster"].to_pylist())
    new_ids = set(new["record_pk"].to_pylist())
    assert all(c in old_ids or c in new_ids for c in a["cluster"].to_pylist())
    assert sum(c in old_ids for c in a["cluster"].to_pylist()) > 0.8 * a.num_rows
    for c_from, c_into in inc.stats["bridges"]:
        assert c_into < c_from and c_from in old_ids and c_into in old_ids
    joined = pa.concat_tables([full.assignments, a]).sort_by("record_pk")
    assert _f1(Resolution(joined, {}), small_world) >= _f1(small_resolution, small_world) - 0.02
    with pytest.raises(ValueError, match="cluster column"):
        resolve_incremental(new, old, model=small_resolution.model)


def test_incremental_with_cached_features_decides_the_same(
    small_world: World, small_resolution: Resolution
) -> None:
    """Oracle: passing the existing records' features (from the full run) instead of their
    fields gives exactly the assignments, explanations and bridges of normalising them again;
    only the new records are normalised, and a partial cache is topped up."""
    records = small_world.records
    rng = np.random.default_rng(11)
    is_new = np.zeros(records.num_rows, bool)
    is_new[rng.choice(records.num_rows, 400, replace=False)] = True
    old = records.filter(pa.array(~is_new))
    new = records.filter(pa.array(is_new))
    full = resolve(old, model=small_resolution.model)
    assert full.features is not None and full.features.num_rows == old.num_rows
    existing = old.append_column("cluster", full.assignments["cluster"])
    plain = resolve_incremental(new, existing, model=small_resolution.model)
    assert plain.stats["normalised"] == new.num_rows + old.num_rows

    slim = existing.select(["record_pk", "cluster"])  # fields not needed for cached records
    cached = resolve_incremental(
        new, slim, model=small_resolution.model, existing_features=full.features
    )
    assert cached.stats["normalised"] == new.num_rows
    assert cached.assignments.equals(plain.assignments)
    assert cached.stats["bridges"] == plain.stats["bridges"]
    assert cached.features is not None
    assert sorted(cached.features["record_pk"].to_pylist()) == sorted(new["record_pk"].to_pylist())

    # half the cache: the rest is normalised from the fields, same decisions
    half = full.features.slice(0, full.features.num_rows // 2)
    partial = resolve_incremental(
        new, existing, model=small_resolution.model, existing_features=half
    )
    assert partial.stats["normalised"] == new.num_rows + old.num_rows - half.num_rows
    assert partial.assignments.equals(plain.assignments)
    with pytest.raises(ValueError, match="lack the columns"):
        resolve_incremental(
            new, existing, model=small_resolution.model, existing_features=half.drop(["email"])
        )
