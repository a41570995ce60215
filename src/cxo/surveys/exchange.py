"""Export a survey's responses, one row per response, to CSV, Excel or SPSS (.sav).

The columns are the :mod:`cxo.surveys.codebook` variables: the response's fields (id, customer,
survey version, locale, channel, state, times, duration, quality flags), then one column per
(item, scale) in questionnaire order. Labels come from the compiled definition in the locale
asked for (English by default):

- CSV: UTF-8 with a byte-order mark (Excel opens it as UTF-8), formula-safe cells
  (:func:`cxo.web.export.csv_cell`), times in ISO 8601 UTC;
- Excel: a ``responses`` sheet (text cells stored as text, never as formulas) and a ``codebook``
  sheet (variable, label, measure, value labels);
- SPSS: variable labels, value labels, measure levels (nominal, ordinal, scale), text answers as
  string variables, times as SPSS date-times (UTC).

By default only completed responses that analysis uses (:func:`cxo.surveys.quality.excluded`)
are written; ``include_flagged`` and ``include_partial`` widen that. Responses are read in batches
(keyset pagination) and CSV and Excel rows are written as they come, so memory stays flat; an SPSS
file is written in one go by pyreadstat, from compact column arrays (8 bytes per numeric cell).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.errors import Conflict, CxoError
from cxo.surveys.codebook import Variable, codebook
from cxo.surveys.definition import CompiledSurvey
from cxo.surveys.models import answers, responses, surveys
from cxo.surveys.quality import excluded, flag_names, parse_flags
from cxo.web.export import csv_cell

FORMATS: Final = {".csv": "csv", ".xlsx": "xlsx", ".sav": "sav"}
BATCH: Final = 2000
MEDIA_TYPES: Final = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}


@dataclass
class ExportSummary:
    """What an export wrote and what it left out."""

    code: str
    path: str | None
    format: str
    rows: int = 0
    columns: int = 0
    skipped_flagged: int = 0
    skipped_partial: int = 0
    unchecked: int = 0
    """Responses written whose quality flags were never computed (``cxo survey quality``)."""
    versions: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Selection:
    """Which responses to export."""

    include_flagged: bool = False
    include_partial: bool = False


def export_format(path: Path | str) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise CxoError(
            f"cxo cannot export to {Path(path).name}: use a .csv, .xlsx or .sav file name.",
            hint="For example --out responses.sav",
        )
    return fmt


def survey_versions(
    conn: Connection, code: str, version: int | None = None
) -> list[tuple[int, int, CompiledSurvey]]:
    """(survey id, version, compiled definition) of the versions to export, newest first: the one
    asked for, or every version of ``code`` that has a definition."""
    query = sa.select(surveys.c.id, surveys.c.version, surveys.c.definition).where(
        surveys.c.code == code
    )
    if version is not None:
        query = query.where(surveys.c.version == version)
    rows = conn.execute(query.order_by(surveys.c.version.desc())).all()
    if not rows:
        from cxo.surveys.service import get_survey

        get_survey(conn, code, version)  # raises NotFound with the usual hint
    out = []
    for row in rows:
        definition = row.definition or {}
        if isinstance(definition, str):
            definition = json.loads(definition)
        if definition.get("compiled"):
            out.append(
                (
                    int(row.id),
                    int(row.version),
                    CompiledSurvey.model_validate(definition["compiled"]),
                )
            )
    if not out:
        raise Conflict(
            f"Survey {code!r} has no definition, so its answers have no variables to export.",
            hint="Give it one with `cxo survey update FILE`.",
        )
    return out


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def iter_rows(
    conn: Connection,
    survey_ids: dict[int, int],
    variables: list[Variable],
    selection: Selection,
    summary: ExportSummary,
    *,
    batch: int = BATCH,
) -> Iterator[list[Any]]:
    """One list of values per response (aligned with ``variables``), in response-id order.

    ``survey_ids`` maps survey id → version. Counts what is skipped into ``summary``.
    """
    slot = {v.key: (i, v.kind == "text") for i, v in enumerate(variables) if v.item_code}
    width = len(variables)
    r = responses.c
    last = 0
    while True:
        rows = conn.execute(
            sa.select(
                r.id,
                r.survey_id,
                r.source_record_id,
                r.customer_id,
                r.customer_record_id,
                r.locale,
                r.channel,
                r.state,
                r.started_at,
                r.completed_at,
                r.quality_flags,
                r.include_override,
            )
            .where(r.survey_id.in_(list(survey_ids)), r.id > last)
            .order_by(r.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        last = int(rows[-1].id)
        kept = []
        for row in rows:
            state = row.state or "completed"
            if state != "completed" and not selection.include_partial:
                summary.skipped_partial += 1
                continue
            flags = parse_flags(row.quality_flags)
            if not selection.include_flagged and excluded(flags, row.include_override):
                summary.skipped_flagged += 1
                continue
            if flags is None:
                summary.unchecked += 1
            kept.append((row, state, flags))
        if not kept:
            continue
        values: dict[int, list[Any]] = {}
        for row, state, flags in kept:
            started, completed = _utc(row.started_at), _utc(row.completed_at)
            duration = (
                round((completed - started).total_seconds(), 3)
                if started is not None and completed is not None
                else None
            )
            values[int(row.id)] = [
                int(row.id),
                row.source_record_id,
                None if row.customer_id is None else int(row.customer_id),
                row.customer_record_id,
                survey_ids[int(row.survey_id)],
                row.locale,
                row.channel,
                state,
                started,
                completed,
                duration,
                ",".join(flag_names(flags)) or None,
            ] + [None] * (width - 12)
        a = answers.c
        found = conn.execute(
            sa.select(a.response_id, a.item_code, a.scale, a.value_num, a.value_text).where(
                a.response_id.in_(list(values))
            )
        ).all()
        for rid, item, scale, num, text in found:
            hit = slot.get((item, scale or "single"))
            if hit is not None:
                values[rid][hit[0]] = text if hit[1] else num
        yield from values.values()


# -- writers ------------------------------------------------------------------------------------


def _csv_value(value: Any) -> Any:
    kind = type(value)
    if value is None:
        return ""
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is str:
        return csv_cell(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def csv_chunks(variables: list[Variable], rows: Iterator[list[Any]]) -> Iterator[str]:
    """The CSV text in chunks: a byte-order mark and header, then about 500 rows a chunk."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([v.name for v in variables])
    yield "\ufeff" + buf.getvalue()
    buf.seek(0)
    buf.truncate()
    for n, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(x) for x in row])
        if n % 500 == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def value_labels_text(var: Variable) -> str:
    return "; ".join(f"{_num(k)} = {label}" for k, label in var.value_labels.items())


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def write_xlsx(path: Path, variables: list[Variable], rows: Iterator[list[Any]]) -> int:
    """Write the ``responses`` and ``codebook`` sheets (write-only mode: rows stream to disk)."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("responses")
    sheet.append([v.name for v in variables])
    n = 0
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text, even when it starts with "="
                cells.append(cell)
            elif isinstance(value, dt.datetime):
                cells.append(value.replace(tzinfo=None))
            else:
                cells.append(value)
        sheet.append(cells)
        n += 1
    book_sheet = book.create_sheet("codebook")
    book_sheet.append(["variable", "label", "type", "measure", "item_code", "scale", "values"])
    for v in variables:
        book_sheet.append(
            [
                v.name,
                v.label,
                v.kind,
                v.measure,
                v.item_code,
                v.scale if v.item_code else None,
                value_labels_text(v) or None,
            ]
        )
    book.save(path)
    return n


def write_sav(path: Path, variables: list[Variable], rows: Iterator[list[Any]], label: str) -> int:
    """Write an SPSS file with variable labels, value labels and measure levels."""
    import numpy as np
    import pandas as pd
    import pyreadstat

    numeric: dict[int, array[float]] = {
        i: array("d") for i, v in enumerate(variables) if v.kind == "number"
    }
    other: dict[int, list[Any]] = {i: [] for i, v in enumerate(variables) if v.kind != "number"}
    nan = float("nan")
    n = 0
    for row in rows:
        for i, col in numeric.items():
            x = row[i]
            col.append(nan if x is None else float(x))
        for i, items in other.items():
            x = row[i]
            items.append(x.replace(tzinfo=None) if isinstance(x, dt.datetime) else x)
        n += 1
    data: dict[str, Any] = {}
    for i, v in enumerate(variables):
        if v.kind == "number":
            data[v.name] = np.frombuffer(numeric[i], dtype=np.float64) if n else np.empty(0)
        elif v.kind == "datetime":
            data[v.name] = pd.Series(other[i], dtype="datetime64[ns]")
        else:
            data[v.name] = pd.Series(other[i], dtype=object)
    frame = pd.DataFrame(data)
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=label[:64],
        column_labels={v.name: v.label for v in variables},
        variable_value_labels={v.name: v.value_labels for v in variables if v.value_labels},
        variable_measure={v.name: v.measure for v in variables},
    )
    return n


# -- the whole export ---------------------------------------------------------------------------


def prepare(
    conn: Connection, code: str, *, version: int | None, locale: str
) -> tuple[list[Variable], dict[int, int], str]:
    """The variables, the survey ids (→ version) and the title of an export."""
    if locale not in ("en", "zh_CN"):
        raise CxoError(f"Unknown locale {locale!r}.", hint="Use en or zh_CN.")
    found = survey_versions(conn, code, version)
    variables = codebook([c for _, _, c in found], locale)
    title = found[0][2].title.get(locale)
    if version is None:
        ids = conn.execute(
            sa.select(surveys.c.id, surveys.c.version).where(surveys.c.code == code)
        ).all()
        survey_ids = {int(i.id): int(i.version) for i in ids}
    else:
        survey_ids = {i: v for i, v, _ in found}
    return variables, survey_ids, title


def export_responses(
    conn: Connection,
    code: str,
    out: Path,
    *,
    version: int | None = None,
    locale: str = "en",
    selection: Selection | None = None,
    batch: int = BATCH,
) -> ExportSummary:
    """Write the responses of survey ``code`` to ``out`` (.csv, .xlsx or .sav)."""
    fmt = export_format(out)
    selection = selection or Selection()
    variables, survey_ids, title = prepare(conn, code, version=version, locale=locale)
    summary = ExportSummary(
        code=code,
        path=str(out),
        format=fmt,
        columns=len(variables),
        versions=sorted(set(survey_ids.values())),
    )
    rows = iter_rows(conn, survey_ids, variables, selection, summary, batch=batch)
    tmp = out.with_name(out.name + ".part")
    try:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                for chunk in csv_chunks(variables, _count(rows, summary)):
                    fh.write(chunk)
            n = summary.rows
        elif fmt == "xlsx":
            n = write_xlsx(tmp, variables, rows)
        else:
            n = write_sav(tmp, variables, rows, title)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    summary.rows = n
    return summary


def _count(rows: Iterator[list[Any]], summary: ExportSummary) -> Iterator[list[Any]]:
    for row in rows:
        summary.rows += 1
        yield row
