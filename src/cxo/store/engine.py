"""Opening the store: one SQLAlchemy engine per database URL, with clear errors.

DuckDB admits one writing process per file. When another process (usually ``cxo serve``) holds
the file, DuckDB refuses the lock at once; we turn that into :class:`StoreLocked` with a hint,
so a CLI command exits non-zero instead of hanging or writing half its work.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cxo.errors import StoreLocked, StoreUnavailable
from cxo.settings import Settings, mask_url

_engines: dict[str, Engine] = {}
_lock = threading.Lock()
# DuckDB resolves concurrent writers by failing the later commit ("transaction conflict"); within one
# process (the web server's threads) we queue write transactions instead.
_duckdb_write_lock = threading.RLock()


def get_engine(settings: Settings) -> Engine:
    """Return the (cached) engine for the settings' store."""
    url = settings.effective_database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url, settings)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    """Close every pooled connection (tests, and before handing a DuckDB file to another process)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def _create_engine(url: str, settings: Settings) -> Engine:
    if url.startswith("duckdb"):
        path = url.removeprefix("duckdb:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return sa.create_engine(url, pool_pre_ping=False)
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        connect_args={"connect_timeout": 5},
    )


def translate_error(exc: BaseException, url: str) -> Exception | None:
    """Map a driver error to a user-facing store error, or None if it is not about availability."""
    text = str(exc)
    if "Could not set lock on file" in text or "Conflicting lock" in text:
        return StoreLocked(
            f"The database file is in use by another cxo process ({_pid_hint(text)}).",
            hint="Stop `cxo serve` (or the other command) first, or use a PostgreSQL store "
            "(CXO_DATABASE_URL) for concurrent writers.",
        )
    lowered = text.lower()
    unreachable = "connection" in lowered and any(
        word in lowered for word in ("refused", "could not", "timeout")
    )
    if isinstance(exc, sa.exc.OperationalError) or unreachable:
        return StoreUnavailable(
            f"Cannot reach the database at {mask_url(url)}.",
            hint="Check CXO_DATABASE_URL and that the server is running and accepts connections.",
        )
    return None


def _pid_hint(text: str) -> str:
    marker = "PID "
    if marker in text:
        pid = text.split(marker, 1)[1].split(")", 1)[0].split()[0]
        return f"PID {pid}"
    return "another process"


def write_lock(settings: Settings) -> AbstractContextManager[object]:
    """What a writing transaction holds: on DuckDB the process's write lock (one writer at a
    time), on PostgreSQL nothing."""
    return _duckdb_write_lock if settings.is_duckdb else nullcontext()


@contextmanager
def connect(settings: Settings, *, write: bool = False) -> Iterator[Connection]:
    """A connection inside one transaction: committed on success, rolled back on any error.

    Pass ``write=True`` for transactions that write, so that on DuckDB they run one at a time.
    """
    if write and settings.is_duckdb:
        with _duckdb_write_lock, _connect(settings) as conn:
            yield conn
    else:
        with _connect(settings) as conn:
            yield conn


@contextmanager
def _connect(settings: Settings) -> Iterator[Connection]:
    engine = get_engine(settings)
    try:
        conn = engine.connect()
    except Exception as exc:  # translate driver errors, keep everything else
        translated = translate_error(exc, settings.effective_database_url)
        if translated is not None:
            # A failed DuckDB open leaves nothing to reuse: drop the engine so a retry reopens.
            with _lock:
                _engines.pop(settings.effective_database_url, None)
            raise translated from None
        raise
    try:
        with conn.begin():
            yield conn
    finally:
        conn.close()
