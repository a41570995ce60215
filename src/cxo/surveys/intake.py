"""Group commit for the respondents' pages: many respondents, one transaction.

Every page view and page submit on ``/s/…`` becomes a job (:class:`cxo.surveys.respond.Open`,
:class:`~cxo.surveys.respond.Submit`). The request handler queues its job and waits; one writer
thread per app takes whatever has queued up (at most :data:`MAX_BATCH` jobs) and runs them with
:func:`cxo.surveys.respond.handle` in one transaction: a fixed number of set-based statements per
batch instead of eight single-row statements per submit. While a batch is being written the next
one queues, so batches grow with the load; after a batch's first job the writer also waits
:data:`LINGER` (a few milliseconds) for more, since a batch of one or two costs almost as much as
a batch of ten.

A batch that fails as a whole (a deadlock between two server processes on PostgreSQL, a broken
connection) is retried job by job, each in its own transaction, so one bad job never takes the
others with it. Errors the respondent should see (unknown, expired or closed links) are outcomes,
not failures.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.errors import CxoError
from cxo.settings import Settings
from cxo.store.engine import get_engine, translate_error, write_lock
from cxo.surveys.respond import Job, Outcome, handle

log = logging.getLogger("cxo.surveys.intake")
MAX_BATCH: Final = 200
IDLE_SECONDS: Final = 10.0
# A batch waits this long for more jobs after its first: under load it grows batches (the
# per-batch cost, statements and round trips, is most of the cost of a small batch: 2 server
# processes at 500 respondents/s spent ~12 % less CPU with 4 ms than with none, and their p99
# fell); an idle server's respondent waits 4 ms more.
LINGER: Final = 0.004


@dataclass
class _Pending:
    job: Job
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Outcome]


def _settle(future: asyncio.Future[Outcome], outcome: Outcome | BaseException) -> None:
    if future.done():  # the request went away (client disconnected)
        return
    if isinstance(outcome, CxoError) or not isinstance(outcome, BaseException):
        future.set_result(outcome)
    else:
        future.set_exception(outcome)


class Intake:
    """The queue and writer thread of one app (one store)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: Connection | None = None  # the writer's own, held while jobs keep coming
        self.batches = 0
        self.jobs = 0
        self.largest = 0

    async def run(self, job: Job) -> Outcome:
        """Queue ``job`` and wait for its outcome (a :class:`CxoError` is returned, not raised)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._queue.put(_Pending(job, loop, future))
        self._ensure_writer()
        return await future

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._write_loop, name="cxo-survey-intake", daemon=True
                )
                self._thread.start()

    def _write_loop(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            deadline = time.monotonic() + LINGER
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        batch.append(self._queue.get(timeout=left))
                    except queue.Empty:
                        break
            self._write(batch)
            if self._queue.empty():
                self._release(broken=False)  # nothing waiting: give the connection back

    def _write(self, batch: list[_Pending]) -> None:
        self.batches += 1
        self.jobs += len(batch)
        self.largest = max(self.largest, len(batch))
        try:
            outcomes: list[Outcome | BaseException] = self._handle([p.job for p in batch])
        except Exception as exc:  # the whole batch rolled back
            if len(batch) == 1:
                outcomes = [exc]
            else:
                log.warning("survey batch of %d failed (%s); retrying one by one", len(batch), exc)
                for pending in batch:
                    self._write([pending])
                return
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.loop.call_soon_threadsafe(_settle, pending.future, outcome)

    def _handle(self, jobs: list[Job]) -> list[Outcome | BaseException]:
        # One connection is held while jobs keep coming (released when the queue runs dry), so a
        # batch under load costs no pool check-out or liveness ping (a round trip on
        # PostgreSQL, milliseconds on DuckDB). Any failure drops it, and a batch that found it
        # dead (a restarted server) runs again on a new one.
        while True:
            reused = self._conn is not None
            try:
                with write_lock(self.settings):
                    if self._conn is None:
                        try:
                            self._conn = get_engine(self.settings).connect()
                        except Exception as exc:
                            url = self.settings.effective_database_url
                            raise (translate_error(exc, url) or exc) from None
                    with self._conn.begin():
                        return list(handle(self._conn, jobs))
            except Exception as exc:
                self._release(broken=True)
                lost = isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
                if not (reused and lost):
                    raise
                log.info("the survey writer's connection was lost; reconnecting")

    def _release(self, *, broken: bool) -> None:
        """Give the held connection back (idle), or drop it (after a failure: its state is
        unknown)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                if broken:
                    conn.invalidate()
                conn.close()
            except Exception:
                log.debug("dropping the survey writer's connection failed", exc_info=True)
