"""File API for survey responses: ``GET /api/v1/surveys/{code}/responses.csv|.xlsx|.sav``.

One row per response, labelled as ``cxo survey export-responses`` labels it. CSV streams as it is
read; Excel and SPSS files are written to a temporary file first (their formats need the whole
file) and deleted once sent. Permission ``voc.export``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Annotated, Literal

from fastapi import Form, Path, Query, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from cxo.governance.service import Principal
from cxo.imports.schemas import ImportSummary
from cxo.settings import Settings
from cxo.store.engine import connect
from cxo.surveys.exchange import (
    MEDIA_TYPES,
    ExportSummary,
    Selection,
    csv_chunks,
    export_responses,
    iter_rows,
    prepare,
)
from cxo.web.deps import Conn, SettingsDep, api_permission
from cxo.web.routing import api_router

router = api_router(tags=["surveys"])
PERMISSION = "voc.export"
CodePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
VersionQuery = Annotated[int | None, Query(ge=1, description="Only this version (default: all)")]
LocaleQuery = Annotated[Literal["en", "zh_CN"], Query(description="Language of the labels")]
FlaggedQuery = Annotated[
    bool | None,
    Query(description="Include responses flagged for quality (default: CXO_VOC_INCLUDE_FLAGGED)"),
]
PartialQuery = Annotated[bool, Query(description="Include responses not completed")]


def _selection(
    settings: Settings, include_flagged: bool | None, include_partial: bool
) -> Selection:
    """What to export; without an explicit choice, CXO_VOC_INCLUDE_FLAGGED decides on flags."""
    flagged = settings.voc_include_flagged if include_flagged is None else include_flagged
    return Selection(include_flagged=flagged, include_partial=include_partial)


def _csv(
    settings: Settings, code: str, version: int | None, locale: str, selection: Selection
) -> Iterator[bytes]:
    with connect(settings) as conn:
        variables, survey_ids, _title = prepare(conn, code, version=version, locale=locale)
        summary = ExportSummary(code=code, path=None, format="csv")
        rows = iter_rows(conn, survey_ids, variables, selection, summary)
        for chunk in csv_chunks(variables, rows):
            yield chunk.encode("utf-8")


@router.get("/surveys/{code}/responses.csv")
def responses_csv(
    settings: SettingsDep,
    conn: Conn,
    principal: Annotated[Principal, api_permission(PERMISSION)],
    code: CodePath,
    version: VersionQuery = None,
    locale: LocaleQuery = "en",
    include_flagged: FlaggedQuery = None,
    include_partial: PartialQuery = False,
) -> StreamingResponse:
    """The responses as CSV (UTF-8 with BOM), one row per response; 404 for an unknown survey,
    409 for one without a definition."""
    prepare(conn, code, version=version, locale=locale)  # fail before the stream starts
    selection = _selection(settings, include_flagged, include_partial)
    return StreamingResponse(
        _csv(settings, code, version, locale, selection),
        media_type=MEDIA_TYPES["csv"],
        headers={"Content-Disposition": f'attachment; filename="{code}-responses.csv"'},
    )


def _file(
    conn: Conn,
    code: str,
    fmt: str,
    version: int | None,
    locale: str,
    selection: Selection,
) -> FileResponse:
    fd, name = tempfile.mkstemp(suffix=f".{fmt}", prefix="cxo-export-")
    os.close(fd)
    path = FsPath(name)
    try:
        export_responses(conn, code, path, version=version, locale=locale, selection=selection)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[fmt],
        filename=f"{code}-responses.{fmt}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get("/surveys/{code}/responses.xlsx")
def responses_xlsx(
    settings: SettingsDep,
    conn: Conn,
    principal: Annotated[Principal, api_permission(PERMISSION)],
    code: CodePath,
    version: VersionQuery = None,
    locale: LocaleQuery = "en",
    include_flagged: FlaggedQuery = None,
    include_partial: PartialQuery = False,
) -> FileResponse:
    """The responses as an Excel workbook: sheet ``responses`` and sheet ``codebook``."""
    selection = _selection(settings, include_flagged, include_partial)
    return _file(conn, code, "xlsx", version, locale, selection)


@router.get("/surveys/{code}/responses.sav")
def responses_sav(
    settings: SettingsDep,
    conn: Conn,
    principal: Annotated[Principal, api_permission(PERMISSION)],
    code: CodePath,
    version: VersionQuery = None,
    locale: LocaleQuery = "en",
    include_flagged: FlaggedQuery = None,
    include_partial: PartialQuery = False,
) -> FileResponse:
    """The responses as an SPSS data file with variable and value labels and measure levels."""
    selection = _selection(settings, include_flagged, include_partial)
    return _file(conn, code, "sav", version, locale, selection)


IMPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".sav")


@router.post("/surveys/{code}/responses/import", response_model=ImportSummary)
def import_responses(
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("imports.run")],
    code: CodePath,
    file: UploadFile,
    source: Annotated[str, Form(min_length=1, max_length=50)],
    mapping: Annotated[str | None, Form(max_length=200_000)] = None,
) -> ImportSummary:
    """Import a wide response file (CSV, Excel or SPSS .sav; one row per response) into the
    survey's answers; every row accepted, a duplicate, or quarantined (see
    ``GET /api/v1/imports/{id}/quarantine``). Bodies up to ``CXO_MAX_REQUEST_BYTES``; larger files
    go through ``cxo survey import-responses``."""
    import shutil

    import yaml

    from cxo.imports.errors import ImportFileError
    from cxo.imports.jobs import safe_file_name
    from cxo.surveys.exchange_import import import_wide
    from cxo.surveys.exchange_mapping import parse_wide_mapping

    name = safe_file_name(file.filename)
    if not name.lower().endswith(IMPORT_SUFFIXES):
        raise ImportFileError(
            "Import .csv, .tsv, .txt, .xlsx or .sav files.",
        )
    parsed = None
    if mapping and mapping.strip():
        try:
            parsed = parse_wide_mapping(yaml.safe_load(mapping))
        except yaml.YAMLError:
            raise ImportFileError(
                "The mapping file %(path)s is not valid YAML.", path="mapping"
            ) from None
    folder = FsPath(tempfile.mkdtemp(prefix="responses-", dir=settings.ensure_home()))
    try:
        path = folder / name
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        return import_wide(
            settings,
            code=code,
            path=path,
            source=source,
            actor=principal.actor,
            mapping=parsed,
            file_name=name,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
