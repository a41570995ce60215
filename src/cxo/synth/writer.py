"""Chunked output: one Parquet file (and optionally one CSV file) per table, appended chunk by chunk."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


class ChunkedWriter:
    """Append Arrow tables to ``DIR/<name>.parquet`` (and ``.csv``); names may contain ``truth/``."""

    def __init__(self, out: Path, *, csv: bool = False) -> None:
        self.out = out
        self.csv = csv
        self._parquet: dict[str, pq.ParquetWriter] = {}
        self._csv: dict[str, pacsv.CSVWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        path = self.out / f"{name}.parquet"
        writer = self._parquet.get(name)
        if writer is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            self._parquet[name] = writer
            self.rows[name] = 0
        writer.write_table(table.cast(writer.schema))
        self.rows[name] += table.num_rows
        if self.csv:
            cw = self._csv.get(name)
            if cw is None:
                cw = pacsv.CSVWriter(self.out / f"{name}.csv", table.schema)
                self._csv[name] = cw
            cw.write_table(table.cast(table.schema))

    def close(self) -> None:
        for w in self._parquet.values():
            w.close()
        for c in self._csv.values():
            c.close()
        self._parquet.clear()
        self._csv.clear()

    def __enter__(self) -> ChunkedWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
