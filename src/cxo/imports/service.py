"""Import files from touchpoint systems into the store; every row accepted, a duplicate or quarantined.

UI-free: the CLI (:mod:`cxo.imports.cli`), the API and the web page call these functions.

- :func:`run_import` reads a file (streaming), maps and checks each batch, stages the good rows and
  quarantines the others, merges the staged rows into the store, and records the import and one
  audit entry (``import.run``): all in one store transaction, so a failure leaves nothing
  half-written; the ``imports`` row then says ``failed`` and why.
- :func:`create_import` records a ``queued`` import first, for a caller that runs it in the
  background and polls it (:func:`get_import`).
- :func:`preview` shows how the first rows of a file would be read and mapped, writing nothing.
- :func:`quarantine_rows` / :func:`iter_quarantine` give back the quarantined rows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.errors import Conflict, CxoError, NotFound
from cxo.governance import audit
from cxo.imports.errors import ImportFileError
from cxo.imports.mapping import Mapping, Plan, plan
from cxo.imports.models import IMPORT_KINDS, import_quarantine, imports
from cxo.imports.pipeline import ImportJob, Progress
from cxo.imports.readers import Batch, Source, open_source
from cxo.imports.schemas import (
    ImportRead,
    ImportSummary,
    Preview,
    PreviewProblem,
    PreviewRow,
    QuarantineRow,
)
from cxo.imports.validate import check_batch
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.store.metadata import utcnow
from cxo.vocabulary import N_

SOURCE_MAX: Final = 50


def check_kind(kind: str) -> str:
    if kind not in IMPORT_KINDS:
        raise ImportFileError(
            N_("Unknown import kind %(kind)s."),
            hint=N_("Use customers, interactions, transactions or responses."),
            kind=repr(kind),
        )
    return kind


def check_source(source: str | None) -> str:
    """The source system name: given, at most 50 characters."""
    name = (source or "").strip()
    if not name:
        raise ImportFileError(
            N_("Name the system the file comes from."),
            hint=N_("Give --source NAME (for example crm or branch), or source: in the mapping."),
        )
    if len(name) > SOURCE_MAX:
        raise ImportFileError(
            N_("The source name %(name)s is longer than %(max)s characters."),
            hint=N_("Use a short name such as crm or branch."),
            name=repr(name[:60]),
            max=SOURCE_MAX,
        )
    return name


def create_import(
    conn: Connection,
    *,
    kind: str,
    source: str,
    file_name: str,
    actor: str,
    mapping: Mapping | None = None,
) -> int:
    """Record a queued import to run later with ``run_import(..., import_id=...)``; audited."""
    now = utcnow()
    values = {
        "kind": check_kind(kind),
        "source_system": check_source(source),
        "file_name": file_name[:300],
        "mapping": mapping.to_dict() if mapping else None,
        "state": "queued",
        "actor": actor,
        "created_at": now,
        "updated_at": now,
        **dict.fromkeys(_COUNT_COLUMNS, 0),
    }
    import_id = int(
        conn.execute(imports.insert().values(**values).returning(imports.c.id)).scalar_one()
    )
    audit.record(
        conn,
        actor=actor,
        action="import.queue",
        object_type="import",
        object_id=import_id,
        after={"kind": kind, "source": values["source_system"], "file_name": file_name},
    )
    return import_id


_COUNT_COLUMNS: Final = (
    "rows_read",
    "rows_accepted",
    "rows_updated",
    "rows_quarantined",
    "rows_duplicate",
)


def run_import(
    settings: Settings,
    *,
    kind: str,
    path: Path,
    source: str | None,
    actor: str,
    mapping: Mapping | None = None,
    encoding: str | None = None,
    file_name: str | None = None,
    import_id: int | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one file of ``kind`` from system ``source``; return the reconciled summary.

    ``source`` defaults to the mapping's ``source:``; ``encoding`` (for text files) to the mapping's
    ``encoding:``, else it is detected. ``file_name`` is the name recorded (default: the path's;
    an upload is usually saved under a temporary name). ``import_id`` runs a row made by
    :func:`create_import`. ``progress(bytes_done, bytes_total)`` is called after each batch read
    (estimated for .xlsx and Parquet); its last call is ``(total, total)``, when the file has been
    read and the rows are being merged into the store.

    Raises :class:`~cxo.imports.errors.ImportFileError` (with a hint) when the file, its encoding
    or the mapping cannot be used; nothing is written then but the failed ``imports`` row.
    """
    started = time.monotonic()
    path = Path(path)
    file_name = file_name or path.name
    with failure_recorded(settings, import_id, actor):
        kind = check_kind(kind)
        source = check_source(source or (mapping.source if mapping else None))
        src = open_source(
            path,
            encoding=encoding or (mapping.encoding if mapping else None),
            sheet=mapping.sheet if mapping else None,
            batch_rows=settings.import_batch_rows,
            max_bytes=settings.import_max_bytes,
        )
    with src:
        with failure_recorded(settings, import_id, actor):
            checked_plan = plan(mapping, kind, src.columns)
        import_id = begin_import(
            settings,
            import_id=import_id,
            kind=kind,
            source=source,
            file_name=file_name,
            actor=actor,
            mapping=mapping.to_dict() if mapping else None,
            src=src,
        )
        job = ImportJob(src, checked_plan, import_id=import_id, source=source, progress=progress)
        with failure_recorded(settings, import_id, actor), connect(settings, write=True) as conn:
            summary = job.run(conn, file_name=file_name, actor=actor, started=started)
    return summary


@contextmanager
def failure_recorded(settings: Settings, import_id: int | None, actor: str) -> Iterator[None]:
    """Record on the import's row (when there is one) why the block failed; re-raise."""
    try:
        yield
    except BaseException as exc:
        if import_id is not None:
            mark_failed(settings, import_id, exc, actor)
        raise


def begin_import(
    settings: Settings,
    *,
    import_id: int | None,
    kind: str,
    source: str,
    file_name: str,
    actor: str,
    mapping: dict[str, Any] | None,
    src: Source | Any,
) -> int:
    """Mark the import running (creating its row, or taking over a queued one); committed.
    ``src`` is the open file (its size, format and encoding are recorded), ``mapping`` the
    mapping as stored."""
    now = utcnow()
    values = {
        "state": "running",
        "file_bytes": src.size,
        "file_format": src.format,
        "encoding": src.encoding,
        "started_at": now,
        "updated_at": now,
        "mapping": mapping,
    }
    with connect(settings, write=True) as conn:
        if import_id is None:
            return int(
                conn.execute(
                    imports.insert()
                    .values(
                        kind=kind,
                        source_system=source,
                        file_name=file_name[:300],
                        actor=actor,
                        created_at=now,
                        **dict.fromkeys(_COUNT_COLUMNS, 0),
                        **values,
                    )
                    .returning(imports.c.id)
                ).scalar_one()
            )
        row = conn.execute(sa.select(imports.c.state).where(imports.c.id == import_id)).first()
        if row is None:
            raise NotFound(f"No import with id {import_id}.")
        if row.state != "queued":
            raise Conflict(
                f"Import {import_id} is {row.state}, not queued.", hint="Start a new import."
            )
        conn.execute(imports.update().where(imports.c.id == import_id).values(**values))
    return import_id


def mark_failed(settings: Settings, import_id: int, exc: BaseException, actor: str) -> None:
    """Record why an import failed (and audit it), without hiding the original error."""
    message = (exc.message if isinstance(exc, CxoError) else f"{type(exc).__name__}: {exc}")[:2000]
    now = utcnow()
    try:
        with connect(settings, write=True) as conn:
            conn.execute(
                imports.update()
                .where(imports.c.id == import_id)
                .values(state="failed", message=message, finished_at=now, updated_at=now)
            )
            audit.record(
                conn,
                actor=actor,
                action="import.run",
                object_type="import",
                object_id=import_id,
                after={"state": "failed", "message": message},
            )
    except Exception:  # noqa: S110 - the original error matters more than this bookkeeping
        pass


# -- reading back -------------------------------------------------------------------------------


def get_import(conn: Connection, *, import_id: int) -> ImportRead:
    row = conn.execute(sa.select(imports).where(imports.c.id == import_id)).first()
    if row is None:
        raise NotFound(
            f"No import with id {import_id}.", hint="List imports with `cxo import list`."
        )
    return ImportRead.model_validate(dict(row._mapping))


def list_imports(conn: Connection, *, limit: int = 20, kind: str | None = None) -> list[ImportRead]:
    """The most recent imports, newest first."""
    query = sa.select(imports).order_by(imports.c.id.desc()).limit(max(1, min(limit, 1000)))
    if kind is not None:
        query = query.where(imports.c.kind == check_kind(kind))
    return [ImportRead.model_validate(dict(r._mapping)) for r in conn.execute(query)]


def iter_quarantine(
    conn: Connection, *, import_id: int, batch: int = 5000
) -> Iterator[QuarantineRow]:
    """The quarantined rows of an import in row order, fetched in batches."""
    get_import(conn, import_id=import_id)
    q = import_quarantine.c
    last = (-1, -1)
    while True:
        rows = conn.execute(
            sa.select(q.id, q.row_number, q.reason, q.detail, q.raw)
            .where(
                q.import_id == import_id,
                sa.or_(q.row_number > last[0], sa.and_(q.row_number == last[0], q.id > last[1])),
            )
            .order_by(q.row_number, q.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            yield QuarantineRow(
                row_number=r.row_number, reason=r.reason, detail=r.detail, raw=r.raw
            )
        last = (int(rows[-1].row_number), int(rows[-1].id))


def quarantine_rows(settings: Settings, import_id: int) -> Iterator[QuarantineRow]:
    """The quarantined rows of an import (opens its own read connection)."""
    with connect(settings) as conn:
        yield from iter_quarantine(conn, import_id=import_id)


# -- preview ------------------------------------------------------------------------------------


def preview(
    path: Path,
    *,
    kind: str | None = None,
    encoding: str | None = None,
    mapping: Mapping | None = None,
    rows: int = 20,
    max_bytes: int | None = None,
) -> Preview:
    """The file's format, encoding and columns, and its first ``rows`` rows mapped and checked.

    ``kind`` defaults to the mapping's; without either, rows come back unmapped. Nothing is
    written. Mapping errors raise as they would on import.
    """
    path = Path(path)
    kind = kind or (mapping.kind if mapping else None)
    with open_source(
        path,
        encoding=encoding or (mapping.encoding if mapping else None),
        sheet=mapping.sheet if mapping else None,
        batch_rows=max(1, rows),
        max_bytes=max_bytes,
    ) as src:
        checked_plan = plan(mapping, check_kind(kind), src.columns) if kind else None
        out = Preview(
            file_name=path.name,
            file_format=src.format,
            file_bytes=src.size,
            encoding=src.encoding,
            delimiter=src.delimiter,
            sheet=src.sheet,
            columns=list(src.columns),
            kind=kind,
        )
        if checked_plan is not None:
            out.fields = checked_plan.describe()
            out.auto_mapped = list(checked_plan.auto)
            out.unmapped_columns = list(checked_plan.unmapped)
        source = (mapping.source if mapping else None) or "preview"
        for batch in src.batches():
            out.rows.extend(_preview_rows(batch, checked_plan, source))
            if len(out.rows) >= rows:
                break
        out.rows = sorted(out.rows, key=lambda r: r.row_number)[:rows]
        out.unmapped_columns += [c for c in src.extra_columns if c not in out.unmapped_columns]
    return out


def _preview_rows(batch: Batch, checked_plan: Plan | None, source: str) -> list[PreviewRow]:
    out = []
    for r in batch.rejected:
        try:
            shown = {k: (None if v is None else str(v)) for k, v in json.loads(r.raw).items()}
        except ValueError:
            shown = {}
        problem = PreviewProblem(field="", reason=r.reason, detail=r.detail)
        out.append(PreviewRow(row_number=r.row_number, source=shown, values={}, problems=[problem]))
    data = batch.data
    checked = (
        check_batch(data, checked_plan, implicit={"source_system": source, "survey": source})
        if checked_plan is not None and data.num_rows
        else None
    )
    for i in range(data.num_rows):
        source_row = {name: data.column(c)[i].as_py() for c, name in enumerate(data.column_names)}
        values: dict[str, Any] = {}
        problems: list[PreviewProblem] = []
        if checked is not None:
            values = {name: v[i].as_py() for name, v in checked.values.items()}
            problems = [
                PreviewProblem(field=f, reason=code, detail=text)
                for f, code, text in checked.problems_of(i)
            ]
        out.append(
            PreviewRow(
                row_number=int(batch.row_numbers[i]),
                source=source_row,
                values=values,
                problems=problems,
            )
        )
    return out
