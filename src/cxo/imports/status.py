"""What the web app and the API show of an import: its row, live progress and its quarantine."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from cxo.imports import service
from cxo.imports.schemas import ImportRead, QuarantineRow
from cxo.settings import Settings
from cxo.web.export import csv_cell

LIST_LIMIT = 100
QUARANTINE_COLUMNS = ("row_number", "reason", "detail", "raw")


class ImportView(ImportRead):
    bytes_done: int | None = None
    """While running: bytes read so far; with ``file_bytes``, the progress."""

    @property
    def percent(self) -> int | None:
        if self.state == "done":
            return 100
        if self.bytes_done is None or not self.file_bytes:
            return None
        return min(99, int(100 * self.bytes_done / self.file_bytes))

    @property
    def reconciles(self) -> bool:
        """read = accepted + quarantined + duplicates."""
        return self.rows_read == self.rows_accepted + self.rows_quarantined + self.rows_duplicate


def list_imports(conn: Connection, *, limit: int = LIST_LIMIT) -> list[ImportView]:
    return [
        ImportView.model_validate(i.model_dump()) for i in service.list_imports(conn, limit=limit)
    ]


def get_import(
    conn: Connection, import_id: int, progress: tuple[int, int] | None = None
) -> ImportView:
    item = ImportView.model_validate(service.get_import(conn, import_id=import_id).model_dump())
    if progress is not None and item.state in ("queued", "running"):
        done, total = progress
        item = item.model_copy(update={"bytes_done": done, "file_bytes": item.file_bytes or total})
    return item


def quarantine_sample(conn: Connection, import_id: int, limit: int = 100) -> list[QuarantineRow]:
    return list(itertools.islice(service.iter_quarantine(conn, import_id=import_id), limit))


def quarantine_csv(settings: Settings, import_id: int) -> Iterator[str]:
    """The quarantine as CSV text chunks (UTF-8 with BOM, spreadsheet-safe cells)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(QUARANTINE_COLUMNS)
    yield "\ufeff" + buf.getvalue()
    for row in service.quarantine_rows(settings, import_id):
        buf.seek(0)
        buf.truncate()
        writer.writerow([csv_cell(getattr(row, c)) for c in QUARANTINE_COLUMNS])
        yield buf.getvalue()


def quarantine_download(settings: Settings, conn: Connection, import_id: int) -> StreamingResponse:
    """The quarantine of an import as a CSV download (404 if there is no such import)."""
    get_import(conn, import_id)
    return StreamingResponse(
        quarantine_csv(settings, import_id),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="import-{import_id}-quarantine.csv"'
        },
    )
