"""JSON Lines sources: one JSON object per line, its keys the columns.

The columns are the keys met in the first batch of lines (in order of appearance); keys first met
later are ignored and listed in ``extra_columns``. A line that is not a JSON object is rejected as
``bad_json``, one with bytes that are not text as ``bad_encoding``. Values become source text:
strings as they are, other scalars and nested values as JSON.
"""

from __future__ import annotations

import codecs
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from cxo.imports.readers import BAD_BYTES, Batch, Rejected, Source, text_batch, utf8_stream


class JsonLinesSource(Source):
    """One JSON object per line; its keys are the columns (those of the first batch of lines)."""

    format = "jsonl"

    def __init__(self, path: Path, size: int, batch_rows: int, *, encoding: str) -> None:
        super().__init__(path, size, batch_rows)
        self.encoding = encoding
        self._rows = self._parse()
        self._first = next(self._rows, None)
        if self._first is not None:
            self.columns = self._first[0]

    def _parse(
        self,
    ) -> Iterator[tuple[list[str], list[tuple[int, dict[str, Any]]], list[Rejected], int]]:
        counting, stream = utf8_stream(self.path, self.encoding or "utf-8")
        columns: list[str] = []
        known: set[str] = set()
        extra: set[str] = set()
        number = 0
        rows: list[tuple[int, dict[str, Any]]] = []
        rejected: list[Rejected] = []
        try:
            with io.BufferedReader(stream, 1 << 20) as lines:
                for raw in lines:
                    if number == 0 and raw.startswith(codecs.BOM_UTF8):
                        raw = raw[3:]
                    if not raw.strip():
                        continue
                    number += 1
                    obj = _json_row(number, raw, rejected)
                    if obj is not None:
                        rows.append((number, obj))
                        for key in obj:
                            if key in known:
                                continue
                            if self.columns and key not in extra:
                                extra.add(key)
                                self.extra_columns.append(key)
                            elif not self.columns:
                                known.add(key)
                                columns.append(key)
                    if len(rows) + len(rejected) >= self.batch_rows:
                        yield columns, rows, rejected, counting.count
                        rows, rejected = [], []
            if rows or rejected:
                yield columns, rows, rejected, counting.count
        finally:
            stream.close()
        if counting.count == self.size:
            self._sha = counting.digest.hexdigest()

    def batches(self) -> Iterator[Batch]:
        pending = [self._first] if self._first is not None else []
        for columns, rows, rejected, position in [*pending, *self._rows]:
            if not self.columns:
                self.columns = list(columns)
            arrays = [
                pa.array([_text(obj.get(c)) for _, obj in rows], pa.string()) for c in self.columns
            ]
            numbers = np.array([n for n, _ in rows], dtype=np.int64)
            yield Batch(text_batch(self.columns, arrays), numbers, rejected, position)


def _json_row(number: int, raw: bytes, rejected: list[Rejected]) -> dict[str, Any] | None:
    try:
        line = raw.decode("utf-8").strip()
        if BAD_BYTES in line:  # marked by the transcoder
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "undecodable bytes")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace").strip()
        rejected.append(
            Rejected(
                number,
                "bad_encoding",
                "bytes that are not valid text",
                json.dumps({"_line": text}, ensure_ascii=False),
            )
        )
        return None
    try:
        obj = json.loads(line)
    except ValueError as exc:
        detail = (
            f"not JSON: {exc.msg} at character {exc.pos + 1}"
            if isinstance(exc, json.JSONDecodeError)
            else "not JSON"
        )
        rejected.append(
            Rejected(number, "bad_json", detail, json.dumps({"_line": line}, ensure_ascii=False))
        )
        return None
    if not isinstance(obj, dict):
        rejected.append(
            Rejected(
                number,
                "bad_json",
                f"a JSON {type(obj).__name__}, not an object",
                json.dumps({"_line": line}, ensure_ascii=False),
            )
        )
        return None
    return obj


def _text(value: Any) -> str | None:
    """A JSON value as source text: strings as they are, other scalars as JSON, nested as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
