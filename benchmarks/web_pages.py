"""Page and API latency on a store of realistic size, served by a real uvicorn process.

Usage: uv run python benchmarks/web_pages.py [--customers 100000] [--interactions 1000000] [--requests 200]

Fills a temporary DuckDB store, starts `cxo serve` in a separate process, logs in, and requests each
page and API route sequentially from this process over loopback. Prints p50/p95/p99 in ms and the
server's peak RSS. Target (product guide): a page under 300 ms on the demo data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from cxo.governance import service as gov
from cxo.governance.schemas import TokenCreate, UserCreate
from cxo.settings import Settings
from cxo.store.bootstrap import init_store
from cxo.store.engine import connect, dispose_engines


def fill(settings: Settings, customers: int, interactions: int) -> str:
    init_store(settings)
    rng = np.random.default_rng(7)
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with connect(settings, write=True) as conn:
        gov.create_user(
            conn, data=UserCreate(username="bench", role="admin", password="bench"), actor="bench"
        )
        token = gov.create_token(
            conn, data=TokenCreate(username="bench", scopes=["customers:read"]), actor="bench"
        )
        raw = conn.connection.dbapi_connection
        cust = pd.DataFrame(
            {
                "id": np.arange(1, customers + 1),
                "display_name": [f"Customer {i}" for i in range(customers)],
                "email": [f"c{i}@example.com" for i in range(customers)],
                "created_at": now,
                "updated_at": now,
            }
        )
        raw.register("cust_df", cust)  # type: ignore[union-attr]
        raw.execute(  # type: ignore[union-attr]
            "INSERT INTO customers (id, display_name, email, created_at, updated_at) "
            "SELECT id, display_name, email, created_at, updated_at FROM cust_df"
        )
        inter = pd.DataFrame(
            {
                "id": np.arange(1, interactions + 1),
                "customer_id": rng.integers(1, customers + 1, interactions),
                "channel": rng.choice(["branch", "phone", "web", "app"], interactions),
                "stage": rng.choice(["engage", "transact", "fulfil", "service"], interactions),
                "started_at": now,
                "wait_seconds": rng.exponential(60, interactions),
                "created_at": now,
            }
        )
        raw.register("inter_df", inter)  # type: ignore[union-attr]
        raw.execute(  # type: ignore[union-attr]
            "INSERT INTO interactions (id, customer_id, channel, stage, started_at, wait_seconds, "
            "created_at) SELECT * FROM inter_df"
        )
    dispose_engines()
    return token


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--interactions", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cxo-bench-"))
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    token = fill(settings, args.customers, args.interactions)
    port = 18765
    env = {**os.environ, "CXO_HOME": str(home)}
    server = subprocess.Popen(
        [sys.executable, "-m", "cxo.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            page = client.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            client.post(
                "/login", data={"username": "bench", "password": "bench", "csrf_token": csrf}
            )
            routes = {
                "GET / (home)": ("/", {}),
                "GET /customers?page=1000": ("/customers?page=1000", {}),
                "GET /api/v1/customers?page=1000": (
                    "/api/v1/customers?page=1000",
                    {"Authorization": f"Bearer {token}"},
                ),
                "GET /api/v1/overview": ("/api/v1/overview", {"Authorization": f"Bearer {token}"}),
            }
            print(
                f"store: {args.customers:,} customers, {args.interactions:,} interactions; "
                f"{args.requests} sequential requests per route"
            )
            print("| route | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|")
            for name, (path, headers) in routes.items():
                times = []
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    r = client.get(path, headers=headers)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, (path, r.status_code)
                q = statistics.quantiles(times, n=100)
                print(f"| {name} | {q[49]:.1f} | {q[94]:.1f} | {q[98]:.1f} |")
        status = Path(f"/proc/{server.pid}/status").read_text()
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        if hwm:
            print(f"server peak RSS: {int(hwm.group(1)) / 1024:.0f} MiB")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
