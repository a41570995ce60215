"""Item mappings for wide response files, and reading such files (CSV, .xlsx, SPSS .sav).

A mapping says which column holds each of the response's fields and which (item, scale) each
answer column holds. Without one, columns named as in an export (:mod:`cxo.surveys.codebook`)
map themselves — names compare case-insensitively, ignoring spaces, dashes and underscores::

    source: fieldwork            # optional default for --source
    encoding: gb18030            # optional (CSV)
    sheet: Responses             # optional (.xlsx)
    fields:                      # the response's fields (defaults: the export's names)
      response_id: RespID        # required
      customer_ref: CustNo
      locale: Lang
      started_at: {column: Start, format: "%d/%m/%Y %H:%M"}
      completed_at: End
      state: Status              # completed | in_progress
    columns:                     # file column -> item code (as in answers.item_code)
      Q1: nps
      Q2_1: {item: sq01, scale: importance}
      Q5_3: channels.3           # option 3 of the multiple-choice question channels
      Comments: comment
      Junk: null                 # not imported

Mistakes in a mapping (an item the survey does not have, a column the file lacks, two columns
for one item) are :class:`~cxo.imports.errors.ImportFileError` s, raised before anything is
written.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from cxo.imports.errors import ImportFileError
from cxo.imports.mapping import normalise_name
from cxo.imports.readers import Rejected, Source, check_file, open_source
from cxo.surveys.codebook import Variable
from cxo.vocabulary import N_

FIELDS: Final = ("response_id", "customer_ref", "locale", "started_at", "completed_at", "state")
TOP_KEYS: Final = ("kind", "source", "encoding", "sheet", "fields", "columns")
WIDE_FORMATS: Final = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".sav": "sav"}


@dataclass(frozen=True)
class FieldRule:
    column: str
    format: str | None = None


@dataclass(frozen=True)
class WideMapping:
    fields: dict[str, FieldRule | None] = field(default_factory=dict)
    columns: dict[str, tuple[str, str | None] | None] = field(default_factory=dict)
    """File column → (item code, scale or None = the item's only scale), or None to skip it."""
    source: str | None = None
    encoding: str | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k) for k in ("source", "encoding", "sheet") if getattr(self, k)
        }
        out["fields"] = {
            k: None
            if r is None
            else ({"column": r.column, "format": r.format} if r.format else r.column)
            for k, r in self.fields.items()
        }
        out["columns"] = {
            c: None if t is None else ({"item": t[0], "scale": t[1]} if t[1] else t[0])
            for c, t in self.columns.items()
        }
        return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _bad(message: str, hint: str | None = None, **params: Any) -> ImportFileError:
    return ImportFileError(
        message, hint=hint or N_("See docs/voc-data.md for the mapping format."), **params
    )


def parse_wide_mapping(data: Any) -> WideMapping:
    """Check and normalise a mapping given as data (parsed YAML)."""
    if data is None:
        return WideMapping()
    if not isinstance(data, MappingABC):
        raise _bad(N_("A response mapping must be a set of keys (source, fields, columns)."))
    unknown = sorted(str(k) for k in data if k not in TOP_KEYS)
    if unknown:
        raise _bad(N_("The mapping has unknown keys: %(keys)s."), keys=", ".join(unknown))
    fields: dict[str, FieldRule | None] = {}
    for name, spec in (data.get("fields") or {}).items():
        name = str(name)
        if name not in FIELDS:
            raise _bad(
                N_("The mapping names a field responses do not have: %(field)s."),
                hint=N_("Fields: %(valid)s."),
                field=name,
                valid=", ".join(FIELDS),
            )
        if spec is None:
            fields[name] = None
        elif isinstance(spec, MappingABC) and _text(spec.get("column")):
            fields[name] = FieldRule(str(spec["column"]).strip(), _text(spec.get("format")))
        elif not isinstance(spec, MappingABC) and _text(spec):
            fields[name] = FieldRule(str(spec).strip())
        else:
            raise _bad(N_("The mapping for %(field)s must be a column name."), field=name)
    columns: dict[str, tuple[str, str | None] | None] = {}
    for column, spec in (data.get("columns") or {}).items():
        column = str(column)
        if spec is None:
            columns[column] = None
        elif isinstance(spec, MappingABC) and _text(spec.get("item")):
            columns[column] = (str(spec["item"]).strip(), _text(spec.get("scale")))
        elif not isinstance(spec, MappingABC) and _text(spec):
            columns[column] = (str(spec).strip(), None)
        else:
            raise _bad(
                N_("The mapping for column %(column)s must name an item."), column=repr(column)
            )
    return WideMapping(
        fields=fields,
        columns=columns,
        source=_text(data.get("source")),
        encoding=_text(data.get("encoding")),
        sheet=_text(data.get("sheet")),
    )


def load_wide_mapping(path: Path) -> WideMapping:
    if not path.is_file():
        raise ImportFileError(
            N_("The mapping file %(path)s does not exist."),
            hint=N_("Check the path given to --mapping."),
            path=str(path),
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")
    try:
        return parse_wide_mapping(yaml.safe_load(text))
    except yaml.YAMLError:
        raise ImportFileError(
            N_("The mapping file %(path)s is not valid YAML."),
            hint=N_("Check the indentation and quote values that contain a colon."),
            path=str(path),
        ) from None


@dataclass(frozen=True)
class WidePlan:
    """A mapping checked against a survey's variables and a file's columns."""

    fields: dict[str, tuple[int, FieldRule]]
    """Field → (column index, rule)."""
    items: list[tuple[int, Variable]]
    """(column index, variable) of every answer column, in file order."""
    unmapped: list[str]

    def describe(self, columns: list[str]) -> dict[str, str]:
        out = {name: columns[i] for name, (i, _) in self.fields.items()}
        for i, var in self.items:
            out[f"{var.item_code}@{var.scale}"] = columns[i]
        return out


def plan_wide(mapping: WideMapping, variables: list[Variable], columns: list[str]) -> WidePlan:
    """Check ``mapping`` against the survey's item ``variables`` and the file's ``columns``."""
    index = {c: i for i, c in enumerate(columns)}
    by_normal: dict[str, int] = {}
    for i, c in enumerate(columns):
        by_normal.setdefault(normalise_name(c), i)
    named = [r.column for r in mapping.fields.values() if r] + list(mapping.columns)
    missing = [c for c in named if c not in index]
    if missing:
        raise _bad(
            N_("The file has no column %(missing)s, which the mapping names."),
            hint=N_("Columns in the file: %(available)s."),
            missing=", ".join(repr(m) for m in missing),
            available=", ".join(repr(c) for c in columns[:60]) or "—",
        )
    fields: dict[str, tuple[int, FieldRule]] = {}
    for name in FIELDS:
        if name in mapping.fields:
            rule = mapping.fields[name]
            if rule is not None:
                fields[name] = (index[rule.column], rule)
        elif normalise_name(name) in by_normal:
            i = by_normal[normalise_name(name)]
            fields[name] = (i, FieldRule(columns[i]))
    if "response_id" not in fields:
        raise _bad(
            N_("No column gives the response id."),
            hint=N_("Name a column response_id, or map one under fields: in --mapping."),
        )
    by_key = {v.key: v for v in variables}
    by_item: dict[str, list[Variable]] = {}
    for v in variables:
        by_item.setdefault(v.key[0], []).append(v)
    chosen: dict[int, Variable] = {}
    for column, target in mapping.columns.items():
        if target is None:
            continue
        item, scale = target
        options = by_item.get(item, [])
        if not options:
            raise _bad(
                N_(
                    "The mapping maps column %(column)s to %(item)s, which the survey does not ask."
                ),
                hint=N_("Item codes are as in answers (a multiple-choice option is code.value)."),
                column=repr(column),
                item=repr(item),
            )
        if scale is None and len(options) > 1:
            raise _bad(
                N_(
                    "%(item)s is asked on several scales (%(scales)s): give scale: for column %(column)s."
                ),
                item=repr(item),
                scales=", ".join(str(v.scale) for v in options),
                column=repr(column),
            )
        var = options[0] if scale is None else by_key.get((item, scale))
        if var is None:
            raise _bad(
                N_("%(item)s is not asked on the scale %(scale)s (column %(column)s)."),
                item=repr(item),
                scale=repr(scale),
                column=repr(column),
            )
        chosen[index[column]] = var
    used_fields = {i for i, _ in fields.values()}
    for var in variables:
        j = by_normal.get(normalise_name(var.name))
        if j is None or j in chosen or j in used_fields or columns[j] in mapping.columns:
            continue
        if var.key in {v.key for v in chosen.values()}:
            continue
        chosen[j] = var
    seen: dict[tuple[str, str], int] = {}
    for i, var in sorted(chosen.items()):
        if var.key in seen:
            raise _bad(
                N_("Columns %(first)s and %(second)s both give %(item)s."),
                first=repr(columns[seen[var.key]]),
                second=repr(columns[i]),
                item=f"{var.key[0]} ({var.key[1]})",
            )
        seen[var.key] = i
    if not chosen:
        raise _bad(
            N_("No column of the file gives an answer to this survey."),
            hint=N_(
                "Name columns as an export does (e.g. sq01_imp, nps) or map them in --mapping."
            ),
        )
    used = used_fields | set(chosen)
    return WidePlan(
        fields=fields,
        items=sorted(chosen.items()),
        unmapped=[c for i, c in enumerate(columns) if i not in used],
    )


# -- reading wide files -------------------------------------------------------------------------


@dataclass
class WideBatch:
    numbers: list[int]
    rows: list[list[Any]]
    rejected: list[Rejected]
    position: int = 0


class WideReader:
    """A wide file read in batches of rows (cell values as text, or numbers from .sav)."""

    def __init__(
        self,
        path: Path,
        *,
        encoding: str | None,
        sheet: str | None,
        batch_rows: int,
        max_bytes: int | None,
    ) -> None:
        self.path = path
        self.format = wide_format(path)
        self.batch_rows = batch_rows
        self.encoding: str | None = None
        self.sheet: str | None = None
        self._src: Source | None = None
        if self.format == "sav":
            self.size = _check_sav(path, max_bytes)
            import pyreadstat

            try:
                _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
            except Exception:
                raise ImportFileError(
                    N_("cannot read %(name)s as an SPSS data file (.sav)."),
                    hint=N_("Save it again from SPSS or PSPP, or export CSV."),
                    name=path.name,
                ) from None
            self.columns: list[str] = list(meta.column_names)
        else:
            self._src = open_source(
                path, encoding=encoding, sheet=sheet, batch_rows=batch_rows, max_bytes=max_bytes
            )
            self.size = self._src.size
            self.encoding = self._src.encoding
            self.sheet = self._src.sheet
            self.columns = list(self._src.columns)

    @property
    def sha256(self) -> str:
        if self._src is not None:
            return self._src.sha256
        import hashlib

        digest = hashlib.sha256()
        with self.path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def close(self) -> None:
        if self._src is not None:
            self._src.close()

    def __enter__(self) -> WideReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batches(self) -> Iterator[WideBatch]:
        if self._src is not None:
            for b in self._src.batches():
                cols = [b.data.column(i).to_pylist() for i in range(b.data.num_columns)]
                rows = [list(r) for r in zip(*cols, strict=True)] if cols else []
                yield WideBatch(b.row_numbers.tolist(), rows, list(b.rejected), b.position)
            return
        import pyreadstat

        start = 0
        chunks = pyreadstat.read_file_in_chunks(
            pyreadstat.read_sav, str(self.path), chunksize=self.batch_rows
        )
        for frame, _meta in chunks:
            rows = [[_sav_cell(v) for v in r] for r in frame.itertuples(index=False, name=None)]
            numbers = list(range(start + 1, start + len(rows) + 1))
            start += len(rows)
            yield WideBatch(numbers, rows, [], self.size * start // max(start, 1))


def wide_format(path: Path) -> str:
    fmt = WIDE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFileError(
            N_("cxo cannot import %(name)s: unknown file type %(ext)s."),
            hint=N_("Import .csv, .tsv, .txt, .xlsx or .sav files."),
            name=path.name,
            ext=repr(path.suffix or "(none)"),
        )
    return fmt


def _check_sav(path: Path, max_bytes: int | None) -> int:
    """The size of a .sav file, after the checks :func:`check_file` makes for other formats."""
    if not path.exists() or path.is_dir():
        check_file(path, max_bytes)  # the same "does not exist" / "is a folder" errors
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


def _sav_cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, dt.datetime):  # pandas Timestamp is a datetime
        return value.isoformat()
    if hasattr(value, "isoformat"):
        try:
            return value.isoformat()
        except ValueError:  # NaT
            return None
    return value
