"""Survey pages for staff: list, builder (a form and a YAML view of the definition, with a live
check), detail with preview, publish/close and public links."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2.utils import htmlsafe_json_dumps
from sqlalchemy.engine import Connection

from cxo.customers.models import customers
from cxo.errors import CxoError, NotFound
from cxo.governance.permissions import allowed
from cxo.governance.service import Principal
from cxo.i18n import translator
from cxo.imports import jobs
from cxo.imports.api import job_runner
from cxo.store.engine import connect
from cxo.surveys import links, service
from cxo.surveys.compile import SurveyDefinitionError
from cxo.surveys.definition import CompiledSurvey
from cxo.surveys.fieldwork import fieldwork
from cxo.surveys.models import survey_waves
from cxo.surveys.service import compiled
from cxo.surveys.snippets import SNIPPETS, starter
from cxo.surveys.yamlio import MAX_DEFINITION_BYTES, parse_and_compile
from cxo.vocabulary import N_
from cxo.web.deps import Conn, SettingsDep, page_permission
from cxo.web.render import render, request_translator, resolve_locale
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
            "can_distribute": allowed(principal.role, None, "surveys.distribute"),
        },
    )


# --- e-mail deliverability: bounces, the suppression list, the opt-out list ---------------------

DELIVERABILITY = "/surveys/deliverability"


def _deliverability(
    request: Request, conn: Connection, report: dict[str, int] | None = None, problems: Any = None
) -> Response:
    from cxo.surveys.optout import SOURCE_LABELS, list_optouts
    from cxo.surveys.suppress import SUPPRESSION_LABELS, list_suppressions

    optout_total, optouts = list_optouts(conn, limit=200)
    suppressed_total, suppressed = list_suppressions(conn, limit=200)
    return render(
        request,
        "survey_deliverability.html",
        {
            "optouts": optouts,
            "optout_total": optout_total,
            "suppressed": suppressed,
            "suppressed_total": suppressed_total,
            "source_labels": SOURCE_LABELS,
            "suppression_labels": SUPPRESSION_LABELS,
            "report": report,
            "problems": problems or [],
        },
    )


@router.get(DELIVERABILITY, response_class=HTMLResponse)
def deliverability_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
) -> Response:
    """Bounces, the suppression list and the opt-out list."""
    return _deliverability(request, conn)


@router.post(f"{DELIVERABILITY}/bounces", response_class=HTMLResponse)
def upload_bounces_page(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    file: Annotated[UploadFile, File()],
) -> Response:
    """Read an uploaded bounce mailbox (mbox or one message) and show what it held."""
    from cxo.surveys.bounces import MAX_UPLOAD_BYTES, apply, sort_upload

    found = sort_upload(file.file.read(MAX_UPLOAD_BYTES + 1))
    with connect(settings, write=True) as conn:
        report = apply(
            conn, found, secret=settings.get_secret_key().encode("utf-8"), actor=principal.actor
        )
        return _deliverability(request, conn, report.counts(), report.problems)


Email = Annotated[str, Form(min_length=1, max_length=320)]


@router.post(f"{DELIVERABILITY}/suppress", response_class=HTMLResponse)
def suppress_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    email: Email,
) -> Response:
    from cxo.surveys.suppress import add_suppression

    with connect(settings, write=True) as conn:
        add_suppression(conn, email=email, actor=principal.actor)
    return RedirectResponse(f"{DELIVERABILITY}#suppressed", status_code=303)


@router.post(f"{DELIVERABILITY}/unsuppress", response_class=HTMLResponse)
def unsuppress_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    email: Email,
) -> Response:
    from cxo.surveys.suppress import remove_suppression

    with connect(settings, write=True) as conn:
        remove_suppression(conn, email=email, actor=principal.actor)
    return RedirectResponse(f"{DELIVERABILITY}#suppressed", status_code=303)


CustomerId = Annotated[int, Form(ge=1, le=2**62)]


@router.post(f"{DELIVERABILITY}/opt-out", response_class=HTMLResponse)
def opt_out_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    customer_id: CustomerId,
    reason: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    from cxo.surveys.optout import add_optout

    with connect(settings, write=True) as conn:
        add_optout(conn, customer_id=customer_id, reason=reason or None, actor=principal.actor)
    return RedirectResponse(f"{DELIVERABILITY}#optouts", status_code=303)


@router.post(f"{DELIVERABILITY}/opt-in", response_class=HTMLResponse)
def opt_in_page(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    customer_id: CustomerId,
) -> Response:
    from cxo.surveys.optout import remove_optout

    with connect(settings, write=True) as conn:
        remove_optout(conn, customer_id=customer_id, actor=principal.actor)
    return RedirectResponse(f"{DELIVERABILITY}#optouts", status_code=303)


def _editor(
    request: Request,
    *,
    text: str,
    code: str | None,
    error: CxoError | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The builder: the form view and the YAML view of one definition (ADR 0008)."""
    from cxo.surveys.builder import boot

    locale = resolve_locale(request)
    loc = error.loc if isinstance(error, SurveyDefinitionError) else ()
    # where the problem is, so the form can point at the question
    error_loc = ".".join(str(p) for p in loc) or None
    return render(
        request,
        "survey_edit.html",
        {
            "text": text,
            "code": code,
            "error": (
                error.localized(translator(locale))
                if isinstance(error, SurveyDefinitionError)
                else translator(locale)(error.message)
                if error
                else None
            ),
            "hint": error.hint if error else None,
            "snippets": SNIPPETS,
            "instruments": service.list_instruments(),
            # JSON for <script type="application/json">, keys in the definition's own order
            "builder": htmlsafe_json_dumps(
                boot(text=text, code=code, locale=locale, _=translator(locale))
            ),
            "error_loc": error_loc,
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
        loc = ".".join(str(p) for p in exc.loc)
        return render(
            request,
            "survey_check.html",
            {"error": exc.localized(request_translator(request)), "loc": loc, "survey": None},
        )
    return render(request, "survey_check.html", {"error": None, "survey": survey})


@router.post("/surveys/form-data")
def form_data(
    request: Request,
    principal: Annotated[Principal, page_permission("surveys.write")],
    definition: Definition,
) -> Response:
    """The definition as JSON for the form view, or why the form cannot show it (400)."""
    from cxo.surveys.builder import form_definition

    try:
        data = form_definition(definition, request_translator(request))
    except SurveyDefinitionError as exc:
        return JSONResponse({"error": exc.localized(request_translator(request))}, status_code=400)
    return JSONResponse({"definition": data})


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
        return _editor(request, text=definition, code=None, error=exc, status=400)
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
    _ = request_translator(request)
    try:
        spec, _survey = parse_and_compile(definition)
        if spec.code != code:
            raise CxoError(
                _(
                    "The definition's code is %(given)s; this survey is %(code)s.",
                    given=spec.code,
                    code=code,
                ),
                hint=_("Keep the code, or create a new survey for a new code."),
            )
        with connect(settings, write=True) as conn:
            s = service.update_survey(conn, text=definition, actor=principal.actor)
    except CxoError as exc:
        return _editor(request, text=definition, code=code, error=exc, status=400)
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


def _segments(conn: Connection) -> list[str]:
    rows = conn.execute(
        sa.select(customers.c.segment)
        .where(customers.c.segment.is_not(None), customers.c.merged_into_id.is_(None))
        .distinct()
        .order_by(customers.c.segment)
        .limit(200)
    )
    return [str(r[0]) for r in rows]


@router.get("/surveys/{code}/fieldwork", response_class=HTMLResponse)
def fieldwork_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("surveys.read")],
    code: CodePath,
    by: Annotated[str, Query(pattern="^(total|segment|channel|wave)$")] = "segment",
    wave: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Fieldwork monitor: the funnel from invited to completed, by segment, channel or wave, and
    day by day; distributors can send a new wave from here."""
    from cxo.web.charts import line_chart

    detail = service.get_survey(conn, code)
    fw = fieldwork(conn, code, by=by)  # type: ignore[arg-type]
    _ = translator(resolve_locale(request))
    chart = (
        line_chart(
            x=[d.day.isoformat() for d in fw.days],
            series=[
                (_("sent"), [d.sent for d in fw.days]),
                (_("opened"), [d.opened for d in fw.days]),
                (_("started"), [d.started for d in fw.days]),
                (_("completed"), [d.completed for d in fw.days]),
            ],
            title=_("Fieldwork by day"),
            y_title=_("Count"),
        )
        if fw.days
        else None
    )
    can_distribute = allowed(principal.role, None, "surveys.distribute")
    last_wave = None
    if wave is not None:
        last_wave = conn.execute(sa.select(survey_waves).where(survey_waves.c.id == wave)).first()
    return render(
        request,
        "survey_fieldwork.html",
        {
            "s": detail,
            "fw": fw,
            "by": by,
            "chart": chart,
            "can_distribute": can_distribute and detail.state == "live",
            "segments": _segments(conn) if can_distribute else [],
            "last_wave": last_wave,
        },
    )


@router.post("/surveys/{code}/waves", response_class=HTMLResponse)
def send_wave(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.distribute")],
    code: CodePath,
    segment: Annotated[str, Form(min_length=1, max_length=50)],
    name: Annotated[str, Form(max_length=200)] = "",
    expires_days: Annotated[int, Form(ge=1, le=365)] = 14,
    reminder_days: Annotated[int, Form(ge=1, le=90)] = 3,
    max_reminders: Annotated[int, Form(ge=0, le=5)] = 1,
) -> Response:
    from cxo.surveys.distribute import Audience, WaveCreate, create_wave

    with connect(settings, write=True) as conn:
        wave = create_wave(
            conn,
            data=WaveCreate(
                survey_code=code,
                name=name or segment,
                audience=Audience(segment=segment),
                expires_days=expires_days,
                reminder_days=reminder_days,
                max_reminders=max_reminders,
            ),
            secret=settings.get_secret_key().encode("utf-8"),
            cap_days=settings.survey_contact_cap_days,
            default_expiry_days=settings.survey_link_days,
            actor=principal.actor,
        )
    request.app.state.mail_jobs.kick()
    return RedirectResponse(
        f"/surveys/{code}/fieldwork?by=wave&wave={wave.wave_id}", status_code=303
    )


@router.get("/surveys/{code}/responses", response_class=HTMLResponse)
def responses_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("surveys.read")],
    code: CodePath,
    flagged: bool = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    """The survey's responses with their quality flags; analysts include or exclude them."""
    from cxo.surveys.review import list_responses

    detail = service.get_survey(conn, code)
    result = list_responses(conn, code, flagged_only=flagged, page=page)
    return render(
        request,
        "survey_responses.html",
        {
            "s": detail,
            "result": result,
            "flagged": flagged,
            "can_decide": allowed(principal.role, None, "surveys.write"),
            "can_import": allowed(principal.role, None, "imports.run"),
        },
    )


@router.post("/surveys/{code}/responses/{response_id}/inclusion", response_class=HTMLResponse)
def decide_inclusion(
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("surveys.write")],
    code: CodePath,
    response_id: Annotated[int, Path(ge=1, le=2**62)],
    include: Annotated[str, Form(pattern="^(include|exclude|flags)$")],
    flagged: Annotated[bool, Form()] = False,
) -> Response:
    from cxo.surveys.review import set_inclusion

    value = {"include": True, "exclude": False, "flags": None}[include]
    with connect(settings, write=True) as conn:
        set_inclusion(conn, response_id=response_id, include=value, actor=principal.actor)
    back = f"/surveys/{code}/responses" + ("?flagged=true" if flagged else "")
    return RedirectResponse(back, status_code=303)


# --- importing a response file (CSV, Excel, SPSS) as a background job ----------------------------

RESPONSE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".sav")
RESPONSES_UPLOAD_PATTERN = r"/surveys/[a-z][a-z0-9_]{0,39}/responses/import"
"""The upload route, for the body limit (``CXO_IMPORT_MAX_BYTES`` instead of the request limit)."""
SourceName = Annotated[str, Form(min_length=1, max_length=50, pattern=r"^[\w.-]+$")]


def _wide_mapping(text: str) -> Any:
    """The response mapping typed into the form (YAML), checked; None when blank."""
    import yaml

    from cxo.imports.errors import ImportFileError
    from cxo.surveys.exchange_mapping import parse_wide_mapping

    if not text.strip():
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ImportFileError(
            N_("The mapping file %(path)s is not valid YAML."), path="mapping"
        ) from None
    return parse_wide_mapping(data)


@router.post("/surveys/{code}/responses/import")
def import_responses(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, page_permission("imports.run")],
    code: CodePath,
    file: Annotated[UploadFile, File()],
    source: SourceName,
    mapping: Annotated[str, Form(max_length=jobs.MAX_MAPPING_CHARS)] = "",
) -> Response:
    """Check the survey, the file type and the mapping, save the upload, and import it in the
    background; go to the import's status page."""
    from cxo.imports.errors import ImportFileError

    with connect(settings) as conn:
        compiled(service.get_survey(conn, code))  # 404 / 409 before the upload is saved
    name = jobs.safe_file_name(file.filename)
    try:
        if not name.lower().endswith(RESPONSE_SUFFIXES):
            raise ImportFileError(
                N_("cxo cannot import %(name)s: the file type is not one it reads."),
                hint=N_("Upload a .csv, .tsv, .txt, .xlsx or .sav file."),
                name=repr(name),
            )
        parsed = _wide_mapping(mapping)
    except ImportFileError as exc:
        raise exc.localized(request_translator(request)) from None
    saved = jobs.save_upload(
        settings, file.file, file.filename, principal.actor, suffixes=RESPONSE_SUFFIXES
    )
    import_id = job_runner(request).start_wide(
        saved, code=code, source=source, actor=principal.actor, mapping=parsed
    )
    return RedirectResponse(f"/surveys/{code}/responses/imports/{import_id}", status_code=303)


@router.get("/surveys/{code}/responses/imports/{import_id:int}", response_class=HTMLResponse)
def response_import_page(
    request: Request,
    conn: Conn,
    principal: Annotated[Principal, page_permission("imports.run")],
    code: CodePath,
    import_id: Annotated[int, Path(ge=1, le=2**62)],
) -> Response:
    """A response import's progress (polled) and, when done, its counts and quarantine."""
    from cxo.imports import status
    from cxo.imports.models import imports

    detail = service.get_survey(conn, code)
    stored = conn.execute(sa.select(imports.c.mapping).where(imports.c.id == import_id)).first()
    wide = stored.mapping if stored is not None else None
    if not isinstance(wide, dict) or wide.get("survey") != code:
        raise NotFound("No such import of responses for this survey.")
    item = status.get_import(conn, import_id, job_runner(request).progress(import_id))
    return render(
        request,
        "survey_import.html",
        {"s": detail, "item": item, "sample": status.quarantine_sample(conn, import_id)},
    )
