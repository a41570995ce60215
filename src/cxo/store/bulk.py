"""Bulk paths between Arrow and the store, in the caller's transaction, on DuckDB and PostgreSQL.

Row-at-a-time inserts cost tens of microseconds each; identity resolution writes a million links.
DuckDB reads a registered Arrow table directly; PostgreSQL gets COPY into a temporary table.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.engines.backends import duckdb_connection

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
    append_rows(conn, name, data)
    try:
        yield name
    finally:
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {name}"))


def append_rows(
    conn: Connection,
    table: sa.Table | str,
    data: pa.Table,
    computed: dict[str, str] | None = None,
) -> int:
    """Append ``data`` (columns named as ``table``'s) in the caller's transaction, in bulk.

    DuckDB inserts from the registered Arrow table; there ``computed`` adds columns computed from
    the others (name -> SQL expression). PostgreSQL gets one COPY of the rows as CSV.
    """
    if data.num_rows == 0:
        return 0
    name = table if isinstance(table, str) else table.name
    cols = ", ".join(f'"{c}"' for c in data.column_names)
    if is_duckdb(conn):
        extra = computed or {}
        names = cols + "".join(f', "{c}"' for c in extra)
        exprs = cols + "".join(f", {e}" for e in extra.values())
        with staged(conn, data) as view:
            duckdb_connection(conn).execute(
                f"INSERT INTO {name} ({names}) SELECT {exprs} FROM {view}"  # noqa: S608
            )
        return data.num_rows
    from psycopg import sql

    from cxo.imports.arrowtext import iso_timestamps

    arrays = [iso_timestamps(c) if pa.types.is_timestamp(c.type) else c for c in data.columns]
    buffer = io.BytesIO()
    pacsv.write_csv(
        pa.table(arrays, names=data.column_names),
        buffer,
        write_options=pacsv.WriteOptions(include_header=False),
    )
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(name), sql.SQL(", ").join(map(sql.Identifier, data.column_names))
    )
    pg: Any = conn.connection.driver_connection
    with pg.cursor() as cur, cur.copy(statement) as copy:
        copy.write(buffer.getvalue())
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
