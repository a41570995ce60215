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

from fastapi import Path, Query
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from cxo.governance.service import Principal
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
    selection = Selection(
        include_flagged=settings.voc_include_flagged
        if include_flagged is None
        else include_flagged,
        include_partial=include_partial,
    )
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
    selection = Selection(
        include_flagged=settings.voc_include_flagged
        if include_flagged is None
        else include_flagged,
        include_partial=include_partial,
    )
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
    selection = Selection(
        include_flagged=settings.voc_include_flagged
        if include_flagged is None
        else include_flagged,
        include_partial=include_partial,
    )
    return _file(conn, code, "sav", version, locale, selection)
