"""Read an import file as batches of text columns, streaming: the file never sits whole in memory.

:func:`open_source` checks the file (exists, not a directory, not empty, not larger than
``import_max_bytes``, a known extension), finds its text encoding and returns a :class:`Source`
whose :meth:`~Source.batches` yield :class:`Batch` es: an Arrow record batch with every source
column as a string column, the 1-based data row number of each row (the header is not a data row;
blank lines and blank spreadsheet rows are not counted), and the rows the reader could not read at
all (``ragged_row``, ``bad_encoding``, ``bad_json``) with their row numbers.

Text encodings (CSV, TSV, JSON Lines): a byte-order mark decides (UTF-8, UTF-16); otherwise the
first few MB must be strict UTF-8, else GB18030 (a superset of GBK and GB2312); if neither
decodes, the error names the byte offset and suggests ``--encoding``. Text that is not UTF-8 is
transcoded as it streams; bytes that are not valid in the encoding found, anywhere in the file,
quarantine their row as ``bad_encoding`` instead of stopping the import.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from cxo.imports.errors import ImportFileError
from cxo.vocabulary import N_

FORMATS: Final[dict[str, str]] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
SAMPLE_BYTES: Final = 4 * 1024 * 1024
DELIMITERS: Final = (",", "\t", ";", "|")
_UTF8: Final = frozenset({"utf-8", "utf-8-sig"})


@dataclass(frozen=True)
class Rejected:
    """A row the reader could not turn into columns."""

    row_number: int
    reason: str
    detail: str
    raw: str


@dataclass
class Batch:
    data: pa.RecordBatch
    row_numbers: np.ndarray
    rejected: list[Rejected] = field(default_factory=list)
    position: int = 0
    """Bytes of the file read so far (estimated for xlsx and Parquet), for progress."""

    @property
    def rows_read(self) -> int:
        return self.data.num_rows + len(self.rejected)


class Source:
    """An open import file. Use as a context manager; iterate :meth:`batches` once."""

    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None

    def __init__(self, path: Path, size: int, batch_rows: int) -> None:
        self.path = path
        self.size = size
        self.batch_rows = batch_rows
        self.columns: list[str] = []
        self.extra_columns: list[str] = []
        """Columns met after the header was fixed (JSON Lines keys first seen late); ignored."""
        self._sha: str | None = None

    def batches(self) -> Iterator[Batch]:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds open (most hold nothing between batches)."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def sha256(self) -> str:
        """SHA-256 of the file's bytes (from the bytes read when the source read them all)."""
        if self._sha is None:
            digest = hashlib.sha256()
            with self.path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            self._sha = digest.hexdigest()
        return self._sha


def file_format(path: Path) -> str:
    """The format an extension names, or a clear error."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(
            N_("cxo cannot import %(name)s: unknown file type %(ext)s."),
            hint=N_("Import .csv, .tsv, .txt, .xlsx, .parquet, .jsonl or .ndjson files."),
            name=path.name,
            ext=repr(path.suffix or "(none)"),
        )
    return fmt


def check_file(path: Path, max_bytes: int | None) -> int:
    """The file's size, after checking it can be imported at all."""
    if not path.exists():
        raise ImportFileError(
            N_("The file %(path)s does not exist."), hint=N_("Check the path."), path=str(path)
        )
    if path.is_dir():
        raise ImportFileError(
            N_("%(path)s is a folder, not a file."),
            hint=N_("Import the files in it one at a time."),
            path=str(path),
        )
    file_format(path)
    size = path.stat().st_size
    if size == 0:
        raise ImportFileError(
            N_("The file %(path)s is empty."), hint=N_("Check the export."), path=str(path)
        )
    if max_bytes is not None and size > max_bytes:
        raise ImportFileError(
            N_("The file %(path)s has %(size)s bytes, more than the %(limit)s bytes allowed."),
            hint=N_("Split it into smaller files, or raise CXO_IMPORT_MAX_BYTES."),
            path=str(path),
            size=f"{size:,}",
            limit=f"{max_bytes:,}",
        )
    return size


def open_source(
    path: Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    batch_rows: int = 65_536,
    max_bytes: int | None = None,
) -> Source:
    """Check ``path`` and open it for reading (format from the extension)."""
    size = check_file(path, max_bytes)
    fmt = file_format(path)
    if fmt == "xlsx":
        from cxo.imports.sheets import XlsxSource

        return XlsxSource(path, size, batch_rows, sheet=sheet)
    if fmt == "parquet":
        from cxo.imports.sheets import ParquetSource

        return ParquetSource(path, size, batch_rows)
    enc = check_encoding(encoding) if encoding else detect_encoding(path)
    if fmt == "jsonl":
        from cxo.imports.jsonl import JsonLinesSource

        return JsonLinesSource(path, size, batch_rows, encoding=enc)
    return CsvSource(path, size, batch_rows, encoding=enc)


# -- encodings ----------------------------------------------------------------------------------


def check_encoding(name: str) -> str:
    """Python's name for an encoding given by the user, or a clear error."""
    try:
        return codecs.lookup(name.strip()).name
    except LookupError:
        raise ImportFileError(
            N_("Unknown text encoding %(encoding)s."),
            hint=N_("Use for example utf-8, gb18030, big5 or latin-1."),
            encoding=repr(name),
        ) from None


def detect_encoding(path: Path, sample_bytes: int | None = None) -> str:
    """utf-8-sig / utf-16 by byte-order mark; else utf-8 or gb18030 by trial over the sample.

    A few bytes that are not UTF-8 in text that otherwise is (and is not GB18030) still make it
    UTF-8: their rows are quarantined as ``bad_encoding`` rather than the import refused.
    """
    with path.open("rb") as fh:
        sample = fh.read(sample_bytes or SAMPLE_BYTES)
        complete = not fh.read(1)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    offsets = []
    for candidate in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(candidate)("strict").decode(sample, final=complete)
            return candidate
        except UnicodeDecodeError as exc:
            offsets.append(exc.start)
    errors = _utf8_errors(sample, complete)
    if errors <= max(3, len(sample) // 100_000):
        return "utf-8"
    raise ImportFileError(
        N_(
            "cannot tell the text encoding of %(name)s: it is not UTF-8 (byte %(utf8)s) "
            "nor GB18030 (byte %(gb)s)."
        ),
        hint=N_("Give its encoding with --encoding, for example --encoding big5."),
        name=path.name,
        utf8=f"{offsets[0]:,}",
        gb=f"{offsets[1]:,}",
    )


def _utf8_errors(sample: bytes, complete: bool) -> int:
    """How many undecodable stretches the sample has as UTF-8."""
    count = 0

    def handler(exc: UnicodeError) -> tuple[str, int]:
        nonlocal count
        count += 1
        return "", getattr(exc, "end", 0)

    codecs.register_error("cxo_count", handler)
    codecs.getincrementaldecoder("utf-8")("cxo_count").decode(sample, final=complete)
    return count


class _Counting(io.RawIOBase):
    """Reads a binary file, counting and hashing the bytes as they pass."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.digest.update(memoryview(buffer)[:n])
            self.count += n
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


# Undecodable bytes become this noncharacter (reserved for internal use; valid UTF-8), so Arrow
# always sees valid text and the rows holding it are quarantined as bad_encoding.
BAD_BYTES: Final = "\ufdd0"
codecs.register_error("cxo_mark", lambda exc: (BAD_BYTES, getattr(exc, "end", 0)))


class _Transcoder(io.RawIOBase):
    """Streams a file in ``encoding`` as UTF-8, undecodable bytes marked as :data:`BAD_BYTES`."""

    def __init__(self, source: io.RawIOBase, encoding: str) -> None:
        self.source = source
        self.decoder = codecs.getincrementaldecoder(encoding)("cxo_mark")
        self.pending = b""
        self.eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = len(buffer)
        while len(self.pending) < want and not self.eof:
            chunk = self.source.read(1 << 20)
            self.eof = not chunk
            text = self.decoder.decode(chunk or b"", final=self.eof)
            self.pending += text.encode("utf-8")
        n = min(want, len(self.pending))
        buffer[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n

    def close(self) -> None:
        self.source.close()
        super().close()


def utf8_stream(
    path: Path, encoding: str, *, transcode: bool = False
) -> tuple[_Counting, io.RawIOBase]:
    """The file as UTF-8: as it is when it is UTF-8 (unless ``transcode``), else transcoded."""
    counting = _Counting(path.open("rb"))
    if encoding in _UTF8 and not transcode:
        return counting, counting
    return counting, _Transcoder(counting, encoding)


def clean_names(names: list[str]) -> list[str]:
    """Header names trimmed; blank ones named column_N; repeats suffixed _2, _3…"""
    out: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(names):
        base = (name or "").strip().lstrip("\ufeff") or f"column_{i + 1}"
        candidate, k = base, 2
        while candidate in seen:
            candidate, k = f"{base}_{k}", k + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def raw_json(columns: list[str], values: list[Any], extra: list[Any] | None = None) -> str:
    """The ``raw`` text of a quarantined row: a JSON object of its source columns."""
    obj: dict[str, Any] = dict(zip(columns, values, strict=False))
    if extra:
        obj["_extra"] = extra
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def decode_lossy(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


def row_numbers(start: int, count: int, skipped: list[int]) -> tuple[np.ndarray, int]:
    """Numbers of ``count`` rows read from row ``start`` on, leaving out ``skipped`` numbers.

    Returns the numbers and the next row number.
    """
    skip = sorted(s for s in skipped if s >= start)
    k = 0
    while True:
        end = start + count + k
        inside = sum(1 for s in skip if s < end)
        if inside == k:
            break
        k = inside
    numbers = np.arange(start, end, dtype=np.int64)
    if k:
        numbers = numbers[~np.isin(numbers, np.array(skip[:k], dtype=np.int64))]
    return numbers, end


def text_batch(columns: list[str], arrays: list[pa.Array]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(arrays, names=columns)


# -- CSV ----------------------------------------------------------------------------------------


class CsvSource(Source):
    """CSV or TSV through Arrow's streaming reader, every column read as bytes then checked."""

    format = "csv"

    def __init__(self, path: Path, size: int, batch_rows: int, *, encoding: str) -> None:
        super().__init__(path, size, batch_rows)
        self.encoding = encoding
        with path.open("rb") as fh:
            sample = fh.read(256 * 1024)
        text = sample.decode(encoding, "replace")
        if encoding in ("utf-8", "utf-8-sig"):
            text = text.lstrip("\ufeff")
        self.delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
        header = next(csv.reader(io.StringIO(text), delimiter=self.delimiter), [])
        if not any(h.strip() for h in header):
            raise ImportFileError(
                N_("The file %(name)s has no header row."),
                hint=N_("The first line must name the columns."),
                name=path.name,
            )
        self.raw_header = header
        self.columns = clean_names(header)
        lines = max(1, text.count("\n"))
        self.block_size = int(min(max(len(sample) / lines * batch_rows, 1 << 16), 1 << 28))
        self._counting: _Counting | None = None

    def batches(self) -> Iterator[Batch]:
        # A UTF-8 file goes to Arrow as it is. Arrow cannot report a ragged row holding bytes that
        # are not UTF-8 (it fails instead); then the file is read again transcoded, the bad bytes
        # marked, from the first row not yet handed out.
        transcode = self.encoding not in _UTF8
        start, position = 1, 0
        while True:
            try:
                for batch in self._read(transcode, start):
                    position = batch.position = max(position, batch.position)
                    yield batch
                return
            except _ReadAgain as again:
                if transcode:
                    raise again.error from None
                transcode, start = True, again.next_row

    def _read(self, transcode: bool, start: int) -> Iterator[Batch]:
        counting, stream = utf8_stream(self.path, self.encoding or "utf-8", transcode=transcode)
        stack = contextlib.ExitStack()
        invalid: list[tuple[int, str]] = []

        def on_invalid(row: Any) -> str:
            number = row.number - 1 if row.number is not None else -1
            invalid.append((number, row.text))
            return "skip"

        next_row = 1
        try:
            if not transcode:
                stack.enter_context(_quiet_handler_errors(on_invalid))
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(use_threads=False, block_size=self.block_size),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter,
                    newlines_in_values=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.binary() for name in self.raw_header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    null_values=[],
                ),
            )
            if len(reader.schema.names) != len(self.columns):
                raise ImportFileError(
                    N_("cannot read the header of %(name)s."),
                    hint=N_("Check that it is a CSV file with one header line."),
                    name=self.path.name,
                )
            for record in reader:
                numbers, next_row = row_numbers(next_row, record.num_rows, [n for n, _ in invalid])
                rejected = [self._ragged(n, t) for n, t in invalid if n < next_row]
                invalid = [(n, t) for n, t in invalid if n >= next_row]
                data, numbers, bad = self._decode(record, numbers)
                batch = Batch(data, numbers, rejected + bad, counting.count)
                if start > 1:
                    batch = _from_row(batch, start)
                    if not batch.rows_read:
                        continue
                yield batch
        except pa.ArrowInvalid as exc:
            error = ImportFileError(
                N_("cannot read %(name)s as CSV after row %(row)s: %(problem)s"),
                hint=N_("Check the quoting around that row (an unclosed quote?)."),
                name=self.path.name,
                row=next_row - 1,
                problem=str(exc).splitlines()[0][:200],
            )
            if "columns, got" in str(exc):  # a ragged row Arrow could not hand to the handler
                raise _ReadAgain(next_row, error) from None
            raise error from None
        finally:
            stack.close()
            stream.close()
        if invalid:
            batch = Batch(
                text_batch(self.columns, [pa.array([], pa.string()) for _ in self.columns]),
                np.empty(0, dtype=np.int64),
                [self._ragged(n, t) for n, t in invalid],
                counting.count,
            )
            yield _from_row(batch, start)
        if counting.count == self.size:
            self._sha = counting.digest.hexdigest()

    def _ragged(self, number: int, text: str) -> Rejected:
        values = next(csv.reader(io.StringIO(text), delimiter=self.delimiter or ","), [])
        n = len(self.columns)
        return Rejected(
            number,
            "ragged_row",
            f"{len(values)} fields where the header has {n}",
            raw_json(self.columns, values[:n], values[n:]),
        )

    def _decode(
        self, record: pa.RecordBatch, numbers: np.ndarray
    ) -> tuple[pa.RecordBatch, np.ndarray, list[Rejected]]:
        arrays: list[pa.Array] = []
        bad_rows = np.zeros(record.num_rows, dtype=bool)
        bad_column: dict[int, str] = {}
        for name, column in zip(self.columns, record.columns, strict=True):
            try:
                text = column.cast(pa.string())
            except pa.ArrowInvalid:
                arrays.append(column)
                for i, value in enumerate(column.to_pylist()):
                    if value is not None and not _is_utf8(value):
                        bad_rows[i] = True
                        bad_column.setdefault(i, name)
                continue
            arrays.append(text)
            marked = pc.match_substring(text, BAD_BYTES)
            if pc.any(marked).as_py():
                for i in np.flatnonzero(np.asarray(pc.fill_null(marked, False))).tolist():
                    bad_rows[i] = True
                    bad_column.setdefault(i, name)
        if not bad_rows.any():
            return text_batch(self.columns, arrays), numbers, []
        rejected = []
        for i in np.flatnonzero(bad_rows).tolist():
            values = [decode_lossy(a[i].as_py()) if a.type == pa.binary() else a[i].as_py()
                      for a in arrays]  # fmt: skip
            detail = f"column {bad_column[i]}: bytes that are not valid {self.encoding}"
            rejected.append(
                Rejected(int(numbers[i]), "bad_encoding", detail, raw_json(self.columns, values))
            )
        keep = pa.array(~bad_rows)
        cleaned = [a.filter(keep).cast(pa.string()) for a in arrays]
        return text_batch(self.columns, cleaned), numbers[~bad_rows], rejected


@contextlib.contextmanager
def _quiet_handler_errors(handler: Any) -> Iterator[None]:
    """Keep Arrow's failure to decode a ragged row for ``handler`` off stderr (we read again)."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if unraisable.object is handler and isinstance(unraisable.exc_value, UnicodeDecodeError):
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


class _ReadAgain(Exception):
    def __init__(self, next_row: int, error: ImportFileError) -> None:
        super().__init__(next_row)
        self.next_row = next_row
        self.error = error


def _from_row(batch: Batch, start: int) -> Batch:
    """The part of ``batch`` from row number ``start`` on (rows before it were handed out)."""
    keep = batch.row_numbers >= start
    data = batch.data if keep.all() else batch.data.filter(pa.array(keep))
    rejected = [r for r in batch.rejected if r.row_number >= start]
    return Batch(data, batch.row_numbers[keep], rejected, batch.position)


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of , tab ; | outside quotes."""
    line, quoted = [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        elif not quoted:
            line.append(ch)
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","
