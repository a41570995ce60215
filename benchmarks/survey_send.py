"""Survey invitations to a local SMTP sink: queueing a wave and sending it.

    uv run python benchmarks/survey_send.py [--invitations 100000] [--postgres]

A temporary DuckDB store (or, with --postgres, a throwaway PostgreSQL server) gets N customers with e-mail addresses and a live survey; an aiosmtpd
sink runs in a separate process and counts messages. Measured: creating the wave (selection,
contact cap, tokens, bulk insert) and `send_invitations` (compose in the customer's language, one
SMTP session, batched status updates). Target (issue 5): 100k invitations in ≤ 5 minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _sink(port: int, counter: Any, ready: Any) -> None:
    import asyncio

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    import pyarrow as pa

    from cxo.customers.models import customers
    from cxo.settings import Settings
    from cxo.store.bootstrap import init_store
    from cxo.store.bulk import append_rows
    from cxo.store.engine import connect, dispose_engines
    from cxo.surveys import service
    from cxo.surveys.distribute import Audience, WaveCreate, create_wave
    from cxo.surveys.mailer import send_invitations

    ap = argparse.ArgumentParser()
    ap.add_argument("--invitations", type=int, default=100_000)
    ap.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL server instead of DuckDB"
    )
    args = ap.parse_args()
    n = args.invitations
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    counter = ctx.Value("q", 0)
    ready = ctx.Event()
    sink = ctx.Process(target=_sink, args=(port, counter, ready), daemon=True)
    sink.start()
    ready.wait(30)
    home = Path(tempfile.mkdtemp(prefix="cxo-bench-send-"))
    pg = None
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pgserver import PgServer

        pg = PgServer.start()
    settings = Settings(  # type: ignore[call-arg]
        home=home,
        _env_file=None,
        smtp_host="127.0.0.1",
        smtp_port=port,
        database_url=pg.create_database() if pg else None,
    )
    init_store(settings)
    now = dt.datetime.now(dt.UTC)
    with connect(settings, write=True) as conn:
        service.create_survey(
            conn,
            text=(
                Path(__file__).parents[1] / "src/cxo/synth/mappings/relationship_2025.yaml"
            ).read_bytes(),
            actor="bench",
        )
        service.set_state(conn, code="relationship_2025", state="live", actor="bench")
        times = pa.array([now] * n, pa.timestamp("us", tz="UTC"))
        append_rows(
            conn,
            customers,
            pa.table(
                {
                    "id": pa.array(range(1, n + 1), pa.int64()),
                    "display_name": [f"客户 {i}" if i % 2 else f"Customer {i}" for i in range(n)],
                    "email": [f"c{i}@example.com" for i in range(n)],
                    "locale": ["zh_CN" if i % 2 else "en" for i in range(n)],
                    "segment": ["mass"] * n,
                    "created_at": times,
                    "updated_at": times,
                }
            ),
        )
    t0 = time.perf_counter()
    with connect(settings, write=True) as conn:
        wave = create_wave(
            conn,
            data=WaveCreate(
                survey_code="relationship_2025", name="bench", audience=Audience(segment="mass")
            ),
            secret=settings.get_secret_key().encode(),
            cap_days=30,
            default_expiry_days=14,
            actor="bench",
        )
    queued = time.perf_counter() - t0
    t0 = time.perf_counter()
    sent = send_invitations(settings)
    sending = time.perf_counter() - t0
    time.sleep(0.5)
    dispose_engines()
    sink.terminate()
    if pg is not None:
        pg.stop()
    print(f"store: {'PostgreSQL' if pg else 'DuckDB'}; load average: {os.getloadavg()}")
    print(f"wave: {wave.queued:,} invitations queued in {queued:.1f} s")
    print(
        f"sent: {sent.sent:,} in {sending:.1f} s ({sent.sent / sending:,.0f}/s); "
        f"sink received {counter.value:,}; total {queued + sending:.1f} s (target ≤ 300 s)"
    )
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
