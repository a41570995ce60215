"""Import a wide response file (one row per response) into a survey's answers.

The rows go through the same store path as a long-format ``cxo import responses``: each row is
checked against the survey's compiled definition, turned into one answer row per non-empty item
cell, staged, and merged by :func:`cxo.imports.writers.merge` (so a response is keyed by source
system and response id, a repeat is a duplicate, a different value a conflict). The ``imports``
row, its quarantine and the ``import.run`` audit entry are those of any other import — but the
counts are per *file row* (response), not per answer:

- a row with a value the survey cannot hold (a number outside the scale, an unknown option, text
  where a number belongs, an unreadable time, no response id, no answer at all) is quarantined
  whole, with its row number, a reason code and the column at fault; none of its answers is
  written;
- a row whose response is stored with other header fields (customer, locale, times), or whose
  answer differs from a stored one, is quarantined as ``conflict`` (its other, new answers are
  written, as in a long import);
- a row all of whose answers are stored already is a duplicate; otherwise it is accepted.

So ``read = accepted + quarantined + duplicates``, and importing the same file again changes
nothing. New responses get ``channel = 'import'`` and the ``state`` the file gives (completed
unless it says ``in_progress``). The survey must have a definition; answers go to its latest
version (as in a long import).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.imports.errors import ImportFileError
from cxo.imports.models import import_quarantine
from cxo.imports.parsing import parse_timestamps
from cxo.imports.pipeline import finish_import
from cxo.imports.readers import raw_json
from cxo.imports.schemas import ImportSummary
from cxo.imports.service import begin_import, check_source, failure_recorded
from cxo.imports.writers import Stage, merge, stage_schema
from cxo.settings import Settings
from cxo.store.bulk import append_rows
from cxo.store.engine import connect
from cxo.store.metadata import utcnow
from cxo.surveys.codebook import Variable, check_value, item_variables
from cxo.surveys.exchange_mapping import (
    WideBatch,
    WideMapping,
    WidePlan,
    WideReader,
    plan_wide,
)
from cxo.surveys.models import responses
from cxo.surveys.service import compiled, get_survey
from cxo.vocabulary import N_

STRIDE: Final = 1_000_000
"""Staged answer rows are numbered file row × STRIDE + column, so each is unique."""
QUARANTINE_SCHEMA: Final = pa.schema(
    [
        ("import_id", pa.int64()),
        ("row_number", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)
REASONS: Final = {
    "out_of_range": N_("a value outside the item's scale"),
    "no_answers": N_("no answer in any item column"),
}
_DANGEROUS: Final = ("=", "@", "\t", "\r", "+", "-")
_ROW_REF: Final = re.compile(r"\brow (\d+)")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    return text or None


def _number(var: Variable, value: Any) -> tuple[float | None, str | None, str | None]:
    """(value, reason, detail) of one item cell."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        x = float(value)
    else:
        text = str(value).strip()
        try:
            x = float(text)
        except ValueError:
            label = var.option_labels.get(text.casefold())
            if label is None:
                return None, "bad_number", f"{text[:60]!r} is not a number"
            x = label
    problem = check_value(var, x)
    if problem is not None:
        return None, ("bad_value" if var.allowed is not None else "out_of_range"), problem
    return x, None, None


class RowConverter:
    """Turns the rows of a wide batch into staged answer rows and quarantined rows."""

    def __init__(
        self, plan: WidePlan, columns: list[str], *, survey: str, source: str, csv: bool
    ) -> None:
        self.plan = plan
        self.columns = columns
        self.survey = survey
        self.source = source
        self.csv = csv
        self.in_progress: set[str] = set()

    def _field(self, row: list[Any], name: str) -> Any:
        got = self.plan.fields.get(name)
        return None if got is None else row[got[0]]

    def convert(self, batch: WideBatch) -> tuple[pa.Table | None, list[tuple[int, str, str, str]]]:
        """(staged answer rows, [(row number, reason, detail, raw)])."""
        bad: list[tuple[int, str, str, str]] = [
            (r.row_number, r.reason, r.detail, r.raw) for r in batch.rejected
        ]
        stamps: dict[str, tuple[pa.Array, Any]] = {}
        for name in ("started_at", "completed_at"):
            if name in self.plan.fields:
                i, rule = self.plan.fields[name]
                texts = pa.array([_text(r[i]) for r in batch.rows], pa.string())
                stamps[name] = parse_timestamps(texts, rule.format)
        out: dict[str, list[Any]] = {f.name: [] for f in stage_schema("responses")}
        for k, (number, row) in enumerate(zip(batch.numbers, batch.rows, strict=True)):
            problem = self._check_header(row, k, stamps)
            answers: list[tuple[int, Variable, float | None, str | None]] = []
            if problem is None:
                problem = self._answers(row, answers)
            if problem is None and not answers:
                problem = ("no_answers", "no answer in any item column")
            if problem is not None:
                bad.append((number, problem[0], problem[1], raw_json(self.columns, row)))
                continue
            rid = _text(self._field(row, "response_id"))
            state = (_text(self._field(row, "state")) or "completed").lower()
            if state == "in_progress":
                self.in_progress.add(str(rid))
            head = {
                "source_system": self.source,
                "source_record_id": rid,
                "customer_record_id": _text(self._field(row, "customer_ref")),
                "survey": self.survey,
                "locale": _text(self._field(row, "locale")),
                "started_at": stamps["started_at"][0][k].as_py()
                if "started_at" in stamps
                else None,
                "completed_at": (
                    stamps["completed_at"][0][k].as_py() if "completed_at" in stamps else None
                ),
            }
            for i, var, num, txt in answers:
                out["src_row"].append(number * STRIDE + i)
                for key, value in head.items():
                    out[key].append(value)
                out["item_code"].append(var.item_code)
                out["scale"].append(var.scale or "single")
                out["value_num"].append(num)
                out["value_text"].append(txt)
        if not out["src_row"]:
            return None, bad
        return pa.table(out, schema=stage_schema("responses")), bad

    def _check_header(
        self, row: list[Any], k: int, stamps: dict[str, tuple[pa.Array, Any]]
    ) -> tuple[str, str] | None:
        column = self.columns[self.plan.fields["response_id"][0]]
        rid = _text(self._field(row, "response_id"))
        if rid is None:
            return "missing_required", f"{column}: the response id is empty"
        for name, limit in (("response_id", 100), ("customer_ref", 100), ("locale", 10)):
            value = _text(self._field(row, name))
            if value is not None and len(value) > limit:
                col = self.columns[self.plan.fields[name][0]]
                return "too_long", f"{col}: longer than {limit} characters"
        for name, (_, bad) in stamps.items():
            if bad[k]:
                col = self.columns[self.plan.fields[name][0]]
                value = _text(self._field(row, name))
                return "bad_timestamp", f"{col}: {str(value)[:40]!r} is not a date and time"
        state = _text(self._field(row, "state"))
        if state is not None and state.lower() not in ("completed", "in_progress"):
            col = self.columns[self.plan.fields["state"][0]]
            return "bad_value", f"{col}: {state[:30]!r} is not completed or in_progress"
        return None

    def _answers(
        self, row: list[Any], out: list[tuple[int, Variable, float | None, str | None]]
    ) -> tuple[str, str] | None:
        for i, var in self.plan.items:
            value = row[i]
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            column = self.columns[i]
            if var.kind == "text":
                text = str(value)
                if self.csv and len(text) > 1 and text[0] == "'" and text[1] in _DANGEROUS:
                    text = text[1:]  # undo the export's formula guard
                if var.max_length is not None and len(text) > var.max_length:
                    return "too_long", f"{column}: longer than {var.max_length} characters"
                out.append((i, var, None, text))
                continue
            num, reason, detail = _number(var, value)
            if reason is not None:
                return reason, f"{column}: {detail}"
            out.append((i, var, num, None))
        return None


def _quarantine_table(
    import_id: int, rows: Sequence[tuple[int, str, str, str | None]], now: dt.datetime
) -> pa.Table:
    n = len(rows)
    return pa.table(
        [
            pa.array([import_id] * n, pa.int64()),
            pa.array([r[0] for r in rows], pa.int64()),
            pa.array([r[1] for r in rows], pa.string()),
            pa.array([r[2] for r in rows], pa.string()),
            pa.array([r[3] for r in rows], pa.string()),
            pa.array([now] * n, QUARANTINE_SCHEMA.field("created_at").type),
        ],
        schema=QUARANTINE_SCHEMA,
    )


def _wide_row(n: int) -> int:
    return n // STRIDE if n >= STRIDE else n


def _outcomes(stage: Stage) -> dict[int, tuple[int, int, int, int]]:
    """File row → (new, duplicate, conflict answers, smallest k) from the merge's outcome table."""
    names = [t for t in stage.temps if t.startswith("cxo_import_outcome_")]
    if len(names) != 1:
        raise RuntimeError("the responses merge left no outcome table")
    rows = stage.conn.execute(
        sa.text(
            f"SELECT CAST((src_row - src_row % {STRIDE}) / {STRIDE} AS BIGINT) AS w, "  # noqa: S608
            "sum(CASE WHEN outcome = 'new' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN outcome = 'duplicate' THEN 1 ELSE 0 END), "
            "sum(CASE WHEN outcome = 'conflict' THEN 1 ELSE 0 END), min(k) "
            f"FROM {names[0]} GROUP BY 1"
        )
    ).all()
    return {int(r[0]): (int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}


def _raws(reader_args: dict[str, Any], wanted: set[int], columns: list[str]) -> dict[int, str]:
    """The raw text of the file rows ``wanted``, read again (for conflicts found in the merge)."""
    out: dict[int, str] = {}
    if not wanted:
        return out
    with WideReader(**reader_args) as again:
        for batch in again.batches():
            for number, row in zip(batch.numbers, batch.rows, strict=True):
                if number in wanted:
                    out[number] = raw_json(columns, row)
            if len(out) == len(wanted):
                break
    return out


def stored_mapping(code: str, mapping: WideMapping | None) -> dict[str, Any]:
    """A wide import's mapping as its ``imports`` row keeps it, naming the survey."""
    return {"format": "wide", "survey": code, **(mapping.to_dict() if mapping else {})}


def import_wide(
    settings: Settings,
    *,
    code: str,
    path: Path,
    source: str | None,
    actor: str,
    mapping: WideMapping | None = None,
    encoding: str | None = None,
    file_name: str | None = None,
    import_id: int | None = None,
) -> ImportSummary:
    """Import the wide response file ``path`` into survey ``code``; return the summary.

    Mapping or file problems raise :class:`ImportFileError` before anything is written.
    ``import_id`` runs a queued row made by :func:`cxo.imports.service.create_import` (a background
    job); any failure is then also recorded on that row.
    """
    started = time.monotonic()
    path = Path(path)
    mapping = mapping or WideMapping()
    file_name = file_name or path.name
    with failure_recorded(settings, import_id, actor):
        source = check_source(source or mapping.source)
        with connect(settings) as conn:
            survey = compiled(get_survey(conn, code))
        variables = item_variables([survey])
    reader_args: dict[str, Any] = {
        "path": path,
        "encoding": encoding or mapping.encoding,
        "sheet": mapping.sheet,
        "batch_rows": min(settings.import_batch_rows, 20_000),
        "max_bytes": settings.import_max_bytes,
    }
    with failure_recorded(settings, import_id, actor):
        reader = WideReader(**reader_args)
    with reader:
        with failure_recorded(settings, import_id, actor):
            plan = plan_wide(mapping, variables, reader.columns)
        import_id = begin_import(
            settings,
            import_id=import_id,
            kind="responses",
            source=source,
            file_name=file_name,
            actor=actor,
            mapping=stored_mapping(code, mapping),
            src=reader,
        )
        with failure_recorded(settings, import_id, actor), connect(settings, write=True) as conn:
            summary = _run(
                conn,
                reader,
                plan,
                reader_args,
                import_id=import_id,
                code=code,
                source=source,
                actor=actor,
                file_name=file_name,
            )
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _run(
    conn: Connection,
    reader: WideReader,
    plan: WidePlan,
    reader_args: dict[str, Any],
    *,
    import_id: int,
    code: str,
    source: str,
    actor: str,
    file_name: str,
) -> ImportSummary:
    now = utcnow()
    converter = RowConverter(
        plan, reader.columns, survey=code, source=source, csv=reader.format == "csv"
    )
    stage = Stage(conn, "responses")
    read = 0
    reasons: Counter[str] = Counter()
    quarantined_rows: set[int] = set()
    for batch in reader.batches():
        read += len(batch.rows) + len(batch.rejected)
        staged, bad = converter.convert(batch)
        if staged is not None:
            stage.append(staged)
        if bad:
            append_rows(conn, import_quarantine.name, _quarantine_table(import_id, bad, now))
            reasons.update(b[1] for b in bad)
            quarantined_rows.update(b[0] for b in bad)
    if read == 0:
        raise ImportFileError(
            N_("The file %(name)s has no data rows."),
            hint=N_("Check the export: only a header (or nothing) was found."),
            name=file_name,
        )
    accepted = duplicates = in_file = 0
    if stage.rows:
        counts = merge(stage, import_id=import_id, source=source, now=now)
        outcomes = _outcomes(stage)
        conflicts: dict[int, list[str]] = {}
        for number, detail in counts.conflicts:
            text = _ROW_REF.sub(lambda m: f"row {_wide_row(int(m.group(1)))}", detail)
            conflicts.setdefault(_wide_row(number), []).append(text)
        for _w, (new, dup, conflict, k) in outcomes.items():
            if conflict:
                continue
            if new:
                accepted += 1
            elif dup:
                duplicates += 1
                in_file += int(k > 1)
        if conflicts:
            raws = _raws(reader_args, set(conflicts), reader.columns)
            rows = [
                (w, "conflict", "; ".join(dict.fromkeys(d))[:2000], raws.get(w))
                for w, d in sorted(conflicts.items())
            ]
            append_rows(conn, import_quarantine.name, _quarantine_table(import_id, rows, now))
            reasons["conflict"] += len(rows)
            quarantined_rows.update(conflicts)
        _mark_new(conn, stage, source, converter.in_progress)
        stage.drop()
    quarantined = sum(reasons.values())
    summary = ImportSummary(
        import_id=import_id,
        kind="responses",
        source=source,
        file_name=file_name,
        file_format=reader.format,
        encoding=reader.encoding,
        file_bytes=reader.size,
        file_sha256=reader.sha256,
        read=read,
        accepted=accepted,
        quarantined=quarantined,
        duplicates=duplicates,
        duplicates_in_file=in_file,
        reasons=dict(sorted(reasons.items())),
        fields=plan.describe(reader.columns),
        unmapped_columns=plan.unmapped,
    )
    finish_import(
        conn,
        summary,
        actor=actor,
        file_name=file_name,
        audit_extra={"format": "wide", "survey": code},
    )
    return summary


def _mark_new(conn: Connection, stage: Stage, source: str, in_progress: set[str]) -> None:
    """Channel ``import`` (and the file's state) for the responses this import created."""
    r = responses.c
    new = sa.and_(r.source_system == source, r.channel.is_(None))
    ids = list(in_progress)
    for start in range(0, len(ids), 1000):
        conn.execute(
            responses.update()
            .where(new, r.source_record_id.in_(ids[start : start + 1000]))
            .values(state="in_progress")
        )
    conn.execute(
        responses.update()
        .where(
            new,
            r.source_record_id.in_(
                sa.select(sa.column("source_record_id")).select_from(sa.table(stage.name))
            ),
        )
        .values(channel="import")
    )
