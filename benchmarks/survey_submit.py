"""Completed survey submissions per second, loopback load from a separate process.

    uv run python benchmarks/survey_submit.py [--respondents 5000] [--concurrency 32 | --rate 500]
        [--postgres [--workers 2] [--pg-statements]]

A temporary DuckDB store (or, with --postgres, a throwaway PostgreSQL server) gets a live one-page
survey (NPS, CSAT, CES and a comment) and one invitation per respondent. `cxo serve` runs in its
own process; this process plays the respondents with asyncio and a minimal keep-alive HTTP/1.1
client (cheap, because it shares the 2 cores with the server): each opens its link (GET, which
records the opening and sets the CSRF cookie) and submits the page (POST, which validates, stores
the answers and completes the response). Prints completed submissions/s, p50/p95/p99 of the POST
and of the GET, the CPU time the server and the load generator spent per respondent, and the
server's peak RSS; with --postgres, PostgreSQL's CPU by process and (--pg-statements) the
statements' planning and execution time from pg_stat_statements. Target (issue 5): ≥ 500 completed submissions/s with p99 ≤ 100 ms on this
2-core machine.
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
import urllib.parse
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


class Connection:
    """A minimal keep-alive HTTP/1.1 client on one socket. The load generator shares this 2-core
    machine with the server, so it must be cheap: httpx spends more CPU per request than the
    server's own request handling, and would measure itself."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        self.reader, self.writer, self.host, self.port = reader, writer, host, port

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port), host, port)

    async def request(
        self, method: str, path: str, body: bytes = b"", cookie: str = ""
    ) -> tuple[int, dict[str, str], list[str], bytes]:
        head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\n"
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        if method == "POST":
            head += "Content-Type: application/x-www-form-urlencoded\r\n"
            head += f"Content-Length: {len(body)}\r\n"
        message = head.encode() + b"\r\n" + body
        self.writer.write(message)
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
            if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                raise
            # The server closed this idle keep-alive connection (a FIN, or a reset when the
            # request crossed the close): reconnect and send again, as a browser does (the server
            # read nothing of it).
            self.writer.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(message)
            raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                if name.lower() == "set-cookie":
                    cookies.append(value.strip().split(";", 1)[0])
                headers[name.lower()] = value.strip()
        content = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, cookies, content

    def close(self) -> None:
        self.writer.close()


async def respondent(
    conn: Connection, token: str, gets: list[float], posts: list[float], n: int
) -> bool:
    path = f"/s/{token}"
    t0 = time.perf_counter()
    status, _headers, cookies, page = await conn.request("GET", path)
    gets.append(time.perf_counter() - t0)
    match = CSRF.search(page.decode())
    if status != 200 or match is None:
        FAILURES[f"GET {status}"] = FAILURES.get(f"GET {status}", 0) + 1
        return False
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
    status, *_rest = await conn.request(
        "POST", path, urllib.parse.urlencode(data).encode(), "; ".join(cookies)
    )
    posts.append(time.perf_counter() - t0)
    if status != 303:
        FAILURES[f"POST {status}"] = FAILURES.get(f"POST {status}", 0) + 1
    return status == 303


async def load(
    port: int, tokens: list[str], concurrency: int
) -> tuple[float, int, list[float], list[float]]:
    gets: list[float] = []
    posts: list[float] = []
    queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
    for n, t in enumerate(tokens):
        queue.put_nowait((n, t))
    done = 0

    async def worker() -> None:
        nonlocal done
        conn = await Connection.open("127.0.0.1", port)
        try:
            while not queue.empty():
                n, t = queue.get_nowait()
                if await respondent(conn, t, gets, posts, n):
                    done += 1
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return elapsed, done, gets, posts


async def load_at_rate(
    port: int, tokens: list[str], rate: float
) -> tuple[float, int, list[float], list[float]]:
    """Open loop: a new respondent arrives every 1/rate seconds whatever the server's latency
    (as real respondents do), each on an idle keep-alive connection or a new one."""
    gets: list[float] = []
    posts: list[float] = []
    idle: list[Connection] = []
    done = 0

    async def one(n: int, token: str) -> None:
        nonlocal done
        conn = idle.pop() if idle else await Connection.open("127.0.0.1", port)
        if await respondent(conn, token, gets, posts, n):
            done += 1
        idle.append(conn)

    t0 = time.perf_counter()
    tasks = []
    for n, token in enumerate(tokens):
        delay = t0 + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(n, token)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    for conn in idle:
        conn.close()
    return elapsed, done, gets, posts


def _tree(pid: int) -> list[int]:
    """The process and its descendants (server workers), from /proc."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            out += _tree(int(child))
    return out


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process tree (all threads), from /proc."""
    total = 0
    for p in _tree(pid):
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _by_role(pid: int) -> dict[str, float]:
    """CPU seconds of a PostgreSQL server's processes by role (its process titles: backends by
    database client, walwriter, autovacuum worker, ...)."""
    out: dict[str, float] = {}
    for p in _tree(pid):
        try:
            title = Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        role = re.sub(r"\(\d+\)|\s(idle|active|idle in transaction).*$", "", title)
        role = re.sub(r"^postgres: ", "", role).strip() or "postmaster"
        role = "backend" if "127.0.0.1" in title else role
        out[role] = out.get(role, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf(
            "SC_CLK_TCK"
        )
    return out


def _print_statements(url: str, done: int) -> None:
    """The statements that cost PostgreSQL most during the run, per completed respondent."""
    with sa.create_engine(url).connect() as c:
        rows = c.execute(
            sa.text(
                "SELECT calls, total_plan_time, total_exec_time, plans, rows, query "
                "FROM pg_stat_statements ORDER BY total_plan_time + total_exec_time DESC LIMIT 12"
            )
        ).all()
    for calls, plan, exec_, plans, nrows, query in rows:
        print(
            f"  {(plan + exec_) / max(done, 1):.3f} ms/respondent (plan {plan / max(done, 1):.3f}, "
            f"{plans} plans); {calls} calls, {exec_ / max(calls, 1):.3f} ms exec/call, "
            f"{nrows} rows: {' '.join(query.split())[:110]}"
        )


def _steal() -> tuple[int, int, int]:
    """(all CPU ticks but steal, steal ticks, idle + iowait ticks) of the machine so far, from
    /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields[:7]), steal, fields[3] + fields[4]


def _peak_rss_mib(pid: int) -> float:
    """The largest peak RSS among the server's processes."""
    peaks = [0.0]
    for p in _tree(pid):
        hwm = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text())
        if hwm:
            peaks.append(int(hwm.group(1)) / 1024)
    return max(peaks)


def _q(xs: list[float]) -> str:
    q = statistics.quantiles([x * 1000 for x in xs], n=100)
    return f"{q[49]:.1f} / {q[94]:.1f} / {q[98]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--respondents", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument(
        "--rate",
        type=float,
        default=None,
        help="open loop: respondents arriving per second (instead of --concurrency)",
    )
    ap.add_argument("--port", type=int, default=18766)
    ap.add_argument(
        "--postgres", action="store_true", help="a throwaway PostgreSQL server instead of DuckDB"
    )
    ap.add_argument(
        "--workers", type=int, default=1, help="server processes (PostgreSQL only; see cxo serve)"
    )
    ap.add_argument(
        "--pg-statements",
        action="store_true",
        help="with --postgres: print the statements' planning and execution time per respondent "
        "(pg_stat_statements)",
    )
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cxo-bench-submit-"))
    pg = None
    url = None
    if args.postgres:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.pgserver import PgServer

        pg = PgServer.start(
            "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_planning=on"
            if args.pg_statements
            else ""
        )
        url = pg.create_database()
        if args.pg_statements:
            with sa.create_engine(url).begin() as c:
                c.execute(sa.text("CREATE EXTENSION pg_stat_statements"))
    settings = Settings(home=home, database_url=url, _env_file=None)  # type: ignore[call-arg]
    tokens = setup(settings, args.respondents)
    env = {**os.environ, "CXO_HOME": str(home), **({"CXO_DATABASE_URL": url} if url else {})}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cxo.cli",
            "serve",
            "--port",
            str(args.port),
            "--workers",
            str(args.workers),
        ],
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
        asyncio.run(load(args.port, tokens[:50], 8))
        postmaster = (
            int((pg.datadir / "postmaster.pid").read_text().split()[0]) if pg is not None else None
        )
        db0 = _cpu_seconds(postmaster) if postmaster else 0.0
        roles0 = _by_role(postmaster) if postmaster else {}
        cpu0, client0, steal0 = _cpu_seconds(server.pid), time.process_time(), _steal()
        if args.rate:
            run = load_at_rate(args.port, tokens[50:], args.rate)
            how = f"arrivals {args.rate:,.0f}/s, open loop"
        else:
            run = load(args.port, tokens[50:], args.concurrency)
            how = f"concurrency {args.concurrency}, closed loop"
        elapsed, done, gets, posts = asyncio.run(run)
        cpu = _cpu_seconds(server.pid) - cpu0
        client = time.process_time() - client0
        db = _cpu_seconds(postmaster) - db0 if postmaster else None
        print(
            f"database: {'PostgreSQL' if args.postgres else 'DuckDB'}; "
            f"server processes: {args.workers}; load: {os.getloadavg()}"
        )
        print(
            f"{done:,} completed of {len(tokens) - 50:,} in {elapsed:.1f} s: "
            f"{done / elapsed:,.0f} completed submissions/s ({how}; "
            f"each respondent opens the link and submits the page)"
        )
        if FAILURES:
            print(f"not completed: {FAILURES}")
        print(f"POST (submit) p50 / p95 / p99 ms: {_q(posts)}")
        print(f"GET (open link) p50 / p95 / p99 ms: {_q(gets)}")
        print(
            f"CPU per completed respondent: server {cpu / max(done, 1) * 1000:.2f} ms, "
            f"load generator {client / max(done, 1) * 1000:.2f} ms"
            + (f", PostgreSQL {db / max(done, 1) * 1000:.2f} ms" if db is not None else "")
        )
        if postmaster:
            roles = _by_role(postmaster)
            print(
                "PostgreSQL CPU per respondent by process: "
                + ", ".join(
                    f"{role} {(sec - roles0.get(role, 0.0)) / max(done, 1) * 1000:.2f} ms"
                    for role, sec in sorted(
                        roles.items(), key=lambda kv: roles0.get(kv[0], 0.0) - kv[1]
                    )
                    if sec - roles0.get(role, 0.0) > 0.005
                )
            )
        if args.pg_statements and url:
            _print_statements(url, done)
        print(f"server peak RSS (largest process): {_peak_rss_mib(server.pid):.0f} MiB")
        steal = _steal()
        ticks = steal[0] + steal[1] - steal0[0] - steal0[1]
        if ticks > 0:
            busy = ticks - (steal[1] - steal0[1]) - (steal[2] - steal0[2])
            print(
                f"CPU steal during the run (time the host gave to other machines): "
                f"{100 * (steal[1] - steal0[1]) / ticks:.1f} %; machine busy (server, database, "
                f"load generator): {100 * busy / ticks:.0f} % of {os.cpu_count()} CPUs"
            )
    finally:
        server.terminate()
        server.wait()
        if pg is not None:
            pg.stop()


if __name__ == "__main__":
    main()
