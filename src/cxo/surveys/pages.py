"""Survey pages for staff: list, builder (definition editor with library palette and live check),
detail with preview, publish/close and public links."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from cxo.errors import CxoError
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.store.engine import connect
from cxo.surveys import links, service
from cxo.surveys.compile import SurveyDefinitionError
from cxo.surveys.definition import CompiledSurvey
from cxo.surveys.snippets import SNIPPETS, starter
from cxo.surveys.yamlio import MAX_DEFINITION_BYTES, parse_and_compile
from cxo.web.deps import Conn, SettingsDep, page_permission
from cxo.web.render import render
from cxo.web.routing import page_router

router = page_router()
CodePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Definition = Annotated[str, Form(max_length=MAX_DEFINITION_BYTES)]


@router.get("/surveys", response_class=HTMLResponse)
def surveys_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("surveys.read")],
) -> Response:
    return render(
        request,
        "surveys.html",
        {
            "items": service.list_surveys(conn),
            "instruments": service.list_instruments(),
            "can_write": allowed(principal.role, None, "surveys.write"),
        },
    )


def _editor(
    request: Request,
    *,
    text: str,
    code: str | None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "survey_edit.html",
        {
            "text": text,
            "code": code,
            "error": error,
            "snippets": SNIPPETS,
            "instruments": service.list_instruments(),
        },
        status_code=status,
    )


@router.get("/surveys/new", response_class=HTMLResponse)
def new_survey(
    request: Request,
    principal: Annotated[Principal, page_permission("surveys.write")],
) -> Response:
    """The builder with a starter definition (SERVQUAL, NPS and a comment)."""
    return _editor(request, text=starter(), code=None)


@router.post("/surveys/check", response_class=HTMLResponse)
def check_definition(
    request: Request,
    principal: Annotated[Principal, page_permission("surveys.write")],
    definition: Definition,
) -> Response:
    """Validate a definition and show a preview, or the first problem with its line."""
    try:
        _spec, survey = parse_and_compile(definition)
    except SurveyDefinitionError as exc:
        return render(request, "survey_check.html", {"error": exc.message, "survey": None})
    return render(request, "survey_check.html", {"error": None, "survey": survey})


@router.post("/surveys/new", response_class=HTMLResponse)
def create_survey(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.write")],
    definition: Definition,
) -> Response:
    try:
        with connect(settings, write=True) as conn:
            s = service.create_survey(conn, text=definition, actor=principal.actor)
    except CxoError as exc:
        return _editor(request, text=definition, code=None, error=exc.message, status=400)
    return RedirectResponse(f"/surveys/{s.code}", status_code=303)


@router.get("/surveys/{code}/edit", response_class=HTMLResponse)
def edit_survey(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("surveys.write")],
    code: CodePath,
) -> Response:
    text = service.export_survey(conn, code)
    return _editor(request, text=text, code=code)


@router.post("/surveys/{code}/edit", response_class=HTMLResponse)
def save_survey(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.write")],
    code: CodePath,
    definition: Definition,
) -> Response:
    try:
        spec, _survey = parse_and_compile(definition)
        if spec.code != code:
            raise CxoError(
                f"The definition's code is {spec.code!r}; this survey is {code!r}.",
                hint="Keep the code, or create a new survey for a new code.",
            )
        with connect(settings, write=True) as conn:
            s = service.update_survey(conn, text=definition, actor=principal.actor)
    except CxoError as exc:
        return _editor(request, text=definition, code=code, error=exc.message, status=400)
    return RedirectResponse(f"/surveys/{s.code}?version={s.version}", status_code=303)


@router.get("/surveys/{code}", response_class=HTMLResponse)
def survey_page(
    request: Request,
    conn: Conn,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.read")],
    code: CodePath,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    detail = service.get_survey(conn, code, version)
    survey: CompiledSurvey | None = service.compiled(detail) if detail.compiled else None
    can_distribute = allowed(principal.role, None, "surveys.distribute")
    return render(
        request,
        "survey.html",
        {
            "s": detail,
            "survey": survey,
            "versions": list(range(detail.versions, 0, -1)),
            "links": links.list_links(conn, code) if can_distribute else [],
            "public_url": settings.public_url.rstrip("/"),
            "can_write": allowed(principal.role, None, "surveys.write"),
            "can_distribute": can_distribute,
        },
    )


@router.post("/surveys/{code}/state", response_class=HTMLResponse)
def change_state(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.write")],
    code: CodePath,
    state: Annotated[str, Form(pattern="^(live|closed)$")],
    version: Annotated[int, Form(ge=1, le=1_000_000)],
) -> Response:
    with connect(settings, write=True) as conn:
        service.set_state(conn, code=code, state=state, version=version, actor=principal.actor)
    return RedirectResponse(f"/surveys/{code}?version={version}", status_code=303)


@router.post("/surveys/{code}/links", response_class=HTMLResponse)
def add_link(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    code: CodePath,
    label: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    with connect(settings, write=True) as conn:
        links.create_link(conn, survey_code=code, actor=principal.actor, label=label or None)
    return RedirectResponse(f"/surveys/{code}#links", status_code=303)


@router.post("/surveys/{code}/links/{link_id}/deactivate", response_class=HTMLResponse)
def stop_link(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    code: CodePath,
    link_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    with connect(settings, write=True) as conn:
        links.deactivate_link(conn, link_id=link_id, actor=principal.actor)
    return RedirectResponse(f"/surveys/{code}#links", status_code=303)
