"""Identity resolution at scale: ~1M source records end to end, a 10k incremental batch, and
plain Splink on the same data for comparison.

    uv run python benchmarks/identity_scale.py                 # world of 360k persons (~1.0M records)
    uv run python benchmarks/identity_scale.py --persons 36000 # a quick run

The demo world is generated (``cxo synth``) into ``--world`` unless it is there already. Each
measurement runs in its own process so its peak RSS is its own:

* ``full``: :func:`cxo.identity.engine.resolve` on every record except a random 10,000;
* ``incremental``: those 10,000 against the others, resolved by ``full`` (model reused, the
  others' normalised features from ``full`` passed in; reading them is timed apart);
* ``plain``: Splink alone on the same records — same features, comparisons, blocking rules and
  training, no deterministic pre-pass, Splink's own connected components.

Prints one JSON object; figures go into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20261122
NEW = 10_000


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def _split(world: Path) -> tuple[pa.Table, pa.Table, pa.Table]:
    from cxo.identity.worldmap import load_world

    w = load_world(world)
    rng = np.random.default_rng(SEED)
    is_new = np.zeros(w.records.num_rows, bool)
    is_new[rng.choice(w.records.num_rows, NEW, replace=False)] = True
    return w.records.filter(pa.array(~is_new)), w.records.filter(pa.array(is_new)), w.truth


def _f1(pks: np.ndarray, clusters: np.ndarray, truth: pa.Table) -> dict[str, float]:
    from cxo.identity.evaluate import pairwise

    person = dict(zip(truth["record_pk"].to_pylist(), truth["person_id"].to_pylist(), strict=True))
    r = pairwise(clusters, [person[p] for p in pks.tolist()])
    return {k: round(r[k], 5) for k in ("precision", "recall", "f1")}


def run_full(world: Path, scratch: Path) -> dict[str, Any]:
    from cxo.identity.engine import resolve

    old, _, truth = _split(world)
    t = time.perf_counter()
    res = resolve(old)
    seconds = time.perf_counter() - t
    existing = old.append_column("cluster", res.assignments["cluster"])
    pq.write_table(existing, scratch / "existing.parquet")
    assert res.features is not None
    pq.write_table(res.features, scratch / "features.parquet")
    (scratch / "model.json").write_text(json.dumps(res.model))
    return {
        "records": old.num_rows,
        "seconds": round(seconds, 1),
        "phases": res.stats["seconds"],
        "peak_rss_gb": round(_rss_gb(), 2),
        "quality": _f1(res.assignments["record_pk"].to_numpy(),
                       res.assignments["cluster"].to_numpy(), truth),
        "deterministic_edges": res.stats["deterministic_edges"],
        "probabilistic_edges": res.stats["probabilistic_edges"],
        "hubs": res.stats["hubs"],
    }  # fmt: skip


def run_incremental(world: Path, scratch: Path) -> dict[str, Any]:
    from cxo.identity.engine import resolve_incremental

    _, new, _ = _split(world)
    model = json.loads((scratch / "model.json").read_text())
    t = time.perf_counter()
    # what a caller keeps between runs: record → cluster, and the normalised features
    existing = pq.read_table(scratch / "existing.parquet", columns=["record_pk", "cluster"])
    cached = pq.read_table(scratch / "features.parquet")
    read = time.perf_counter() - t
    t = time.perf_counter()
    res = resolve_incremental(new, existing, model=model, existing_features=cached)
    seconds = time.perf_counter() - t
    return {
        "new_records": new.num_rows,
        "existing_records": existing.num_rows,
        "seconds": round(seconds, 1),
        "read_seconds": round(read, 1),
        "normalised": res.stats["normalised"],
        "phases": res.stats["seconds"],
        "peak_rss_gb": round(_rss_gb(), 2),
        "joined_existing": int(np.isin(res.assignments["cluster"].to_numpy(),
                                       existing["cluster"].to_numpy()).sum()),
        "bridges": len(res.stats["bridges"]),
    }  # fmt: skip


def run_plain(world: Path, scratch: Path) -> dict[str, Any]:
    """Splink with the same settings and training, without cxo's deterministic pre-pass."""
    import duckdb

    from cxo.identity import engine, keys
    from cxo.identity import model as mdl
    from cxo.identity.normalise import features
    from cxo.identity.splinkrun import SplinkRun

    old, _, truth = _split(world)
    t = time.perf_counter()
    con = duckdb.connect()
    con.register("cxo_features", features(engine._records(old), con))
    engine._prepare(con, "cxo_features", "base")
    # every record its own component: no pairs are skipped, nothing is pre-linked
    pks = con.sql("SELECT record_pk FROM base ORDER BY record_pk").to_arrow_table()["record_pk"]
    engine._finish(con, "base", "feat", pa.table({"record_pk": pks, "det_cluster": pks}))
    run = SplinkRun(con, "feat", engine="duckdb")
    run.train(
        records=old.num_rows,
        pairs_by_rule={c: engine._pairs(con, "feat", c) for c in mdl.EM_RULES},
        deterministic_pairs=0,
        exact_pairs=engine._pairs(con, "feat", "name_key,birth_date"),
        threshold=mdl.DEFAULT_THRESHOLD,
    )
    linker = run._linker
    predictions = linker.inference.predict(
        threshold_match_probability=mdl.DEFAULT_THRESHOLD, warning_mode="never"
    )
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=mdl.DEFAULT_THRESHOLD
    )
    out = con.sql(
        f"SELECT record_pk, cluster_id FROM {clusters.physical_name} ORDER BY record_pk"
    ).to_arrow_table()
    seconds = time.perf_counter() - t
    codes = np.unique(out["cluster_id"].to_numpy(zero_copy_only=False), return_inverse=True)[1]
    del keys
    return {
        "records": old.num_rows,
        "seconds": round(seconds, 1),
        "peak_rss_gb": round(_rss_gb(), 2),
        "quality": _f1(out["record_pk"].to_numpy(), codes, truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=360_000)
    parser.add_argument("--world", type=Path, default=None)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/cxo-identity-scale"))
    parser.add_argument("--only", choices=("full", "incremental", "plain"))
    parser.add_argument("--skip-plain", action="store_true")
    args = parser.parse_args()
    world = args.world or Path(f"/tmp/world{args.persons // 1000}k")
    args.scratch.mkdir(parents=True, exist_ok=True)
    if args.only:
        fn = {"full": run_full, "incremental": run_incremental, "plain": run_plain}[args.only]
        print(json.dumps(fn(world, args.scratch)))
        return
    if not (world / "crm_customers").exists():
        subprocess.run(
            ["cxo", "synth", "--customers", str(args.persons), "--seed", str(SEED),
             "--out", str(world), "--force"], check=True,
        )  # fmt: skip
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {platform.python_version()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores",
        "world": str(world),
    }
    modes = ["full", "incremental"] + ([] if args.skip_plain else ["plain"])
    for mode in modes:
        cmd = [sys.executable, __file__, "--world", str(world), "--scratch", str(args.scratch),
               "--only", mode]  # fmt: skip
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        report[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        print(mode, json.dumps(report[mode]), file=sys.stderr)
    if "plain" in report:
        report["plain_over_cxo"] = round(report["plain"]["seconds"] / report["full"]["seconds"], 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
