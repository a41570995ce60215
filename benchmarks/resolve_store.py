"""End to end through the store: import a world's customer records, `cxo resolve` (full), then an
incremental batch of new records resolved against the resolved ones.

    uv run python benchmarks/resolve_store.py --customers 100000 --batch 10000

Prints one JSON object: seconds and peak RSS of each phase. Everything runs in this process on a
fresh DuckDB store in a temporary CXO_HOME (nothing in the repository changes).

``--state DIR`` keeps a copy of the store as it is just before the incremental run (after the full
resolve and the batch's import) in DIR, and a later run with the same DIR starts from that copy and
measures only the incremental run: to iterate on it without rebuilding a large store.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cxo.identity.service import resolve_store
from cxo.imports.mapping import load_mapping
from cxo.imports.service import run_import
from cxo.settings import Settings, load_settings
from cxo.store.bootstrap import init_store
from cxo.synth.demo import IMPORTS, MAPPINGS
from cxo.synth.world import SynthConfig, synthesize


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--state", type=Path, help="keep/reuse the store before the incremental run")
    args = ap.parse_args()
    out: dict[str, Any] = {"customers": args.customers, "batch": args.batch}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = load_settings(home=root / "home")
        if args.state is not None and (args.state / "home").is_dir():
            shutil.copytree(args.state / "home", root / "home")
            out["from_state"] = str(args.state)
            _incremental(settings, out)
            print(json.dumps(out, indent=2))
            return
        init_store(settings)
        t = time.perf_counter()
        synthesize(SynthConfig(customers=args.customers, seed=args.seed), root / "world")
        synthesize(SynthConfig(customers=args.batch, seed=args.seed + 1), root / "new")
        out["generate_s"] = round(time.perf_counter() - t, 1)
        customer_files = [(f, m) for f, kind, m in IMPORTS if kind == "customers"]
        t = time.perf_counter()
        records = 0
        for folder, mapping_file in customer_files:
            mapping = load_mapping(MAPPINGS / mapping_file)
            for part in sorted((root / "world" / folder).glob("part-*.parquet")):
                s = run_import(
                    settings,
                    kind="customers",
                    path=part,
                    source=mapping.source or folder,
                    actor="bench",
                    mapping=mapping,
                )
                records += s.accepted
        out["records"] = records
        out["import_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        full = resolve_store(settings, actor="bench", full=True)
        out["full_resolve_s"] = round(time.perf_counter() - t, 1)
        out["full"] = full.as_dict()
        out["rss_after_full_mib"] = round(_rss_mib())
        # The new batch: the CRM records of another world (new persons, new record ids), cut to size.
        mapping = load_mapping(MAPPINGS / "crm_customers.yaml")
        new = pq.read_table(root / "new" / "crm_customers").slice(0, args.batch)
        pq.write_table(new, root / "batch.parquet")
        run_import(
            settings,
            kind="customers",
            path=root / "batch.parquet",
            source="crm",
            actor="bench",
            mapping=mapping,
        )
        if args.state is not None:
            shutil.rmtree(args.state, ignore_errors=True)
            args.state.mkdir(parents=True)
            shutil.copytree(root / "home", args.state / "home")
        _incremental(settings, out)
    print(json.dumps(out, indent=2))


def _incremental(settings: Settings, out: dict[str, Any]) -> None:
    t = time.perf_counter()
    say = _lap(out)
    inc = resolve_store(settings, actor="bench", progress=say)
    say("")
    out["incremental_resolve_s"] = round(time.perf_counter() - t, 1)
    out["incremental"] = inc.as_dict()
    out["peak_rss_mib"] = round(_rss_mib())


def _lap(out: dict[str, Any]) -> Any:
    """A progress callback that records the seconds between the run's phases."""
    last = {"name": ""}
    start = {"t": time.perf_counter()}
    laps: dict[str, float] = {}
    out["incremental_phases_s"] = laps

    def say(name: str) -> None:
        now = time.perf_counter()
        if last["name"]:
            laps[last["name"]] = round(now - start["t"], 2)
        last["name"], start["t"] = name, now

    return say


if __name__ == "__main__":
    main()
