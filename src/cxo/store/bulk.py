"""Bulk paths between Arrow and the store, in the caller's transaction, on DuckDB and PostgreSQL.

Row-at-a-time inserts cost tens of microseconds each; identity resolution writes a million links.
DuckDB reads a registered Arrow table directly; PostgreSQL gets COPY into a temporary table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.engines.backends import _copy_rows, duckdb_connection

_PG_TYPES = {
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
    pa.string(): "TEXT",
    pa.large_string(): "TEXT",
    pa.date32(): "DATE",
}


def is_duckdb(conn: Connection) -> bool:
    return conn.dialect.name == "duckdb"


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    try:
        return _PG_TYPES[t]
    except KeyError:
        raise TypeError(f"no PostgreSQL type for Arrow type {t}") from None


@contextmanager
def staged(conn: Connection, data: pa.Table) -> Iterator[str]:
    """Make ``data`` readable by SQL on ``conn`` under the yielded (quoted-safe) name."""
    name = f"cxo_stage_{uuid.uuid4().hex[:10]}"
    if is_duckdb(conn):
        raw = duckdb_connection(conn)
        raw.register(name, data)
        try:
            yield name
        finally:
            raw.unregister(name)
        return
    cols = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in data.schema)
    conn.execute(sa.text(f"CREATE TEMP TABLE {name} ({cols}) ON COMMIT DROP"))
    if data.num_rows:
        _copy_rows(conn.connection.driver_connection, name, data)
    try:
        yield name
    finally:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


def append_rows(conn: Connection, table: sa.Table, data: pa.Table) -> int:
    """Insert every row of ``data`` (its columns name ``table``'s) into ``table``."""
    if data.num_rows == 0:
        return 0
    quote = conn.dialect.identifier_preparer.quote
    cols = ", ".join(quote(c) for c in data.column_names)
    if is_duckdb(conn):
        with staged(conn, data) as name:
            duckdb_connection(conn).execute(
                f"INSERT INTO {quote(table.name)} ({cols}) SELECT {cols} FROM {name}"  # noqa: S608
            )
    else:
        _copy_rows(conn.connection.driver_connection, table.name, data)
    return data.num_rows


def query_arrow(conn: Connection, query: sa.Select[Any] | str) -> pa.Table:
    """Run a SELECT on ``conn`` (inside its transaction) and return the rows as Arrow."""
    sql = (
        query
        if isinstance(query, str)
        else str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    )
    if is_duckdb(conn):
        return duckdb_connection(conn).sql(sql).to_arrow_table()
    result = conn.execute(sa.text(sql))
    names = list(result.keys())
    rows = result.all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(c)) for n, c in zip(names, columns, strict=True)})


def next_ids(conn: Connection, sequence: str, n: int) -> list[int]:
    """Draw ``n`` ids from ``sequence`` in one statement."""
    if n <= 0:
        return []
    if is_duckdb(conn):
        sql = f"SELECT nextval('{sequence}') FROM range({int(n)})"  # noqa: S608
    else:
        sql = f"SELECT nextval('{sequence}') FROM generate_series(1, {int(n)})"  # noqa: S608
    return [int(r[0]) for r in conn.execute(sa.text(sql))]
