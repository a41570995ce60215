"""Import rows into the store: a staging table per import, then set-based merges (DuckDB, PostgreSQL).

Checked rows are appended batch by batch to a temporary staging table in the import's transaction:
on DuckDB from registered Arrow batches (INSERT … SELECT), on PostgreSQL with COPY. When the file
is read, one merge per kind decides each staged row's outcome with SQL over the whole file, so
repeats within a file and rows already stored are judged the same way however the file is split
into batches:

customers
    ``source_records`` keyed by (source system, source record id). The last row of a key in the
    file wins; earlier rows of the key count as duplicates. A winner equal to the stored record
    (same payload hash) is a duplicate; a different one updates the stored record (accepted and
    updated); a new key is inserted (accepted).
interactions, transactions
    Append-only, keyed by (source system, source record id). New key: inserted (its first row in
    the file). Same key and content as stored, or as the key's first row in the file: duplicate.
    Different content: quarantined as ``conflict``, naming the fields that differ.
responses
    One ``responses`` row per response id, one ``answers`` row per (item, scale). A response already
    stored with a different survey, customer, locale or times, or rows of one response that
    disagree on those: ``conflict``. An answer equal to a stored one or to an earlier row:
    duplicate; a different value for the same item and scale: ``conflict``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.imports.parsing import DATE, TIMESTAMP
from cxo.store.bulk import append_rows, is_duckdb

# Staging column types: (DuckDB, PostgreSQL, Arrow).
_TYPES: Final[dict[str, tuple[str, str, pa.DataType]]] = {
    "text": ("VARCHAR", "TEXT", pa.string()),
    "bigint": ("BIGINT", "BIGINT", pa.int64()),
    "double": ("DOUBLE", "DOUBLE PRECISION", pa.float64()),
    "money": ("DECIMAL(18,2)", "NUMERIC(18,2)", pa.float64()),
    "date": ("DATE", "DATE", DATE),
    "timestamp": ("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE", TIMESTAMP),
}

KEY: Final = ("source_system", "source_record_id")
# Bound parameters, typed (PostgreSQL cannot infer a parameter's type from a SELECT list).
NOW: Final = "CAST(:now AS TIMESTAMP WITH TIME ZONE)"
IMPORT_ID: Final = "CAST(:import_id AS BIGINT)"
SOURCE: Final = "CAST(:source AS VARCHAR)"
CONTENT: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "interactions": (
        ("customer_record_id", "text"),
        ("channel", "text"),
        ("touchpoint", "text"),
        ("stage", "text"),
        ("started_at", "timestamp"),
        ("ended_at", "timestamp"),
        ("wait_seconds", "double"),
        ("handle_seconds", "double"),
        ("outcome", "text"),
        ("team", "text"),
    ),
    "transactions": (
        ("customer_record_id", "text"),
        ("occurred_at", "timestamp"),
        ("amount", "money"),
        ("currency", "text"),
        ("product", "text"),
        ("channel", "text"),
    ),
    "responses": (
        ("customer_record_id", "text"),
        ("survey", "text"),
        ("locale", "text"),
        ("started_at", "timestamp"),
        ("completed_at", "timestamp"),
        ("item_code", "text"),
        ("scale", "text"),
        ("value_num", "double"),
        ("value_text", "text"),
    ),
}
RESPONSE_HEADER: Final = ("customer_record_id", "survey", "locale", "started_at", "completed_at")
ANSWER_VALUE: Final = ("value_num", "value_text")


def stage_columns(kind: str) -> list[tuple[str, str]]:
    """The staging table's columns for ``kind``: (name, type key)."""
    if kind == "customers":
        return [
            ("src_row", "bigint"),
            ("source_record_id", "text"),
            ("payload", "text"),
            ("payload_hash", "text"),
        ]
    return [
        ("src_row", "bigint"),
        ("source_system", "text"),
        ("source_record_id", "text"),
        *CONTENT[kind],
    ]


def stage_schema(kind: str) -> pa.Schema:
    """The Arrow schema of the rows given to :meth:`Stage.append` (computed columns left out)."""
    return pa.schema(
        [(name, _TYPES[t][2]) for name, t in stage_columns(kind) if name != "payload_hash"]
    )


def _exec(conn: Connection, sql: str, **params: Any) -> int:
    return int(conn.execute(sa.text(sql), params).rowcount or 0)


def _scalar(conn: Connection, sql: str, **params: Any) -> Any:
    return conn.execute(sa.text(sql), params).scalar()


class Stage:
    """A temporary staging table for one import, dropped at the end of the transaction."""

    def __init__(self, conn: Connection, kind: str) -> None:
        self.conn = conn
        self.kind = kind
        self.name = f"cxo_import_stage_{uuid.uuid4().hex[:10]}"
        self.temps: list[str] = [self.name]
        self.rows = 0
        self.create(self.name, stage_columns(kind))

    def create(self, name: str, columns: list[tuple[str, str]]) -> None:
        dialect = 0 if is_duckdb(self.conn) else 1
        cols = ", ".join(f'"{c}" {_TYPES[t][dialect]}' for c, t in columns)
        suffix = "" if dialect == 0 else " ON COMMIT DROP"
        _exec(self.conn, f"CREATE TEMP TABLE {name} ({cols}){suffix}")

    def temp(self, prefix: str, select: str, **params: Any) -> str:
        """CREATE TEMP TABLE … AS ``select``; returns its name."""
        name = f"cxo_import_{prefix}_{uuid.uuid4().hex[:10]}"
        suffix = "" if is_duckdb(self.conn) else " ON COMMIT DROP"
        _exec(self.conn, f"CREATE TEMP TABLE {name}{suffix} AS {select}", **params)
        self.temps.append(name)
        return name

    def append(self, data: pa.Table) -> None:
        # DuckDB hashes customer payloads as they are staged (the staging runs in a thread of its
        # own while the next batch is read); PostgreSQL hashes them in the merge.
        computed = None
        if self.kind == "customers" and is_duckdb(self.conn):
            computed = {"payload_hash": sha256_sql(self.conn, "payload")}
        append_rows(self.conn, self.name, data, computed)
        self.rows += data.num_rows

    def drop(self) -> None:
        for name in reversed(self.temps):
            _exec(self.conn, f"DROP TABLE IF EXISTS {name}")
        self.temps = []


@dataclass
class MergeCounts:
    accepted: int = 0
    updated: int = 0
    duplicates: int = 0
    duplicates_in_file: int = 0
    conflicts: list[tuple[int, str]] = field(default_factory=list)
    """(row number, detail) of each staged row quarantined as a ``conflict``."""


def sha256_sql(conn: Connection, expr: str) -> str:
    if is_duckdb(conn):
        return f"sha256({expr})"
    return f"encode(sha256(convert_to({expr}, 'UTF8')), 'hex')"


def merge(stage: Stage, *, import_id: int, source: str, now: dt.datetime) -> MergeCounts:
    """Write the staged rows to the store (see the module docstring); return the outcome counts."""
    if stage.kind == "customers":
        return _merge_customers(stage, import_id=import_id, source=source, now=now)
    if stage.kind == "responses":
        from cxo.imports.responses import merge_responses

        return merge_responses(stage, import_id=import_id, now=now)
    return _merge_append_only(stage, import_id=import_id, now=now)


def _merge_customers(stage: Stage, *, import_id: int, source: str, now: dt.datetime) -> MergeCounts:
    conn, s = stage.conn, stage.name
    if not is_duckdb(conn):
        _exec(conn, f"UPDATE {s} SET payload_hash = {sha256_sql(conn, 'payload')}")  # noqa: S608
    unique = int(_scalar(conn, f"SELECT count(DISTINCT source_record_id) FROM {s}"))  # noqa: S608
    last = s
    if unique != stage.rows:
        # A key repeated in the file: its last row wins.
        last = stage.temp(
            "last",
            f"SELECT source_record_id, payload, payload_hash FROM ("  # noqa: S608
            f"SELECT *, row_number() OVER (PARTITION BY source_record_id ORDER BY src_row DESC)"
            f" AS k FROM {s}) ranked WHERE k = 1",
        )
    params = {"import_id": import_id, "now": now, "source": source}
    stored = _scalar(
        conn,
        f"SELECT count(*) FROM source_records WHERE source_system = {SOURCE}",  # noqa: S608
        source=source,
    )
    if not stored:  # the source's first import: no record to compare with (a cheaper insert)
        inserted = _exec(
            conn,
            "INSERT INTO source_records (source_system, source_record_id, payload, payload_hash, "  # noqa: S608
            f"import_id, created_at, updated_at) SELECT {SOURCE}, w.source_record_id, "
            f"CAST(w.payload AS JSON), w.payload_hash, {IMPORT_ID}, {NOW}, {NOW} FROM {last} w",
            **params,
        )
        return MergeCounts(
            accepted=inserted,
            duplicates=stage.rows - inserted,
            duplicates_in_file=stage.rows - unique,
        )
    updated = _exec(
        conn,
        f"UPDATE source_records SET payload = CAST(w.payload AS JSON), "  # noqa: S608
        f"payload_hash = w.payload_hash, import_id = {IMPORT_ID}, updated_at = {NOW} "
        f"FROM {last} w WHERE source_records.source_system = {SOURCE} "
        f"AND source_records.source_record_id = w.source_record_id "
        f"AND source_records.payload_hash <> w.payload_hash",
        **params,
    )
    inserted = _exec(
        conn,
        "INSERT INTO source_records (source_system, source_record_id, payload, payload_hash, "  # noqa: S608
        "import_id, created_at, updated_at) "
        f"SELECT {SOURCE}, w.source_record_id, CAST(w.payload AS JSON), w.payload_hash, {IMPORT_ID},"
        f" {NOW}, {NOW} FROM {last} w WHERE NOT EXISTS (SELECT 1 FROM source_records r "
        f"WHERE r.source_system = {SOURCE} AND r.source_record_id = w.source_record_id)",
        **params,
    )
    return MergeCounts(
        accepted=updated + inserted,
        updated=updated,
        duplicates=stage.rows - updated - inserted,
        duplicates_in_file=stage.rows - unique,
    )


def same_sql(a: str, b: str, columns: tuple[str, ...]) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in columns) or "TRUE"


def differs_sql(a: str, b: str, columns: tuple[str, ...]) -> str:
    parts = ", ".join(f"CASE WHEN {a}.{c} IS DISTINCT FROM {b}.{c} THEN '{c}' END" for c in columns)
    return f"concat_ws(', ', {parts})"


def _merge_append_only(stage: Stage, *, import_id: int, now: dt.datetime) -> MergeCounts:
    conn, s, kind = stage.conn, stage.name, stage.kind
    content = tuple(name for name, _ in CONTENT[kind])
    columns = ", ".join(["source_system", "source_record_id", *content])
    key = " AND ".join(f"{{a}}.{k} = {{b}}.{k}" for k in KEY)
    unique = _scalar(
        conn,
        f"SELECT count(*) FROM (SELECT DISTINCT source_system, source_record_id FROM {s}) k",  # noqa: S608
    )
    stored = _scalar(
        conn,
        f"SELECT count(*) FROM {kind} WHERE source_system IN "  # noqa: S608
        f"(SELECT DISTINCT source_system FROM {s})",
    )
    if unique == stage.rows and not stored:  # nothing to compare with: every row is new
        accepted = _exec(
            conn,
            f"INSERT INTO {kind} ({columns}, created_at) SELECT {columns}, {NOW} FROM {s}",  # noqa: S608
            now=now,
        )
        return MergeCounts(accepted=accepted)
    outcome = stage.temp(
        "outcome",
        f"WITH r AS (SELECT *, row_number() OVER (PARTITION BY source_system, source_record_id "  # noqa: S608
        f"ORDER BY src_row) AS k FROM {s}) "
        f"SELECT r.src_row, "
        f"CASE WHEN t.id IS NOT NULL THEN "
        f"  CASE WHEN {same_sql('r', 't', content)} THEN 'duplicate' ELSE 'conflict' END "
        f"WHEN r.k = 1 THEN 'new' "
        f"WHEN {same_sql('r', 'f', content)} THEN 'duplicate' ELSE 'conflict' END AS outcome, "
        f"CASE WHEN t.id IS NOT NULL THEN {differs_sql('r', 't', content)} "
        f"WHEN r.k > 1 THEN {differs_sql('r', 'f', content)} END AS differs, "
        f"CASE WHEN t.id IS NULL THEN f.src_row END AS first_row, r.k "
        f"FROM r LEFT JOIN {kind} t ON {key.format(a='t', b='r')} "
        f"LEFT JOIN r f ON {key.format(a='f', b='r')} AND f.k = 1 AND r.k > 1",
    )
    accepted = _exec(
        conn,
        f"INSERT INTO {kind} ({columns}, created_at) SELECT {_prefixed('s', columns)}, {NOW} "  # noqa: S608
        f"FROM {s} s JOIN {outcome} o ON o.src_row = s.src_row WHERE o.outcome = 'new'",
        now=now,
    )
    noun = kind[:-1]
    conflicts = conflict_rows(
        stage,
        outcome,
        f"'{noun} ' || s.source_record_id || CASE WHEN o.first_row IS NULL "
        f"THEN ' is already stored with a different ' "
        f"ELSE ' differs from row ' || CAST(o.first_row AS VARCHAR) || ' of this file in ' END "
        f"|| o.differs",
    )
    duplicates = int(
        _scalar(conn, f"SELECT count(*) FROM {outcome} WHERE outcome = 'duplicate'")  # noqa: S608
    )
    in_file = int(
        _scalar(
            conn,
            f"SELECT count(*) FROM {outcome} WHERE outcome = 'duplicate' AND k > 1",  # noqa: S608
        )
    )
    return MergeCounts(
        accepted=accepted, duplicates=duplicates, duplicates_in_file=in_file, conflicts=conflicts
    )


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


def conflict_rows(stage: Stage, outcome: str, detail_sql: str) -> list[tuple[int, str]]:
    """(row number, detail) of the staged rows whose outcome is 'conflict' (``detail_sql`` over
    the stage ``s`` and the outcome ``o``), in row order.

    Their ``raw`` text is not staged (it would double what the store holds for every row); the
    caller reads those few rows again from the file.
    """
    rows = stage.conn.execute(
        sa.text(
            f"SELECT s.src_row, {detail_sql} FROM {stage.name} s "  # noqa: S608
            f"JOIN {outcome} o ON o.src_row = s.src_row WHERE o.outcome = 'conflict' "
            f"ORDER BY s.src_row"
        )
    ).all()
    return [(int(n), str(d)) for n, d in rows]
