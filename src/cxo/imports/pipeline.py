"""One import's work inside its store transaction: read, check, stage, merge, record.

:class:`ImportJob` streams the file's batches through :func:`~cxo.imports.validate.check_batch`,
hands the good rows to the staging table and the bad ones to the quarantine (both written by a
:class:`Writer` thread while the next batch is read), merges the staged rows into the store
(:func:`~cxo.imports.writers.merge`), quarantines conflicts, and updates the ``imports`` row and the
audit log. :mod:`cxo.imports.service` opens the transaction and records failures.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.governance import audit
from cxo.imports.arrowtext import as_array
from cxo.imports.errors import ImportFileError
from cxo.imports.mapping import Plan
from cxo.imports.models import import_quarantine, imports
from cxo.imports.readers import Batch, Source, open_source, raw_json
from cxo.imports.schemas import ImportSummary
from cxo.imports.validate import Checked, canonical_json, check_batch
from cxo.imports.writers import Stage, merge, stage_schema
from cxo.store.bulk import append_rows
from cxo.store.metadata import utcnow
from cxo.vocabulary import N_

Progress = Callable[[int, int], None]
_QUARANTINE_SCHEMA: Final = pa.schema(
    [
        ("import_id", pa.int64()),
        ("row_number", pa.int64()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


class ImportJob:
    """One import's pass over its file and its merge, inside the store transaction."""

    def __init__(
        self,
        src: Source,
        checked_plan: Plan,
        *,
        import_id: int,
        source: str,
        progress: Progress | None,
    ) -> None:
        self.src = src
        self.plan = checked_plan
        self.import_id = import_id
        self.source = source
        self.progress = progress
        self.kind = checked_plan.kind
        self.implicit = {"source_system": source, "survey": source}
        self.read = 0
        self.quarantined = 0
        self.reasons: Counter[str] = Counter()

    def run(self, conn: Connection, *, file_name: str, actor: str, started: float) -> ImportSummary:
        now = utcnow()
        stage = Stage(conn, self.kind)
        # The store writes each batch in a thread of its own while the next one is read and
        # checked (both DuckDB and psycopg release the GIL while they work).
        with Writer() as writer:
            for batch in self.src.batches():
                staged, quarantined = self._batch(batch, now)
                if staged is not None:
                    writer.submit(stage.append, staged)
                if quarantined is not None:
                    writer.submit(append_rows, conn, import_quarantine.name, quarantined)
                if self.progress is not None:
                    self.progress(min(batch.position, self.src.size), self.src.size)
        if self.read == 0:
            raise ImportFileError(
                N_("The file %(name)s has no data rows."),
                hint=N_("Check the export: only a header (or nothing) was found."),
                name=file_name,
            )
        if self.progress is not None:
            self.progress(self.src.size, self.src.size)
        counts = merge(stage, import_id=self.import_id, source=self.source, now=now)
        stage.drop()
        if counts.conflicts:
            self._quarantine_conflicts(conn, counts.conflicts, now)
        summary = ImportSummary(
            import_id=self.import_id,
            kind=self.kind,
            source=self.source,
            file_name=file_name,
            file_format=self.src.format,
            encoding=self.src.encoding,
            file_bytes=self.src.size,
            file_sha256=self.src.sha256,
            read=self.read,
            accepted=counts.accepted,
            updated=counts.updated,
            quarantined=self.quarantined,
            duplicates=counts.duplicates,
            duplicates_in_file=counts.duplicates_in_file,
            reasons=dict(sorted(self.reasons.items())),
            fields=self.plan.describe(),
            unmapped_columns=[*self.plan.unmapped, *self.src.extra_columns],
        )
        summary.seconds = round(time.monotonic() - started, 3)
        finish_import(conn, summary, actor=actor, file_name=file_name)
        return summary

    def _quarantine_conflicts(
        self, conn: Connection, conflicts: list[tuple[int, str]], now: Any
    ) -> None:
        """Quarantine the rows the merge found in conflict, reading their raw text again."""
        wanted = np.array([n for n, _ in conflicts], dtype=np.int64)
        raws: dict[int, str] = {}
        with open_source(
            self.src.path,
            encoding=self.src.encoding,
            sheet=self.src.sheet,
            batch_rows=self.src.batch_rows,
        ) as again:
            for batch in again.batches():
                columns = batch.data.column_names
                for i in np.flatnonzero(np.isin(batch.row_numbers, wanted)).tolist():
                    values = [batch.data.column(c)[i].as_py() for c in range(len(columns))]
                    raws[int(batch.row_numbers[i])] = raw_json(columns, values)
                if len(raws) == len(wanted):
                    break
        numbers = [n for n, _ in conflicts]
        table = self._quarantine_table(
            numbers,
            ["conflict"] * len(numbers),
            [d for _, d in conflicts],
            [raws.get(n) for n in numbers],
            now,
        )
        append_rows(conn, import_quarantine.name, table)
        self.quarantined += len(numbers)
        self.reasons["conflict"] += len(numbers)

    def _quarantine_table(
        self,
        numbers: list[int],
        reasons: list[str],
        details: list[str],
        raws: list[str | None],
        now: Any,
    ) -> pa.Table:
        n = len(numbers)
        return pa.table(
            [
                pa.array([self.import_id] * n, pa.int64()),
                pa.array(numbers, pa.int64()),
                pa.array(reasons, pa.string()),
                pa.array(details, pa.string()),
                pa.array(raws, pa.string()),
                pa.array([now] * n, _QUARANTINE_SCHEMA.field("created_at").type),
            ],
            schema=_QUARANTINE_SCHEMA,
        )

    def _batch(self, batch: Batch, now: Any) -> tuple[pa.Table | None, pa.Table | None]:
        """Check one batch: the rows to stage and the rows to quarantine, as Arrow tables."""
        self.read += batch.rows_read
        staged = None
        numbers: list[int] = []
        reasons: list[str] = []
        details: list[str] = []
        raws: list[str] = []
        for r in batch.rejected:
            numbers.append(r.row_number)
            reasons.append(r.reason)
            details.append(r.detail)
            raws.append(r.raw)
        if batch.data.num_rows:
            checked = check_batch(batch.data, self.plan, implicit=self.implicit)
            rows, codes, texts = checked.first_problems()
            columns = batch.data.column_names
            for i, code, text in zip(rows, codes, texts, strict=True):
                numbers.append(int(batch.row_numbers[i]))
                reasons.append(code)
                details.append(text)
                values = [batch.data.column(c)[i].as_py() for c in range(len(columns))]
                raws.append(raw_json(columns, values))
            good = ~checked.bad
            if good.any():
                staged = stage_rows(self.kind, checked, batch, good, self.source)
        if not numbers:
            return staged, None
        self.quarantined += len(numbers)
        self.reasons.update(reasons)
        return staged, self._quarantine_table(numbers, reasons, details, list(raws), now)


class Writer:
    """Runs store writes one after another in a background thread, at most ``depth`` waiting.

    Errors surface on the next :meth:`submit` or at exit; after an error (in either thread)
    the writes still waiting are skipped.
    """

    def __init__(self, depth: int = 2) -> None:
        self.tasks: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]] | None] = queue.Queue(
            depth
        )
        self.error: BaseException | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._work, name="cxo-import-writer", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while (task := self.tasks.get()) is not None:
            if self.error is not None or self.cancelled:
                continue
            try:
                task[0](*task[1])
            except BaseException as exc:  # handed to the main thread
                self.error = exc

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.error is not None:
            raise self.error
        self.tasks.put((fn, args))

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.cancelled = exc is not None
        self.tasks.put(None)
        self.thread.join()
        if self.error is not None and exc is None:
            raise self.error


def stage_rows(
    kind: str, checked: Checked, batch: Batch, good: np.ndarray, source: str
) -> pa.Table:
    """The good rows of a checked batch as the staging table's columns."""
    keep = pa.array(good)
    n = int(good.sum())
    values = {name: as_array(v.filter(keep)) for name, v in checked.values.items()}
    numbers = pa.array(batch.row_numbers[good], pa.int64())
    schema = stage_schema(kind)
    if kind == "customers":
        payload = {k: v for k, v in values.items() if k != "source_record_id"}
        columns = [numbers, values["source_record_id"], canonical_json(payload, n)]
        return pa.table(columns, schema=schema)
    columns = [numbers]
    for f in schema:
        if f.name == "src_row":
            continue
        if f.name == "source_system" and f.name not in values:
            columns.append(pa.array([source] * n, pa.string()))
            continue
        value = values.get(f.name)
        columns.append(pa.nulls(n, f.type) if value is None else value.cast(f.type))
    return pa.table(columns, schema=schema)


def finish_import(
    conn: Connection,
    summary: ImportSummary,
    *,
    actor: str,
    file_name: str,
    audit_extra: dict[str, Any] | None = None,
) -> ImportSummary:
    """Check that ``summary`` reconciles, note an earlier import of the same file, mark the import
    done and audit it — the last step of every import, in the caller's transaction."""
    if summary.read != summary.accepted + summary.quarantined + summary.duplicates:
        raise RuntimeError(f"import {summary.import_id} does not reconcile: {summary.counts()}")
    summary.previous_import_id = conn.execute(
        sa.select(sa.func.max(imports.c.id)).where(
            imports.c.file_sha256 == summary.file_sha256,
            imports.c.kind == summary.kind,
            imports.c.source_system == summary.source,
            imports.c.state == "done",
            imports.c.id != summary.import_id,
        )
    ).scalar()
    finished = utcnow()
    conn.execute(
        imports.update()
        .where(imports.c.id == summary.import_id)
        .values(
            state="done",
            file_sha256=summary.file_sha256,
            rows_read=summary.read,
            rows_accepted=summary.accepted,
            rows_updated=summary.updated,
            rows_quarantined=summary.quarantined,
            rows_duplicate=summary.duplicates,
            finished_at=finished,
            updated_at=finished,
        )
    )
    audit.record(
        conn,
        actor=actor,
        action="import.run",
        object_type="import",
        object_id=summary.import_id,
        after={
            "state": "done",
            "kind": summary.kind,
            "source": summary.source,
            **(audit_extra or {}),
            "file_name": file_name,
            "file_sha256": summary.file_sha256,
            **summary.counts(),
        },
    )
    return summary
