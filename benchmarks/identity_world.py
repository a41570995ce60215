"""Identity resolution on the demo world, with the hard cases reported separately.

    uv run cxo synth --customers 100000 --seed 20261122 --out /tmp/world100k
    uv run python benchmarks/identity_world.py /tmp/world100k
    # or generate first, here with other identity noise settings (IdentityParams fields):
    uv run python benchmarks/identity_world.py /tmp/world0 --synth 100000 --seed 7 \
        --set cti_verified_rate=0

The synth tables are mapped to canonical records by cxo.identity.worldmap. Reports pairwise and
cluster metrics against truth/record_person, then the hard cases:

* households: pairs of different people in one household (same address and landline, often the
  same family name) — how many were merged;
* namesakes: pairs of different people with the same true name — how many were merged;
* transliterations and other noise (truth/record_noise flags): precision and recall over the
  pairs that touch a record with the flag; ``cti_unverified``: call-centre records without a
  verified customer number.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pyarrow.compute as pc

from cxo.identity.engine import resolve
from cxo.identity.evaluate import evaluate, false_merges_within, pairwise_touching
from cxo.identity.worldmap import load_world, true_name

FLAGS = ("pinyin", "cantonese", "name_order", "nickname", "typo", "old_phone", "shared_phone",
         "old_email", "missing_phone", "duplicate", "verified", "other_holder")  # fmt: skip


def synth(folder: Path, persons: int, seed: int, settings: list[str]) -> None:
    from cxo.synth.identity import IdentityParams
    from cxo.synth.world import SynthConfig, synthesize

    values = dict(s.split("=", 1) for s in settings)
    params = IdentityParams.model_validate({k: float(v) for k, v in values.items()})
    synthesize(SynthConfig(customers=persons, seed=seed, identity=params), folder, force=True)


def main(folder: str) -> None:
    world = load_world(folder)
    cti = pc.equal(world.truth["source_system"], "cti").to_numpy(zero_copy_only=False)
    if "verified" in world.truth.column_names:  # worlds made before customer numbers lack it
        cti &= ~world.truth["verified"].to_numpy(zero_copy_only=False).astype(bool)
    start = time.perf_counter()
    res = resolve(world.records)
    seconds = time.perf_counter() - start
    cluster = res.assignments["cluster"].to_numpy()
    person = world.truth["person_id"].to_numpy()
    report = {
        "records": world.records.num_rows,
        "persons": len(set(person.tolist())),
        "seconds": round(seconds, 1),
        "phases": res.stats["seconds"],
        **evaluate(cluster, person),
        "households": false_merges_within(cluster, person, world.truth["household_id"].to_numpy()),
        "namesakes": false_merges_within(
            cluster, person, true_name(world.truth).to_numpy(zero_copy_only=False)
        ),
        "noise": {
            f: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in pairwise_touching(
                cluster, person, world.truth[f].to_numpy(zero_copy_only=False)).items()}
            for f in FLAGS if f in world.truth.column_names
        } | {"cti_unverified": {k: (round(v, 4) if isinstance(v, float) else v)
                                for k, v in pairwise_touching(cluster, person, cti).items()}},
        "edges": {k: res.stats.get(k) for k in ("deterministic_edges", "probabilistic_edges",
                                                "unique_name_edges", "sole_holder_edges")},
        "hubs": res.stats["hubs"],
    }  # fmt: skip
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="/tmp/world100k")
    parser.add_argument("--synth", type=int, metavar="PERSONS", help="generate the world first")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help="an IdentityParams rate for --synth (repeatable)")  # fmt: skip
    args = parser.parse_args()
    if args.synth:
        synth(Path(args.folder), args.synth, args.seed, args.set)
    main(args.folder)
