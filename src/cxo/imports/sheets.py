"""Excel (.xlsx) and Parquet sources: typed cells and columns turned into source text.

Excel: the first sheet (or the mapping's ``sheet``), read with openpyxl in read-only mode, row by
row; the first non-blank row is the header; blank rows are skipped and not counted. Cells become
text the way a person reads them: whole numbers without ``.0`` (a phone number typed as a number
stays a phone number), dates as ``YYYY-MM-DD``, date-times as ``YYYY-MM-DD HH:MM:SS``.

Parquet: row groups streamed with ``ParquetFile.iter_batches``; columns of every type become text
(timestamps as ISO 8601 in UTC, naive ones taken as UTC).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cxo.imports.arrowtext import as_array, iso_timestamps
from cxo.imports.errors import ImportFileError
from cxo.imports.readers import Batch, Rejected, Source, clean_names, raw_json, text_batch
from cxo.vocabulary import N_


def cell_text(value: Any) -> str | None:
    """An Excel cell value as source text (None for an empty cell)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


class XlsxSource(Source):
    format = "xlsx"

    def __init__(self, path: Path, size: int, batch_rows: int, *, sheet: str | None) -> None:
        super().__init__(path, size, batch_rows)
        import openpyxl

        try:
            self.book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            raise ImportFileError(
                N_("cannot read %(name)s as an Excel workbook (.xlsx)."),
                hint=N_("Open it in Excel and save it again as .xlsx, or export CSV."),
                name=path.name,
            ) from None
        names = self.book.sheetnames
        if sheet is not None and sheet not in names:
            self.book.close()
            raise ImportFileError(
                N_("The workbook %(name)s has no sheet %(sheet)s."),
                hint=N_("Sheets in it: %(sheets)s."),
                name=path.name,
                sheet=repr(sheet),
                sheets=", ".join(repr(n) for n in names),
            )
        self.sheet = sheet or names[0]
        self.ws = self.book[self.sheet]
        self._rows = self.ws.iter_rows(values_only=True)
        header: list[str] = []
        for row in self._rows:
            texts = [cell_text(v) for v in row]
            if any(t is not None and t.strip() for t in texts):
                header = [t or "" for t in texts]
                break
        while header and not header[-1].strip():
            header.pop()
        if not header:
            self.book.close()
            raise ImportFileError(
                N_("The sheet %(sheet)s of %(name)s is empty."),
                hint=N_("Choose the sheet with the data (sheet: in the mapping)."),
                sheet=repr(self.sheet),
                name=path.name,
            )
        self.columns = clean_names(header)
        self.total_rows = self.ws.max_row or 0

    def close(self) -> None:
        self.book.close()

    def batches(self) -> Iterator[Batch]:
        width = len(self.columns)
        number, seen = 0, 1
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        rejected: list[Rejected] = []
        for row in self._rows:
            seen += 1
            texts = [cell_text(v) for v in row]
            if not any(t is not None and t.strip() for t in texts):
                continue
            number += 1
            extra = [t for t in texts[width:] if t is not None and t.strip()]
            if extra:
                detail = f"{width + len(extra)} cells where the header has {width}"
                raw = raw_json(self.columns, texts[:width], extra)
                rejected.append(Rejected(number, "ragged_row", detail, raw))
            else:
                rows.append(texts[:width] + [None] * (width - len(texts)))
                numbers.append(number)
            if len(rows) + len(rejected) >= self.batch_rows:
                yield self._batch(rows, numbers, rejected, seen)
                rows, numbers, rejected = [], [], []
        if rows or rejected:
            yield self._batch(rows, numbers, rejected, seen)

    def _batch(
        self, rows: list[list[str | None]], numbers: list[int], rejected: list[Rejected], seen: int
    ) -> Batch:
        arrays = [pa.array([r[i] for r in rows], pa.string()) for i in range(len(self.columns))]
        position = int(self.size * min(1.0, seen / self.total_rows)) if self.total_rows else 0
        return Batch(
            text_batch(self.columns, arrays),
            np.array(numbers, dtype=np.int64),
            rejected,
            position,
        )


class ParquetSource(Source):
    format = "parquet"

    def __init__(self, path: Path, size: int, batch_rows: int) -> None:
        super().__init__(path, size, batch_rows)
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError):
            raise ImportFileError(
                N_("cannot read %(name)s as a Parquet file."),
                hint=N_("Check that the file is complete and really Parquet."),
                name=path.name,
            ) from None
        self.columns = clean_names(list(self.file.schema_arrow.names))
        self.total_rows = self.file.metadata.num_rows

    def close(self) -> None:
        self.file.close()

    def batches(self) -> Iterator[Batch]:
        done = 0
        for record in self.file.iter_batches(batch_size=self.batch_rows):
            numbers = np.arange(done + 1, done + record.num_rows + 1, dtype=np.int64)
            done += record.num_rows
            arrays = [_as_text(as_array(c)) for c in record.columns]
            bad = np.zeros(record.num_rows, dtype=bool)
            for a in arrays:
                if a.type == pa.binary():
                    bad |= np.array([v is not None and not _utf8(v) for v in a.to_pylist()])
            rejected: list[Rejected] = []
            if bad.any():
                for i in np.flatnonzero(bad).tolist():
                    values = [_lossy(a[i].as_py()) for a in arrays]
                    detail = "bytes that are not valid UTF-8"
                    raw = raw_json(self.columns, values)
                    rejected.append(Rejected(int(numbers[i]), "bad_encoding", detail, raw))
                keep = pa.array(~bad)
                arrays = [a.filter(keep) for a in arrays]
                numbers = numbers[~bad]
            arrays = [a.cast(pa.string()) for a in arrays]
            position = int(self.size * done / self.total_rows) if self.total_rows else 0
            yield Batch(text_batch(self.columns, arrays), numbers, rejected, position)


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _lossy(value: Any) -> Any:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _as_text(arr: pa.Array) -> pa.Array:
    """A Parquet column as text (binary columns stay binary until checked as UTF-8)."""
    t = arr.type
    if pa.types.is_dictionary(t):
        return _as_text(as_array(arr.cast(t.value_type)))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        try:
            return arr.cast(pa.string())
        except pa.ArrowInvalid:
            return arr.cast(pa.binary())
    if pa.types.is_timestamp(t):
        utc = pc.cast(arr, pa.timestamp("us", tz=t.tz or "UTC"), safe=False)
        return iso_timestamps(utc.cast(pa.timestamp("us", tz="UTC")))
    if pa.types.is_boolean(t):
        return as_array(pc.if_else(arr, "true", "false"))
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_date(t)
        or pa.types.is_time(t)
    ):
        return arr.cast(pa.string())
    return pa.array(
        [
            None if v is None else json.dumps(v, ensure_ascii=False, default=str)
            for v in arr.to_pylist()
        ],
        pa.string(),
    )
