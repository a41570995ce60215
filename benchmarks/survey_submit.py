"""Completed survey submissions per second, loopback load from a separate process.

    uv run python benchmarks/survey_submit.py [--respondents 5000] [--concurrency 32]

A temporary DuckDB store gets a live one-page survey (NPS, CSAT, CES and a comment) and one
invitation per respondent. `cxo serve` runs in its own process; this process (another process,
another core) plays the respondents with asyncio + httpx: each opens its link (GET, which starts
the response and sets the CSRF cookie) and submits the page (POST, which validates, stores the
answers and completes the response). Prints completed submissions/s and p50/p95/p99 of the POST
and of the GET, and the server's peak RSS. Target (issue 5): ≥ 500 completed submissions/s with
p99 ≤ 100 ms on this 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
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
import sqlalchemy as sa

from cxo.settings import Settings
from cxo.store.bootstrap import init_store
from cxo.store.engine import connect, dispose_engines
from cxo.surveys import service
from cxo.surveys.distribute import Audience, WaveCreate, create_wave, invitation_token
from cxo.surveys.models import invitations

SURVEY = """\
code: bench
title: {en: "Bench", zh_CN: "测试"}
pages:
  - questions:
      - use: nps
        required: true
      - use: csat
      - use: ces
      - use: comment
"""
FAILURES: dict[str, int] = {}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def setup(settings: Settings, respondents: int) -> list[str]:
    """A live survey and one invitation per respondent; returns their link tokens."""
    import pyarrow as pa

    from cxo.customers.models import customers
    from cxo.store.bulk import append_rows

    init_store(settings)
    now = dt.datetime.now(dt.UTC)
    with connect(settings, write=True) as conn:
        service.create_survey(conn, text=SURVEY, actor="bench")
        service.set_state(conn, code="bench", state="live", actor="bench")
        append_rows(
            conn,
            customers,
            pa.table(
                {
                    "id": pa.array(range(1, respondents + 1), pa.int64()),
                    "email": [f"c{i}@example.com" for i in range(respondents)],
                    "segment": ["mass"] * respondents,
                    "created_at": pa.array([now] * respondents, pa.timestamp("us", tz="UTC")),
                    "updated_at": pa.array([now] * respondents, pa.timestamp("us", tz="UTC")),
                }
            ),
        )
        secret = settings.get_secret_key().encode()
        create_wave(
            conn,
            data=WaveCreate(survey_code="bench", name="bench", audience=Audience(segment="mass")),
            secret=secret,
            cap_days=0,
            default_expiry_days=30,
            actor="bench",
        )
        ids = [int(i) for i in conn.execute(sa.select(invitations.c.id)).scalars()]
    dispose_engines()
    return [invitation_token(secret, i) for i in ids]


async def respondent(
    client: httpx.AsyncClient, token: str, gets: list[float], posts: list[float], n: int
) -> bool:
    path = f"/s/{token}"
    t0 = time.perf_counter()
    page = await client.get(path)
    gets.append(time.perf_counter() - t0)
    match = CSRF.search(page.text)
    if page.status_code != 200 or match is None:
        FAILURES[f"GET {page.status_code}"] = FAILURES.get(f"GET {page.status_code}", 0) + 1
        return False
    cookies = {k: v for k, v in page.cookies.items()}
    data = {
        "csrf_token": match.group(1),
        "page": "0",
        "action": "next",
        "nps": str(n % 11),
        "csat": str(1 + n % 5),
        "ces": str(1 + n % 7),
        "comment": "服务很好，等待时间有点长。" if n % 3 else "",
    }
    t0 = time.perf_counter()
    r = await client.post(path, data=data, cookies=cookies)
    posts.append(time.perf_counter() - t0)
    if r.status_code != 303:
        FAILURES[f"POST {r.status_code}"] = FAILURES.get(f"POST {r.status_code}", 0) + 1
    return r.status_code == 303


async def load(
    base: str, tokens: list[str], concurrency: int
) -> tuple[float, int, list[float], list[float]]:
    gets: list[float] = []
    posts: list[float] = []
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for n, t in enumerate(tokens):
        queue.put_nowait((n, t))
    done = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker() -> None:
            nonlocal done
            while not queue.empty():
                n, t = queue.get_nowait()
                if await respondent(client, t, gets, posts, n):
                    done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return elapsed, done, gets, posts


def _q(xs: list[float]) -> str:
    q = statistics.quantiles([x * 1000 for x in xs], n=100)
    return f"{q[49]:.1f} / {q[94]:.1f} / {q[98]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--port", type=int, default=18766)
    ap.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL server instead of DuckDB"
    )
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cxo-bench-submit-"))
    pg = None
    url = None
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pgserver import PgServer

        pg = PgServer.start()
        url = pg.create_database()
    settings = Settings(home=home, database_url=url, _env_file=None)  # type: ignore[call-arg]
    tokens = setup(settings, args.respondents)
    env = {**os.environ, "CXO_HOME": str(home), **({"CXO_DATABASE_URL": url} if url else {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "cxo.cli", "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        # warm-up (not counted)
        asyncio.run(load(base, tokens[:50], 8))
        elapsed, done, gets, posts = asyncio.run(load(base, tokens[50:], args.concurrency))
        print(f"database: {'PostgreSQL' if args.postgres else 'DuckDB'}; load: {os.getloadavg()}")
        print(
            f"{done:,} completed of {len(tokens) - 50:,} in {elapsed:.1f} s: "
            f"{done / elapsed:,.0f} completed submissions/s (concurrency {args.concurrency})"
        )
        if FAILURES:
            print(f"not completed: {FAILURES}")
        print(f"POST (submit) p50 / p95 / p99 ms: {_q(posts)}")
        print(f"GET (open link) p50 / p95 / p99 ms: {_q(gets)}")
        status = Path(f"/proc/{server.pid}/status").read_text()
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        if hwm:
            print(f"server peak RSS: {int(hwm.group(1)) / 1024:.0f} MiB")
    finally:
        server.terminate()
        server.wait()
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
