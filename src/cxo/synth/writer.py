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

# String columns written with a Parquet dictionary: the generator's categorical columns (a few to
# a few hundred distinct values). Fixed per table, so no chunk pays for counting distinct values;
# a table not listed here (or a new column) falls back to sampling its first rows.
_DICTIONARY: dict[str, tuple[str, ...]] = {
    "branch_members": ("home_branch",),
    "crm_customers": ("english_name", "gender", "id_type"),
    "cti_callers": ("language",),
    "interactions": ("source_system", "channel", "touchpoint", "stage", "outcome", "team"),
    "survey_answers": ("response_source_record_id", "item_code", "scale", "value_text"),
    "survey_responses": ("locale",),
    "transactions": ("source_system", "currency", "product", "channel"),
    "web_accounts": (),
    "truth/customer_behaviour": ("currency",),
    "truth/interactions": ("kind",),
    "truth/persons": (
        "market",
        "city",
        "gender",
        "income_band",
        "segment",
        "family_name_zh",
        "english_name",
        "nickname",
        "name_romanisation",
        "family_name_pinyin",
        "family_name_hk",
        "family_name_hokkien",
        "given_name_hokkien",
    ),
    "truth/record_noise": ("source_system",),
    "truth/record_person": ("source_system",),
    "truth/survey_truth": ("segment", "market", "duplicate_of"),
    "truth/verbatims": ("language", "sentiment", "dimension"),
}
# zstd at a fast negative level: most of the writing time is compression, and level -3 takes
# about a third less time than the default level 1 for files about a sixth larger. Readers need
# no setting for this (the level only concerns the encoder).
COMPRESSION = "zstd"
COMPRESSION_LEVEL = -3


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


def _dictionary_columns(name: str, table: pa.Table) -> list[str]:
    """The string columns of ``table`` (output ``name``) to write with a Parquet dictionary."""
    listed = _DICTIONARY.get(name)
    if listed is None:
        return _low_cardinality(table)
    strings = {f.name for f in table.schema if pa.types.is_string(f.type)}
    return [c for c in listed if c in strings]


def write_parts(
    out: Path, chunk_index: int, tables: dict[str, pa.Table], *, csv: bool = False
) -> dict[str, int]:
    """Write each table of one chunk as ``out/<name>/part-NNNNN.parquet``; return rows per table."""
    rows: dict[str, int] = {}
    for name, table in tables.items():
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        stem = part_name(chunk_index)
        # No column statistics: min/max of long random strings is most of the cost of statistics,
        # and a demo world is read whole.
        pq.write_table(
            table,
            folder / f"{stem}.parquet",
            compression=COMPRESSION,
            compression_level=COMPRESSION_LEVEL,
            use_dictionary=_dictionary_columns(name, table),
            write_statistics=False,
        )
        if csv:
            pacsv.write_csv(table, folder / f"{stem}.csv")
        rows[name] = table.num_rows
    return rows
