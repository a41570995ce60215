"""Benchmark the analytics pipeline (customer_stage_stats) on DuckDB, and optionally Spark.

Generates N random interactions (default 1,000,000) into a temporary DuckDB store, then times
``run_pipeline`` and reports wall seconds and peak resident memory, ending with one markdown table
row per engine for docs/benchmarks.md.

    uv run python benchmarks/pipeline.py                  # 1,000,000 interactions, DuckDB
    uv run python benchmarks/pipeline.py -n 200000 --spark

The store is loaded in a child process, so the reported peak RSS of this process is that of the
pipeline runs (plus the interpreter and libraries), not of data generation. The first run of each
engine pays for imports (and, for Spark, for the session start); the table reports the best of the
timed runs after it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from cxo.settings import Settings


def make_settings(home: Path) -> Settings:
    # Always a DuckDB store in ``home``, whatever CXO_DATABASE_URL says.
    return Settings(
        home=home,
        database_url=None,
        secret_key="benchmark-secret-key-0123456789",
        _env_file=None,
    )


def load(home: Path, n: int, customers: int, seed: int) -> None:
    """Create the store in ``home`` and fill it with ``customers`` and ``n`` random interactions."""
    import numpy as np
    import pyarrow as pa

    from cxo.engines.backends import duckdb_connection
    from cxo.interactions.models import CHANNELS, STAGES
    from cxo.store.bootstrap import init_store
    from cxo.store.engine import connect, dispose_engines

    settings = make_settings(home)
    init_store(settings)
    rng = np.random.default_rng(seed)
    customer = pa.array(rng.integers(1, customers + 1, n), mask=rng.random(n) < 0.02)
    wait = pa.array(np.round(rng.lognormal(4.0, 1.0, n), 1), mask=rng.random(n) < 0.15)
    start = np.datetime64("2026-01-01T00:00:00", "us")
    started = start + rng.integers(0, 365 * 86_400, n).astype("timedelta64[s]")
    data = pa.table(
        {
            "customer_id": customer,
            "stage": pa.array(np.array(STAGES)[rng.integers(0, len(STAGES), n)]),
            "channel": pa.array(np.array(CHANNELS)[rng.integers(0, len(CHANNELS), n)]),
            "started_at": pa.array(started).cast(pa.timestamp("us", tz="UTC")),
            "wait_seconds": wait,
        }
    )
    with connect(settings, write=True) as conn:
        raw = duckdb_connection(conn)
        raw.execute(
            "INSERT INTO customers (id, created_at, updated_at) "
            "SELECT i, now(), now() FROM range(1, ?) t(i)",
            [customers + 1],
        )
        raw.register("generated", data)
        raw.execute(
            "INSERT INTO interactions (customer_id, stage, channel, started_at, wait_seconds, "
            "created_at) SELECT customer_id, stage, channel, started_at, wait_seconds, now() "
            "FROM generated"
        )
        raw.unregister("generated")
    dispose_engines()


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def jvm_peak_rss_mib() -> float | None:
    """Peak RSS (VmHWM) of the largest descendant process, i.e. Spark's JVM (Linux only)."""
    best = None
    pending = [os.getpid()]
    while pending:
        pid = pending.pop()
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            pending.append(child)
            try:
                status = Path(f"/proc/{child}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    mib = int(line.split()[1]) / 1024
                    best = mib if best is None else max(best, mib)
    return best


def time_runs(settings: Settings, engine: str, repeat: int) -> tuple[float, list[float], int]:
    from cxo.engines.pipeline import run_pipeline

    first = run_pipeline(settings, engine, "benchmark")
    print(f"  {engine}: first run {first.seconds:.2f} s ({first.rows:,} rows written)")
    seconds = []
    for i in range(repeat):
        result = run_pipeline(settings, engine, "benchmark")
        seconds.append(result.seconds)
        print(f"  {engine}: run {i + 1} {result.seconds:.2f} s")
    return first.seconds, seconds, first.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rows", type=int, default=1_000_000, help="interactions")
    parser.add_argument("--customers", type=int, help="distinct customers (default: rows / 10)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after the first")
    parser.add_argument("--spark", action="store_true", help="also run on local Spark")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    customers = args.customers or max(1, args.rows // 10)

    with tempfile.TemporaryDirectory(prefix="cxo-bench-") as tmp:
        home = Path(tmp) / "home"
        started = time.perf_counter()
        ctx = multiprocessing.get_context("spawn")
        loader = ctx.Process(target=load, args=(home, args.rows, customers, args.seed))
        loader.start()
        loader.join()
        if loader.exitcode != 0:
            raise SystemExit(f"loading the store failed (exit {loader.exitcode})")
        print(
            f"Loaded {args.rows:,} interactions for {customers:,} customers "
            f"in {time.perf_counter() - started:.1f} s"
        )

        settings = make_settings(home)
        lines: list[tuple[str, float, float, int, float, float | None]] = []
        _, runs, rows = time_runs(settings, "duckdb", args.repeat)
        lines.append(("duckdb", min(runs), statistics.median(runs), rows, peak_rss_mib(), None))

        if args.spark:
            from cxo.engines.backends import spark_session, stop_spark

            t0 = time.perf_counter()
            spark_session(settings)
            print(f"  spark: session start {time.perf_counter() - t0:.1f} s")
            _, runs, rows = time_runs(settings, "spark", args.repeat)
            jvm = jvm_peak_rss_mib()
            lines.append(("spark", min(runs), statistics.median(runs), rows, peak_rss_mib(), jvm))
            stop_spark()

    cpu = f"{platform.machine()}, {os.cpu_count()} CPUs"
    today = dt.date.today().isoformat()
    print()
    print(
        "| date | workload | engine | interactions | rows out | best s | median s "
        "| peak RSS (Python) | peak RSS (JVM) | machine |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for engine, best, median, rows, rss, jvm in lines:
        jvm_text = "—" if jvm is None else f"{jvm:,.0f} MiB"
        print(
            f"| {today} | customer_stage_stats | {engine} | {args.rows:,} | {rows:,} "
            f"| {best:.2f} | {median:.2f} | {rss:,.0f} MiB | {jvm_text} | {cpu} |"
        )


if __name__ == "__main__":
    main()
