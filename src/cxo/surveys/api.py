"""JSON API for surveys: the instrument library, definitions, versions, states, public links,
distribution, fieldwork, the opt-out list and bounces."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Body, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from cxo.governance.service import Principal
from cxo.surveys import distribute, links, optout, review, service, suppress
from cxo.surveys.distribute import Audience
from cxo.surveys.fieldwork import Fieldwork, fieldwork
from cxo.surveys.links import LinkRead
from cxo.surveys.mailer import MailJobs
from cxo.surveys.optout import OptOutCreate, OptOutRead
from cxo.surveys.review import ResponsePage
from cxo.surveys.schemas import InstrumentRead, SurveyDetail, SurveyRead
from cxo.surveys.suppress import SuppressionRead
from cxo.surveys.yamlio import MAX_DEFINITION_BYTES
from cxo.web.deps import Conn, SettingsDep, WriteConn, api_permission
from cxo.web.routing import api_router

router = api_router(tags=["surveys"])
CodePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
DEFINITION_BODY = {
    "required": True,
    "content": {
        "application/yaml": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object"}},
    },
}


async def _definition_text(request: Request) -> bytes:
    from cxo.surveys.compile import SurveyDefinitionError

    body = await request.body()
    if len(body) > MAX_DEFINITION_BYTES:
        raise SurveyDefinitionError(
            f"the definition is {len(body):,} bytes; at most {MAX_DEFINITION_BYTES:,}"
        )
    return body


@router.get("/survey-instruments", response_model=list[InstrumentRead])
def instruments(
    principal: Annotated[Principal, api_permission("surveys.read")],
) -> list[InstrumentRead]:
    """The instrument library (newest version of each instrument)."""
    return service.list_instruments()


@router.get("/surveys", response_model=list[SurveyRead])
def list_surveys(
    conn: Conn, principal: Annotated[Principal, api_permission("surveys.read")]
) -> list[SurveyRead]:
    """Every survey (latest version) with started and completed response counts."""
    return service.list_surveys(conn)


@router.post(
    "/surveys",
    response_model=SurveyDetail,
    status_code=201,
    openapi_extra={"requestBody": DEFINITION_BODY},
)
async def create_survey(
    request: Request,
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.write")],
) -> SurveyDetail:
    """Create a survey from a YAML or JSON definition (version 1, draft). Errors name the line."""
    text = await _definition_text(request)
    return service.create_survey(conn, text=text, actor=principal.actor)


@router.put(
    "/surveys/{code}",
    response_model=SurveyDetail,
    openapi_extra={"requestBody": DEFINITION_BODY},
)
async def update_survey(
    request: Request,
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.write")],
    code: CodePath,
) -> SurveyDetail:
    """Edit a survey: a draft is replaced; a live or closed one gets a new draft version."""
    from cxo.surveys.yamlio import parse_spec

    text = await _definition_text(request)
    spec = parse_spec(text)
    if spec.code != code:
        from cxo.errors import Conflict

        raise Conflict(f"The definition is for {spec.code!r}, not {code!r}.")
    return service.update_survey(conn, text=text, actor=principal.actor)


@router.get("/surveys/{code}", response_model=SurveyDetail)
def get_survey(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.read")],
    code: CodePath,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> SurveyDetail:
    """One survey version (the latest by default) with its spec and compiled form."""
    return service.get_survey(conn, code, version)


@router.get("/surveys/{code}/definition", response_class=PlainTextResponse)
def export_definition(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.read")],
    code: CodePath,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    format: Literal["yaml", "json"] = "yaml",
    compiled: bool = False,
) -> PlainTextResponse:
    """The definition as YAML or JSON, ready to re-import (or compiled, with library items)."""
    text = service.export_survey(conn, code, version=version, fmt=format, compiled_form=compiled)
    media = "application/json" if format == "json" else "application/yaml"
    return PlainTextResponse(
        text,
        media_type=f"{media}; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{code}.{format}"'},
    )


class StateChange(BaseModel):
    version: int | None = Field(default=None, ge=1, le=1_000_000)


@router.post("/surveys/{code}/publish", response_model=SurveyDetail)
def publish(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.write")],
    code: CodePath,
    body: Annotated[StateChange | None, Body()] = None,
) -> SurveyDetail:
    """Make a version live (the latest by default); the version live before it closes."""
    version = body.version if body else None
    return service.set_state(conn, code=code, state="live", version=version, actor=principal.actor)


@router.post("/surveys/{code}/close", response_model=SurveyDetail)
def close(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.write")],
    code: CodePath,
    body: Annotated[StateChange | None, Body()] = None,
) -> SurveyDetail:
    """Stop a live version taking answers."""
    version = body.version if body else None
    return service.set_state(
        conn, code=code, state="closed", version=version, actor=principal.actor
    )


class LinkCreate(BaseModel):
    label: str | None = Field(default=None, max_length=200)
    expires_at: dt.datetime | None = None


@router.get("/surveys/{code}/links", response_model=list[LinkRead])
def list_links(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    code: CodePath,
) -> list[LinkRead]:
    """The survey's public links."""
    return links.list_links(conn, code)


@router.post("/surveys/{code}/links", response_model=LinkRead, status_code=201)
def create_link(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    code: CodePath,
    body: LinkCreate,
) -> LinkRead:
    """A public anonymous link (``path`` is relative to cxo's public address)."""
    return links.create_link(
        conn,
        survey_code=code,
        actor=principal.actor,
        label=body.label,
        expires_at=body.expires_at,
    )


@router.post("/survey-links/{link_id}/deactivate", response_model=LinkRead)
def deactivate_link(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    link_id: Annotated[int, Path(ge=1, le=2**62)],
) -> LinkRead:
    """Stop a public link taking new respondents."""
    return links.deactivate_link(conn, link_id=link_id, actor=principal.actor)


# --- distribution and fieldwork -----------------------------------------------------------------


class WaveRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    audience: Audience
    expires_days: int | None = Field(default=None, ge=1, le=365)
    reminder_days: int | None = Field(default=3, ge=1, le=90)
    max_reminders: int = Field(default=1, ge=0, le=5)
    send: bool = Field(default=True, description="Start sending the e-mail in the background")


class TriggerRequest(BaseModel):
    source: Literal["interaction", "case"] = "interaction"
    channel: str | None = Field(default=None, max_length=20)
    touchpoint: str | None = Field(default=None, max_length=100)
    outcome: str | None = Field(default=None, max_length=50)
    delay_hours: int = Field(default=0, ge=0, le=24 * 30)


def _mail_jobs(request: Request) -> MailJobs:
    jobs: MailJobs = request.app.state.mail_jobs
    return jobs


@router.post("/surveys/{code}/waves", status_code=201)
def create_wave(
    request: Request,
    conn: WriteConn,
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    code: CodePath,
    body: WaveRequest,
) -> dict[str, int | str]:
    """Invite a segment or a list of customers (contact cap applied); e-mail goes out in the
    background. Returns how many were selected, invited, capped, without e-mail or unknown."""
    wave = distribute.create_wave(
        conn,
        data=distribute.WaveCreate(survey_code=code, **body.model_dump(exclude={"send"})),
        secret=settings.get_secret_key().encode("utf-8"),
        cap_days=settings.survey_contact_cap_days,
        default_expiry_days=settings.survey_link_days,
        actor=principal.actor,
    )
    if body.send:
        conn.commit()
        _mail_jobs(request).kick()
    return dict(wave.__dict__)


@router.post("/surveys/{code}/triggers", status_code=201)
def create_trigger(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    code: CodePath,
    body: TriggerRequest,
) -> dict[str, int]:
    """Survey customers after interactions of a channel, touchpoint and/or outcome."""
    tid = distribute.create_trigger(
        conn,
        data=distribute.TriggerCreate(survey_code=code, **body.model_dump()),
        actor=principal.actor,
    )
    return {"id": tid}


@router.post("/survey-triggers/run")
def run_triggers(
    request: Request,
    conn: WriteConn,
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
) -> list[dict[str, int]]:
    """Queue invitations for matching interactions that are due, then send in the background."""
    runs = distribute.run_triggers(
        conn,
        secret=settings.get_secret_key().encode("utf-8"),
        cap_days=settings.survey_contact_cap_days,
        expiry_days=settings.survey_link_days,
    )
    conn.commit()
    _mail_jobs(request).kick()
    return [r.__dict__ for r in runs]


@router.post("/survey-mail", status_code=202)
def send_mail(
    request: Request,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
) -> dict[str, str | int | None]:
    """Send queued invitations and due reminders in the background."""
    jobs = _mail_jobs(request)
    jobs.kick()
    last = jobs.last
    return {
        "state": "queued",
        "last_sent": last.sent if last else None,
        "last_error": jobs.last_error,
    }


@router.get("/surveys/{code}/fieldwork", response_model=Fieldwork)
def get_fieldwork(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.read")],
    code: CodePath,
    by: Literal["total", "segment", "channel", "wave"] = "total",
) -> Fieldwork:
    """Invited, sent, delivered, opened, started, completed and response rate, and by day."""
    return fieldwork(conn, code, by=by)


@router.get("/surveys/{code}/responses", response_model=ResponsePage)
def list_responses(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.read")],
    code: CodePath,
    flagged: bool = False,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=review.MAX_PER_PAGE)] = 50,
) -> ResponsePage:
    """Responses with their quality flags and whether analysis leaves them out."""
    return review.list_responses(conn, code, flagged_only=flagged, page=page, per_page=per_page)


class Inclusion(BaseModel):
    include: bool | None = Field(description="true: include, false: exclude, null: follow flags")


@router.post("/responses/{response_id}/inclusion", status_code=204)
def set_inclusion(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.write")],
    response_id: Annotated[int, Path(ge=1, le=2**62)],
    body: Inclusion,
) -> None:
    """An analyst's decision to include or exclude a response whatever its flags (audited)."""
    review.set_inclusion(conn, response_id=response_id, include=body.include, actor=principal.actor)


# --- opt-outs and bounces -----------------------------------------------------------------------


class OptOutPage(BaseModel):
    total: int
    items: list[OptOutRead]


@router.get("/survey-optouts", response_model=OptOutPage)
def list_optouts(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> OptOutPage:
    """Customers who opted out of survey e-mail, newest first."""
    total, items = optout.list_optouts(conn, limit=per_page, offset=(page - 1) * per_page)
    return OptOutPage(total=total, items=items)


@router.post("/survey-optouts", response_model=OptOutRead)
def add_optout(
    response: Response,
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    body: OptOutCreate,
) -> OptOutRead:
    """Stop all survey e-mail to a customer (201; 200 if they had opted out already). Audited."""
    entry, created = optout.add_optout(
        conn, customer_id=body.customer_id, reason=body.reason, actor=principal.actor
    )
    response.status_code = 201 if created else 200
    return entry


@router.delete("/survey-optouts/{customer_id}", status_code=204)
def remove_optout(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    customer_id: Annotated[int, Path(ge=1, le=2**62)],
) -> None:
    """Take a customer off the opt-out list (404 if they were not on it). Audited."""
    if optout.remove_optout(conn, customer_id=customer_id, actor=principal.actor) is None:
        from cxo.errors import NotFound

        raise NotFound(f"Customer {customer_id} has not opted out.")


class SuppressionPage(BaseModel):
    total: int
    items: list[SuppressionRead]


class SuppressionCreate(BaseModel):
    email: str = Field(min_length=3, max_length=320)


@router.get("/survey-suppressions", response_model=SuppressionPage)
def list_suppressions(
    conn: Conn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SuppressionPage:
    """Addresses survey e-mail is not sent to (hard bounces, complaints, analysts'), newest
    first."""
    total, items = suppress.list_suppressions(conn, limit=per_page, offset=(page - 1) * per_page)
    return SuppressionPage(total=total, items=items)


@router.post("/survey-suppressions", response_model=SuppressionRead)
def add_suppression(
    response: Response,
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    body: SuppressionCreate,
) -> SuppressionRead:
    """Stop all survey e-mail to an address (201; 200 if it was listed already). Audited."""
    entry, created = suppress.add_suppression(conn, email=body.email, actor=principal.actor)
    response.status_code = 201 if created else 200
    return entry


@router.delete("/survey-suppressions/{email}", status_code=204)
def remove_suppression(
    conn: WriteConn,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
    email: Annotated[str, Path(min_length=3, max_length=320)],
) -> None:
    """Take an address off the suppression list (404 if it was not on it). Audited."""
    if suppress.remove_suppression(conn, email=email, actor=principal.actor) is None:
        from cxo.errors import NotFound

        raise NotFound("That address is not on the suppression list.")


@router.post(
    "/survey-bounces",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/mbox": {"schema": {"type": "string", "format": "binary"}},
                "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_bounces(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, api_permission("surveys.distribute")],
) -> dict[str, object]:
    """Read bounces from an mbox (or one message) in the request body, at most 10 MB: hard bounces
    mark their invitations bounced; the same upload twice changes nothing."""

    from cxo.store.engine import connect
    from cxo.surveys.bounces import MAX_UPLOAD_BYTES, apply, sort_upload, upload_too_large

    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise upload_too_large()
        chunks.append(chunk)
    found = sort_upload(b"".join(chunks))
    with connect(settings, write=True) as conn:
        report = apply(
            conn, found, secret=settings.get_secret_key().encode("utf-8"), actor=principal.actor
        )
    result: dict[str, object] = dict(report.counts())
    result["problems"] = [{"message": w, "reason": r} for w, r in report.problems]
    return result
