"""Demo-world generation throughput and peak memory.

    uv run python benchmarks/synth.py                 # 1,000,000 customers
    uv run python benchmarks/synth.py --customers 200000

Targets (issue 3): at least 50,000 customers/s with all their records; peak RSS at most 2 GB.
Generation runs in a child process so its peak RSS is measured alone. Besides wall time the
benchmark reports the CPU time of all generating processes per customer, which is less sensitive
to other work on a shared machine than wall time, and the load average before and after the run
(`os.getloadavg`). Worker processes are forked on Linux; set ``CXO_SYNTH_START_METHOD=spawn`` to
measure spawned ones (they import numpy, pyarrow and the generator first).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
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

    def cpu_seconds() -> float:
        return sum(
            getattr(resource.getrusage(who), f)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for f in ("ru_utime", "ru_stime")
        )

    cpu_before = cpu_seconds()  # after the imports, like the wall-clock start
    started = time.perf_counter()
    rows = synthesize(SynthConfig(customers=customers, seed=seed), Path(out), workers=workers)
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    # The writer process and, separately, the largest worker process.
    peak_kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    queue.put((seconds, cpu, peak_kib, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--workers", type=int, help="generator processes (default: one per core)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    out = Path(tempfile.mkdtemp(prefix="cxo-synth-bench-")) / "world"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(args.customers, args.seed, str(out), args.workers, queue))
    proc.start()
    while True:
        try:
            seconds, cpu, peak_kib, rows = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                raise SystemExit("generation failed (see the error above)") from None
    proc.join()
    load_after = os.getloadavg()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    shutil.rmtree(out.parent, ignore_errors=True)
    records = sum(n for name, n in rows.items() if not name.startswith("truth/"))
    print(f"rows per file: {rows}")
    print(
        "| date | customers | workers | source rows | seconds | customers/s | CPU µs per customer "
        "| peak RSS per process | output | load 1-min before → after | machine |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {dt.date.today()} | {args.customers:,} | {args.workers or 'auto'} | {records:,} | "
        f"{seconds:.1f} | {args.customers / seconds:,.0f} | {cpu / args.customers * 1e6:.1f} | "
        f"{peak_kib / 1024:,.0f} MiB | {size / 2**20:,.0f} MiB | "
        f"{load_before[0]:.2f} → {load_after[0]:.2f} | "
        f"{platform.machine()}, {multiprocessing.cpu_count()} CPUs |"
    )


if __name__ == "__main__":
    main()
