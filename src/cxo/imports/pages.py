"""Import pages: upload, column-mapping preview, progress, summary and quarantine download."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxo.errors import CxoError
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.imports import jobs, status
from cxo.imports.api import job_runner
from cxo.imports.fields import FIELDS
from cxo.imports.models import IMPORT_KINDS
from cxo.web.deps import Conn, SettingsDep, page_permission
from cxo.web.render import render
from cxo.web.routing import page_router

router = page_router()
UPLOAD_PATH = "/imports/upload"
ENCODINGS = ("", "utf-8", "utf-8-sig", "gb18030", "utf-16")
PREVIEW_ROWS = 20

Kind = Annotated[str, Form(pattern="^(" + "|".join(IMPORT_KINDS) + ")$")]
SourceName = Annotated[str, Form(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]
Encoding = Annotated[str, Form(max_length=30)]
MappingText = Annotated[str, Form(max_length=jobs.MAX_MAPPING_CHARS)]


@router.get("/imports", response_class=HTMLResponse)
def imports_page(
    request: Request, conn: Conn, principal: Annotated[Principal, page_permission("imports.read")]
) -> Response:
    return render(
        request,
        "imports.html",
        {
            "items": status.list_imports(conn),
            "kinds": IMPORT_KINDS,
            "encodings": ENCODINGS,
            "can_run": allowed(principal.role, None, "imports.run"),
        },
    )


def _preview(
    request: Request,
    upload: jobs.Upload,
    *,
    kind: str,
    source: str,
    encoding: str,
    mapping_text: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    from cxo.imports.service import preview

    result: Any = None
    if error is None:
        try:
            parsed = jobs.parse_mapping_text(mapping_text)
            result = preview(
                upload.path, kind=kind, encoding=encoding or None, mapping=parsed, rows=PREVIEW_ROWS
            )
        except CxoError as exc:
            error, status_code = exc.message + (f" {exc.hint}" if exc.hint else ""), 400
    if result is not None and not mapping_text.strip():
        auto = {name: result.fields[name] for name in result.auto_mapped if name in result.fields}
        if auto:
            mapping_text = yaml.safe_dump({"columns": auto}, allow_unicode=True, sort_keys=False)
    return render(
        request,
        "import_preview.html",
        {
            "upload": upload,
            "kind": kind,
            "source": source,
            "encoding": encoding,
            "mapping_text": mapping_text,
            "preview": result,
            "error": error,
            "fields": FIELDS[kind],
            "encodings": ENCODINGS,
        },
        status_code=status_code,
    )


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
def upload(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("imports.run")],
    file: Annotated[UploadFile, File()],
    kind: Kind,
    source: SourceName,
    encoding: Encoding = "",
    mapping: MappingText = "",
) -> Response:
    """Save the file and show how its columns map onto cxo fields, before anything is written."""
    saved = jobs.save_upload(settings, file.file, file.filename, principal.actor)
    return _preview(
        request, saved, kind=kind, source=source, encoding=encoding, mapping_text=mapping
    )


@router.post("/imports/preview", response_class=HTMLResponse)
def repreview(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("imports.run")],
    token: Annotated[str, Form(max_length=64)],
    kind: Kind,
    source: SourceName,
    encoding: Encoding = "",
    mapping: MappingText = "",
) -> Response:
    """Preview again with an edited mapping or encoding."""
    saved = jobs.open_upload(settings, token, principal.actor)
    return _preview(
        request, saved, kind=kind, source=source, encoding=encoding, mapping_text=mapping
    )


@router.post("/imports/start")
def start(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("imports.run")],
    token: Annotated[str, Form(max_length=64)],
    kind: Kind,
    source: SourceName,
    encoding: Encoding = "",
    mapping: MappingText = "",
) -> Response:
    """Start the import in the background and go to its progress page."""
    saved = jobs.open_upload(settings, token, principal.actor)
    parsed = jobs.parse_mapping_text(mapping)
    import_id = job_runner(request).start(
        saved,
        kind=kind,
        source=source,
        actor=principal.actor,
        mapping=parsed,
        encoding=encoding or None,
    )
    return RedirectResponse(f"/imports/{import_id}", status_code=303)


@router.get("/imports/{import_id:int}", response_class=HTMLResponse)
def import_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("imports.read")],
    import_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    item = status.get_import(conn, import_id, job_runner(request).progress(import_id))
    context = {"item": item, "sample": status.quarantine_sample(conn, import_id)}
    template = "import_status.html" if request.headers.get("hx-request") else "import_detail.html"
    return render(request, template, context)


@router.get("/imports/{import_id:int}/quarantine.csv")
def quarantine_download(
    settings: SettingsDep,
    conn: Conn,
    principal: Annotated[Principal, page_permission("imports.read")],
    import_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    return status.quarantine_download(settings, conn, import_id)
