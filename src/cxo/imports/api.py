"""JSON API for imports: upload a file as a background job, poll it, download its quarantine."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from cxo.governance.service import Principal
from cxo.imports import jobs, status
from cxo.imports.models import IMPORT_KINDS
from cxo.imports.status import ImportView
from cxo.store.engine import connect
from cxo.web.deps import Conn, SettingsDep, api_permission
from cxo.web.routing import api_router

router = api_router(tags=["imports"])
UPLOAD_PATH = "/api/v1/imports"


def job_runner(request: Request) -> jobs.ImportJobs:
    runner: jobs.ImportJobs = request.app.state.import_jobs
    return runner


@router.post("/imports", status_code=202, response_model=ImportView)
def start_import(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("imports.run")],
    file: Annotated[UploadFile, File(description="CSV, TSV, .xlsx, Parquet or JSON Lines")],
    kind: Annotated[str, Form(pattern="^(" + "|".join(IMPORT_KINDS) + ")$")],
    source: Annotated[str, Form(min_length=1, max_length=50, pattern=r"^[\w.-]+$")],
    mapping: Annotated[str | None, Form(max_length=jobs.MAX_MAPPING_CHARS)] = None,
    encoding: Annotated[str | None, Form(max_length=30)] = None,
) -> JSONResponse:
    """Upload a file and import it in the background (multipart form). Poll
    ``GET /api/v1/imports/{id}`` until ``state`` is ``done`` or ``failed``; every row is
    accepted, a duplicate, or quarantined (``GET /api/v1/imports/{id}/quarantine``)."""
    parsed = jobs.parse_mapping_text(mapping)
    upload = jobs.save_upload(settings, file.file, file.filename, principal.actor)
    import_id = job_runner(request).start(
        upload, kind=kind, source=source, actor=principal.actor, mapping=parsed, encoding=encoding
    )
    with connect(settings) as conn:
        item = status.get_import(conn, import_id, job_runner(request).progress(import_id))
    body = item.model_dump(mode="json") | {"status_url": f"/api/v1/imports/{import_id}"}
    return JSONResponse(body, status_code=202, headers={"Location": body["status_url"]})


@router.get("/imports", response_model=list[ImportView])
def list_imports(
    conn: Conn, principal: Annotated[Principal, api_permission("imports.read")]
) -> list[ImportView]:
    """The latest imports, newest first, with their counts."""
    return status.list_imports(conn)


@router.get("/imports/{import_id:int}", response_model=ImportView)
def get_import(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, api_permission("imports.read")],
    import_id: Annotated[int, Path(ge=1)],
) -> ImportView:
    """One import: its state, progress (``bytes_done`` of ``file_bytes`` while running) and counts;
    when done, ``rows_read`` = ``rows_accepted`` + ``rows_quarantined`` + ``rows_duplicate``."""
    return status.get_import(conn, import_id, job_runner(request).progress(import_id))


@router.get("/imports/{import_id:int}/quarantine")
def download_quarantine(
    settings: SettingsDep,
    conn: Conn,
    principal: Annotated[Principal, api_permission("imports.read")],
    import_id: Annotated[int, Path(ge=1)],
) -> StreamingResponse:
    """The quarantined rows as CSV: row number in the file, reason code, detail, the raw row."""
    return status.quarantine_download(settings, conn, import_id)
