"""Identity resolution on the demo world, with the hard cases reported separately.

    uv run cxo synth --customers 100000 --seed 20261122 --out /tmp/world100k
    uv run python benchmarks/identity_world.py /tmp/world100k

The synth tables are mapped to canonical records by cxo.identity.worldmap. Reports pairwise and
cluster metrics against truth/record_person, then the hard cases:

* households: pairs of different people in one household (same address and landline, often the
  same family name) — how many were merged;
* namesakes: pairs of different people with the same true name — how many were merged;
* transliterations and other noise (truth/record_noise flags): precision and recall over the
  pairs that touch a record with the flag.
"""

from __future__ import annotations

import json
import sys
import time

from cxo.identity.engine import resolve
from cxo.identity.evaluate import evaluate, false_merges_within, pairwise_touching
from cxo.identity.worldmap import load_world, true_name

FLAGS = ("pinyin", "cantonese", "name_order", "nickname", "typo", "old_phone", "shared_phone",
         "old_email", "missing_phone", "duplicate")  # fmt: skip


def main(folder: str) -> None:
    world = load_world(folder)
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
            for f in FLAGS
        },
        "edges": {k: res.stats.get(k) for k in ("deterministic_edges", "probabilistic_edges",
                                                "unique_name_edges", "sole_holder_edges")},
        "hubs": res.stats["hubs"],
    }  # fmt: skip
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/world100k")
