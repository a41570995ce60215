"""Where the portable pipeline runs: an Ibis backend on DuckDB, PostgreSQL or Spark.

The pipeline (:mod:`cxo.engines.pipeline`) is pure Ibis; this module is the one place that knows
how each engine is reached, how the store's input tables get to it, and how results go back into
the store. Every dialect difference of the analytics seam lives here.

How each engine gets its inputs
-------------------------------
duckdb
    DuckDB store: in place, on the store's own connection (the file is never opened twice).
    PostgreSQL store: an in-memory DuckDB, the input tables copied in as Arrow.
postgres
    PostgreSQL store: in place, on a second connection to the store.
    DuckDB store: the database at ``analytics_postgres_url``, the input tables copied into
    temporary tables with COPY.
spark
    A SparkSession on ``spark_master``; the input tables are copied in and kept as temporary
    views for the run: through a Parquet file in a private scratch folder in local mode, as
    Arrow record batches shipped with the plan on a cluster.

"In place" means the engine computes where the data already lives; nothing is copied. Copies
carry only the columns the pipeline declares it reads, with one Arrow schema per column type
(:func:`arrow_schema`), so every engine sees the same types: ``wait_seconds`` is FLOAT (32-bit)
in a DuckDB store and DOUBLE PRECISION in a PostgreSQL one, and both arrive as float64.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from ibis.backends import BaseBackend
from sqlalchemy.engine import Connection

from cxo.errors import ConfigError, CxoError
from cxo.settings import Settings, mask_url

if TYPE_CHECKING:
    import duckdb
    from ibis.backends.postgres import Backend as PostgresBackend
    from pyspark.sql import SparkSession

EngineName = Literal["duckdb", "postgres", "spark"]
ENGINES: Final[tuple[EngineName, ...]] = ("duckdb", "postgres", "spark")

# Table name -> the columns the pipeline reads from it.
Inputs = Mapping[str, Sequence[str]]

SPARK_HINT = "Install the Spark extra (pip install 'cxo[spark]') and Java 17 or newer (JAVA_HOME)."


class EngineUnavailable(CxoError):
    """The analytics engine asked for cannot be started or reached."""

    exit_code = 5
    http_status = 503


@dataclass(frozen=True)
class ComputeBackend:
    """An Ibis backend with the pipeline's input tables bound to it."""

    engine: EngineName
    con: BaseBackend
    tables: Mapping[str, ibis.Table]
    in_place: bool
    """True when the engine computes on the store itself (no input was copied)."""

    def to_pyarrow(self, expr: ibis.Table) -> pa.Table:
        """Execute ``expr`` on this engine and return the result as an Arrow table."""
        return self.con.to_pyarrow(expr)


def check_engine(name: str) -> EngineName:
    """Return ``name`` as an engine name, or raise a ConfigError naming the choices."""
    if name not in ENGINES:
        raise ConfigError(
            f"Unknown analytics engine {name!r}.", hint=f"Use one of: {', '.join(ENGINES)}."
        )
    return name


def warm_up(settings: Settings, engine: str) -> None:
    """Start a slow engine (Spark) before the caller opens a store transaction."""
    if check_engine(engine) == "spark":
        spark_session(settings)


@contextmanager
def open_backend(
    settings: Settings, engine: str, conn: Connection, inputs: Inputs
) -> Iterator[ComputeBackend]:
    """Yield ``engine`` as an Ibis backend with the ``inputs`` tables of the store on ``conn``.

    ``conn`` is a connection to the store (``settings``); reading it is the only use made of it,
    so the caller may hold it in a read-only transaction. Anything the engine set up for the run
    (temporary tables and views, connections) is released on exit.
    """
    name = check_engine(engine)
    if name == "duckdb":
        opener = _duckdb_in_store if _is_duckdb(conn) else _duckdb_in_memory
        with opener(conn, inputs) as backend:
            yield backend
    elif name == "postgres":
        with _postgres(settings, conn, inputs) as backend:
            yield backend
    else:
        with _spark(settings, conn, inputs) as backend:
            yield backend


# -- DuckDB -------------------------------------------------------------------------------------


def _is_duckdb(conn: Connection) -> bool:
    return conn.dialect.name == "duckdb"


def duckdb_connection(conn: Connection) -> duckdb.DuckDBPyConnection:
    """The DuckDB connection under a SQLAlchemy connection to a DuckDB store.

    duckdb_engine wraps it in a ``ConnectionWrapper``; Ibis and Arrow registration want the
    connection itself.
    """
    import duckdb

    raw: Any = conn.connection.driver_connection
    inner = getattr(raw, "_ConnectionWrapper__c", raw)
    if not isinstance(inner, duckdb.DuckDBPyConnection):  # pragma: no cover - driver changed
        raise TypeError(f"expected a DuckDB connection, got {type(inner).__name__}")
    return inner


@contextmanager
def _duckdb_in_store(conn: Connection, inputs: Inputs) -> Iterator[ComputeBackend]:
    # A cursor is a second connection to the same in-process database, not a second open of the
    # file. It keeps Ibis's session settings (TimeZone, python_enable_replacements) and its
    # pending results off the pooled connection SQLAlchemy hands to the rest of cxo.
    with duckdb_connection(conn).cursor() as cur:
        con = ibis.duckdb.from_connection(cur)
        tables = {name: con.table(name).select(*cols) for name, cols in inputs.items()}
        yield ComputeBackend("duckdb", con, tables, in_place=True)


@contextmanager
def _duckdb_in_memory(conn: Connection, inputs: Inputs) -> Iterator[ComputeBackend]:
    con = ibis.duckdb.connect()
    try:
        tables = {
            name: con.create_table(name, read_arrow(conn, name, cols))
            for name, cols in inputs.items()
        }
        yield ComputeBackend("duckdb", con, tables, in_place=False)
    finally:
        con.disconnect()


# -- PostgreSQL ---------------------------------------------------------------------------------


def _postgres_url(settings: Settings) -> str:
    if not settings.is_duckdb:
        return settings.effective_database_url
    if settings.analytics_postgres_url:
        return settings.analytics_postgres_url
    raise ConfigError(
        "The postgres engine needs a PostgreSQL database, and the store is DuckDB.",
        hint="Set CXO_ANALYTICS_POSTGRES_URL=postgresql+psycopg://user:password@host:5432/db, "
        "or run with --engine duckdb.",
    )


def connect_postgres(url: str) -> PostgresBackend:
    """An Ibis PostgreSQL backend on its own (autocommit) connection to the SQLAlchemy ``url``."""
    import psycopg

    u = sa.engine.make_url(url)
    extra = {k: (v if isinstance(v, str) else v[-1]) for k, v in u.query.items()}
    extra.setdefault("connect_timeout", "5")
    try:
        return ibis.postgres.connect(
            host=u.host,
            port=u.port or 5432,
            user=u.username,
            password=u.password,
            database=u.database,
            **extra,
        )
    except psycopg.OperationalError:
        raise EngineUnavailable(
            f"Cannot reach the PostgreSQL database at {mask_url(url)}.",
            hint="Check the URL (CXO_DATABASE_URL or CXO_ANALYTICS_POSTGRES_URL) and that the "
            "server is running and accepts connections.",
        ) from None


@contextmanager
def _postgres(settings: Settings, conn: Connection, inputs: Inputs) -> Iterator[ComputeBackend]:
    con = connect_postgres(_postgres_url(settings))
    try:
        if not _is_duckdb(conn):
            tables = {name: con.table(name).select(*cols) for name, cols in inputs.items()}
            yield ComputeBackend("postgres", con, tables, in_place=True)
            return
        tables = {}
        for name, cols in inputs.items():
            # Temporary tables live in this session only; the prefix keeps them from shadowing
            # a real table of the same name in the analytics database.
            temp = f"cxo_input_{name}"
            data = read_arrow(conn, name, cols)
            con.create_table(temp, schema=ibis.Schema.from_pyarrow(data.schema), temp=True)
            _copy_rows(con.con, temp, data)
            tables[name] = con.table(temp)
        yield ComputeBackend("postgres", con, tables, in_place=False)
    finally:
        con.disconnect()


def _copy_rows(pg: Any, table: str, data: pa.Table) -> None:
    """Bulk-load ``data`` into ``table`` with COPY on the psycopg connection ``pg``."""
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, data.column_names))
    )
    with pg.cursor() as cur, cur.copy(statement) as copy:
        for batch in data.to_batches(max_chunksize=65_536):
            for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                copy.write_row(row)


# -- Spark --------------------------------------------------------------------------------------

_spark_lock = threading.Lock()
_spark_dir: Path | None = None
_session: SparkSession | None = None

_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
"""


def _spark_scratch() -> Path:
    """A private folder for Spark's warehouse, Derby home and scratch files, removed at exit.

    Spark otherwise creates ``spark-warehouse/`` (and Derby ``metastore_db/``) in the working
    directory, i.e. usually in a checkout.
    """
    global _spark_dir
    if _spark_dir is None:
        _spark_dir = Path(tempfile.mkdtemp(prefix="cxo-spark-"))
        (_spark_dir / "log4j2.properties").write_text(_LOG4J2, encoding="utf-8")
        atexit.register(shutil.rmtree, _spark_dir, ignore_errors=True)
    return _spark_dir


def spark_session(settings: Settings) -> SparkSession:
    """The process's SparkSession, started on first use on ``settings.spark_master``.

    Local mode by default (``local[2]``), no web UI, session time zone UTC, few shuffle partitions
    (inputs are modest and a local run pays for every partition). Start-up takes ~20 s; the
    session is then reused by every run in the process.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "The spark engine needs PySpark, which is not installed.", hint=SPARK_HINT
        ) from None
    global _session
    with _spark_lock:
        if _session is not None and _alive(_session):
            return _session
        scratch = _spark_scratch()
        java_opts = (
            f"-Dderby.system.home={scratch} -Dlog4j2.configurationFile={scratch}/log4j2.properties"
        )
        builder = cast(Any, SparkSession.builder)
        try:
            session: SparkSession = (
                builder.master(settings.spark_master)
                .appName("cxo")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
                .config("spark.local.dir", str(scratch / "local"))
                .config("spark.driver.extraJavaOptions", java_opts)
                .getOrCreate()
            )
        except Exception as exc:  # Py4J/JVM start-up failures come as many types
            raise EngineUnavailable(
                f"Cannot start Spark on {settings.spark_master}: {_first_line(exc)}",
                hint=SPARK_HINT + " Check CXO_SPARK_MASTER.",
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
        _session = session
        return session


def _alive(session: SparkSession) -> bool:
    # A stopped session's context has dropped its Java handle.
    return getattr(session.sparkContext, "_jsc", None) is not None


def stop_spark() -> None:
    """Stop the process's SparkSession, if cxo started one (tests, benchmarks)."""
    global _session
    with _spark_lock:
        if _session is not None:
            _session.stop()
            _session = None


def _spark_is_local(master: str) -> bool:
    """True when the executors run in this machine's driver JVM (local mode)."""
    return master.startswith("local")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


@contextmanager
def _spark(settings: Settings, conn: Connection, inputs: Inputs) -> Iterator[ComputeBackend]:
    session = spark_session(settings)
    try:
        import ibis.backends.pyspark  # fails early if ibis lacks its pyspark part
    except ImportError:
        raise EngineUnavailable(
            "The spark engine needs Ibis's PySpark backend.", hint=SPARK_HINT
        ) from None
    con = ibis.pyspark.connect(session)
    # In local mode, inputs go through a Parquet file in the scratch folder: Spark then scans it
    # in parallel, and the driver's heap never holds the rows. createDataFrame(arrow) would keep
    # them in the driver as a LocalRelation, rescanned on one core by every query; at a million
    # interactions that doubled the run time and ran a 1 GiB driver out of memory. Executors of
    # a cluster cannot read our scratch folder, so there the rows travel with the plan.
    local = _spark_is_local(settings.spark_master)
    views: list[str] = []
    files: list[Path] = []
    try:
        tables = {}
        for name, cols in inputs.items():
            view = f"cxo_input_{name}_{uuid.uuid4().hex[:8]}"
            data = read_arrow(conn, name, cols)
            if local:
                path = _spark_scratch() / f"{view}.parquet"
                pq.write_table(data, path)
                files.append(path)
                frame = session.read.parquet(str(path))
            else:
                frame = cast(Any, session).createDataFrame(data)
            frame.createOrReplaceTempView(view)
            views.append(view)
            tables[name] = con.table(view)
        yield ComputeBackend("spark", con, tables, in_place=False)
    finally:
        for view in views:
            session.catalog.dropTempView(view)
        for path in files:
            path.unlink(missing_ok=True)


# -- Arrow in and out of the store --------------------------------------------------------------


def arrow_type(column_type: sa.types.TypeEngine[Any]) -> pa.DataType:
    """The Arrow type a store column travels as (floats always as float64)."""
    if isinstance(column_type, sa.Integer):
        return pa.int64()
    if isinstance(column_type, sa.Float):  # Float and its subclass Double: always float64
        return pa.float64()
    if isinstance(column_type, sa.Numeric):
        precision = column_type.precision or 38
        return pa.decimal128(precision, column_type.scale or 0)
    if isinstance(column_type, sa.String):
        return pa.string()
    if isinstance(column_type, sa.Boolean):
        return pa.bool_()
    if isinstance(column_type, sa.DateTime):
        return pa.timestamp("us", tz="UTC" if column_type.timezone else None)
    if isinstance(column_type, sa.Date):
        return pa.date32()
    raise TypeError(f"no Arrow type for store column type {column_type!r}")


def arrow_schema(table: sa.Table, columns: Sequence[str]) -> pa.Schema:
    """The Arrow schema of ``columns`` of a store table."""
    return pa.schema(
        [
            pa.field(c, arrow_type(table.c[c].type), nullable=bool(table.c[c].nullable))
            for c in columns
        ]
    )


def _store_table(name: str) -> sa.Table:
    from cxo.store.tables import metadata

    try:
        return metadata.tables[name]
    except KeyError:
        raise ValueError(f"{name!r} is not a table of the store") from None


def read_arrow(conn: Connection, name: str, columns: Sequence[str]) -> pa.Table:
    """Read ``columns`` of the store table ``name`` as an Arrow table (types: :func:`arrow_schema`)."""
    table = _store_table(name)
    schema = arrow_schema(table, columns)
    query = sa.select(*(table.c[c] for c in columns))
    if _is_duckdb(conn):
        sql = str(query.compile(dialect=conn.dialect))
        with duckdb_connection(conn).cursor() as cur:
            return cur.sql(sql).to_arrow_table().cast(schema)
    rows = conn.execute(query).all()
    values = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    return pa.table(
        [pa.array(v, type=f.type) for v, f in zip(values, schema, strict=True)], schema=schema
    )


def replace_rows(conn: Connection, table: sa.Table, data: pa.Table) -> int:
    """Replace every row of the store table with ``data`` in the caller's transaction.

    Returns the number of rows there were before. Bulk paths: DuckDB inserts from the registered
    Arrow table, PostgreSQL uses COPY; both run on the caller's connection and transaction.
    """
    before = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    conn.execute(table.delete())
    if data.num_rows == 0:
        return before
    quote = conn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c) for c in data.column_names)
    if _is_duckdb(conn):
        raw = duckdb_connection(conn)
        view = f"cxo_rows_{uuid.uuid4().hex[:8]}"
        raw.register(view, data)
        try:
            raw.execute(f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM {view}")  # noqa: S608
        finally:
            raw.unregister(view)
    elif conn.dialect.name == "postgresql":
        _copy_rows(conn.connection.driver_connection, table.name, data)
    else:  # pragma: no cover - cxo stores are DuckDB or PostgreSQL
        conn.execute(table.insert(), data.to_pylist())
    return before
