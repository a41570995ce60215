"""Chunked output: each table is a folder of part files, one per chunk of persons.

``DIR/interactions/part-00000.parquet``, ``part-00001.parquet``, … (and ``.csv`` beside them on
request). DuckDB, Spark, pandas and pyarrow read such a folder as one table
(``read_parquet('DIR/interactions/*.parquet')``, ``pq.read_table('DIR/interactions')``). Writing a
chunk's parts in the process that generated it keeps memory bounded and lets chunks run in parallel.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

_SAMPLE = 4096
_FEW = 256


def part_name(chunk_index: int) -> str:
    return f"part-{chunk_index:05d}"


def _low_cardinality(table: pa.Table) -> list[str]:
    """String columns with few distinct values among their first rows: dictionary-encode those.

    Dictionary-encoding a column of ids or hashes costs time and saves nothing, so only columns
    such as ``channel`` or ``team`` get a dictionary.
    """
    head = table.slice(0, _SAMPLE)
    return [
        name
        for name, col in zip(head.column_names, head.columns, strict=True)
        if pa.types.is_string(col.type) and pc.count_distinct(col).as_py() <= _FEW
    ]


def write_parts(
    out: Path, chunk_index: int, tables: dict[str, pa.Table], *, csv: bool = False
) -> dict[str, int]:
    """Write each table of one chunk as ``out/<name>/part-NNNNN.parquet``; return rows per table."""
    rows: dict[str, int] = {}
    for name, table in tables.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        stem = part_name(chunk_index)
        # zstd without column statistics: min/max of long random strings is most of the cost of
        # statistics, and a demo world is read whole.
        pq.write_table(
            table,
            folder / f"{stem}.parquet",
            compression="zstd",
            use_dictionary=_low_cardinality(table),
            write_statistics=False,
        )
        if csv:
            pacsv.write_csv(table, folder / f"{stem}.csv")
        rows[name] = table.num_rows
    return rows
