"""Demo-world generation throughput and peak memory.

    uv run python benchmarks/synth.py                 # 1,000,000 customers
    uv run python benchmarks/synth.py --customers 200000

Targets (issue 3): at least 50,000 customers/s with all their records; peak RSS at most 2 GB.
Generation runs in a child process so its peak RSS is measured alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path
from queue import Empty
from typing import Any


def _run(customers: int, seed: int, out: str, workers: int | None, queue: Any) -> None:
    from cxo.synth.world import SynthConfig, synthesize

    started = time.perf_counter()
    rows = synthesize(SynthConfig(customers=customers, seed=seed), Path(out), workers=workers)
    seconds = time.perf_counter() - started
    # The writer process and, separately, the largest worker process.
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    queue.put((seconds, peak_kib, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--workers", type=int, help="generator processes (default: one per core)")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="cxo-synth-bench-")) / "world"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(args.customers, args.seed, str(out), args.workers, queue))
    proc.start()
    while True:
        try:
            seconds, peak_kib, rows = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                raise SystemExit("generation failed (see the error above)") from None
    proc.join()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out.parent, ignore_errors=True)
    records = sum(n for name, n in rows.items() if not name.startswith("truth/"))
    print(f"rows per file: {rows}")
    print(
        "| date | customers | source rows | seconds | customers/s | peak RSS | output | machine |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {dt.date.today()} | {args.customers:,} | {args.workers or 'auto'} | {records:,} | "
        f"{seconds:.1f} | "
        f"{args.customers / seconds:,.0f} | {peak_kib / 1024:,.0f} MiB | {size / 2**20:,.0f} MiB | "
        f"{platform.machine()}, {multiprocessing.cpu_count()} CPUs |"
    )


if __name__ == "__main__":
    main()
