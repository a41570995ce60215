"""Opting out of survey e-mail: the unsubscribe page ``/s/u/<token>``, RFC 8058 one-click
unsubscribe, and analysts' opt-outs and opt-ins.

Every survey e-mail carries ``/s/u/<token>`` in its body and in ``List-Unsubscribe``. The token
is the invitation id sealed under the server's secret (:func:`cxo.surveys.distribute.optout_token`):
it names the customer without showing an id, needs no stored state, and cannot be guessed.

* ``GET`` shows a confirmation page in the respondent's language and changes nothing: link
  scanners and mail previews fetch every link.
* ``POST`` from that page (CSRF-checked like every form) opts the customer out.
* ``POST`` with the body ``List-Unsubscribe=One-Click`` is RFC 8058's one-click unsubscribe, sent
  by mail providers without cookies, so without a CSRF token. It is exempt from the CSRF check:
  the unguessable token in the path is the whole authority (as on every respondent page), the
  request carries no ambient credential a forged cross-site request could borrow, and all it can
  do is opt out the one customer the token names.

An opt-out holds for the customer and every customer merged with them, across all surveys:
waves, triggers and reminders leave them out, and their queued invitations are withheld
(status ``opted_out``). The survey link itself keeps working. Respondents' opt-outs are rows of
the list (when, from which invitation, why); analysts' opt-outs and opt-ins are also audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection

from cxo.customers.models import customers
from cxo.errors import NotFound
from cxo.governance import audit
from cxo.i18n import LANGUAGE_NAMES, LOCALES, normalise_locale, translator
from cxo.store.engine import connect
from cxo.store.metadata import utcnow
from cxo.surveys.distribute import open_sealed
from cxo.surveys.models import invitations, survey_optouts, surveys
from cxo.vocabulary import N_
from cxo.web import csrf
from cxo.web.deps import get_settings
from cxo.web.render import render, resolve_locale
from cxo.web.routing import csrf_protect

ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"
# What a respondent may say when leaving; stored as the key.
REASONS = {
    "too_many": N_("I get too many e-mails"),
    "not_relevant": N_("The surveys are not relevant to me"),
    "not_me": N_("I am not the person this was sent to"),
    "other": N_("Another reason"),
}


SOURCE_LABELS = {
    "link": N_("unsubscribe page"),
    "one_click": N_("one-click unsubscribe (mail client)"),
    "analyst": N_("analyst"),
}


class OptOutRead(BaseModel):
    customer_id: int
    since: dt.datetime
    source: str = Field(description="link, one_click or analyst")
    invitation_id: int | None = None
    reason: str | None = None
    created_by: str | None = None


class OptOutCreate(BaseModel):
    customer_id: int = Field(ge=1, le=2**62)
    reason: str | None = Field(default=None, max_length=300)


@dataclass(frozen=True)
class LinkTarget:
    """Who an unsubscribe link stands for."""

    invitation_id: int
    customer_id: int  # the surviving customer
    locale: str | None
    title: dict[str, Any]
    opted_out: bool


# --- the list ----------------------------------------------------------------------------------


def _survivor(conn: Connection, customer_id: int) -> int | None:
    row = conn.execute(
        sa.select(customers.c.id, customers.c.merged_into_id).where(customers.c.id == customer_id)
    ).first()
    if row is None:
        return None
    return int(row.merged_into_id or row.id)


def _group(survivor: int) -> Any:
    """The customer ids that stand for ``survivor`` (itself and its aliases)."""
    return sa.select(customers.c.id).where(
        sa.func.coalesce(customers.c.merged_into_id, customers.c.id) == survivor
    )


def _listed(conn: Connection, survivor: int) -> sa.Row[Any] | None:
    return conn.execute(
        sa.select(survey_optouts)
        .where(survey_optouts.c.customer_id.in_(_group(survivor)))
        .order_by(survey_optouts.c.since)
        .limit(1)
    ).first()


def _read(row: sa.Row[Any]) -> OptOutRead:
    since = row.since if row.since.tzinfo else row.since.replace(tzinfo=dt.UTC)
    return OptOutRead(
        customer_id=int(row.customer_id),
        since=since,
        source=row.source,
        invitation_id=row.invitation_id,
        reason=row.reason,
        created_by=row.created_by,
    )


def opt_out(
    conn: Connection,
    *,
    customer_id: int,
    source: str,
    invitation_id: int | None = None,
    reason: str | None = None,
    actor: str | None = None,
    now: dt.datetime | None = None,
) -> tuple[OptOutRead, bool]:
    """Put a customer (and their merged aliases) on the opt-out list and withhold their queued
    invitations; return the entry and whether it is new. Already listed: nothing changes."""
    now = now or utcnow()
    survivor = _survivor(conn, customer_id)
    if survivor is None:
        raise NotFound(f"No customer {customer_id}.")
    existing = _listed(conn, survivor)
    if existing is not None:
        return _read(existing), False
    # ON CONFLICT: two one-click requests for the same customer at once (PostgreSQL).
    inserted = conn.execute(
        pg_insert(survey_optouts)
        .values(
            customer_id=survivor,
            since=now,
            source=source,
            invitation_id=invitation_id,
            reason=reason[:300] if reason else None,
            created_by=actor,
        )
        .on_conflict_do_nothing(index_elements=["customer_id"])
    ).rowcount
    conn.execute(
        invitations.update()
        .where(invitations.c.status == "queued", invitations.c.customer_id.in_(_group(survivor)))
        .values(status="opted_out")
    )
    row = _listed(conn, survivor)
    assert row is not None
    return _read(row), bool(inserted)


def add_optout(
    conn: Connection,
    *,
    customer_id: int,
    reason: str | None,
    actor: str,
    now: dt.datetime | None = None,
) -> tuple[OptOutRead, bool]:
    """An analyst opts a customer out of survey e-mail (audited)."""
    now = now or utcnow()
    entry, created = opt_out(
        conn, customer_id=customer_id, source="analyst", reason=reason, actor=actor, now=now
    )
    if created:
        audit.record(
            conn,
            actor=actor,
            action="survey.opt_out",
            object_type="customer",
            object_id=entry.customer_id,
            after=entry.model_dump(),
            now=now,
        )
    return entry, created


def remove_optout(
    conn: Connection, *, customer_id: int, actor: str, now: dt.datetime | None = None
) -> OptOutRead | None:
    """An analyst takes a customer off the opt-out list (audited); None if they were not on it.
    Invitations withheld while they were on it stay withheld."""
    survivor = _survivor(conn, customer_id)
    if survivor is None:
        raise NotFound(f"No customer {customer_id}.")
    rows = conn.execute(
        sa.select(survey_optouts).where(survey_optouts.c.customer_id.in_(_group(survivor)))
    ).all()
    if not rows:
        return None
    conn.execute(survey_optouts.delete().where(survey_optouts.c.id.in_([r.id for r in rows])))
    before = _read(rows[0])
    audit.record(
        conn,
        actor=actor,
        action="survey.opt_in",
        object_type="customer",
        object_id=survivor,
        before=before.model_dump(),
        now=now,
    )
    return before


def list_optouts(
    conn: Connection, *, limit: int = 100, offset: int = 0
) -> tuple[int, list[OptOutRead]]:
    """The opt-out list, newest first, and how many entries it has."""
    total = int(conn.execute(sa.select(sa.func.count()).select_from(survey_optouts)).scalar_one())
    rows = conn.execute(
        sa.select(survey_optouts)
        .order_by(survey_optouts.c.since.desc(), survey_optouts.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return total, [_read(r) for r in rows]


# --- unsubscribe links -------------------------------------------------------------------------


def find_link(conn: Connection, *, secret: bytes, token: str) -> LinkTarget:
    """The customer an unsubscribe token stands for; NotFound for a tampered or unknown token."""
    invitation_id = open_sealed(secret, "optout", token)
    row = None
    if invitation_id is not None and invitation_id < 2**63:
        row = conn.execute(
            sa.select(
                invitations.c.id,
                invitations.c.locale,
                customers.c.id.label("customer_id"),
                customers.c.merged_into_id,
                customers.c.locale.label("customer_locale"),
                surveys.c.title,
            )
            .join(customers, customers.c.id == invitations.c.customer_id)
            .join(surveys, surveys.c.id == invitations.c.survey_id)
            .where(invitations.c.id == invitation_id)
        ).first()
    if row is None:
        raise NotFound(
            N_("This unsubscribe link is not valid."),
            hint=N_("Please check that you copied the whole link from the e-mail."),
        )
    survivor = int(row.merged_into_id or row.customer_id)
    return LinkTarget(
        invitation_id=int(row.id),
        customer_id=survivor,
        locale=row.locale or row.customer_locale,
        title=row.title or {},
        opted_out=_listed(conn, survivor) is not None,
    )


def opt_out_by_link(
    conn: Connection,
    *,
    secret: bytes,
    token: str,
    one_click: bool,
    reason: str | None = None,
    now: dt.datetime | None = None,
) -> LinkTarget:
    """A respondent opts out through the link of one of their invitations."""
    target = find_link(conn, secret=secret, token=token)
    opt_out(
        conn,
        customer_id=target.customer_id,
        source="one_click" if one_click else "link",
        invitation_id=target.invitation_id,
        reason=reason if reason in REASONS else None,
        now=now,
    )
    return LinkTarget(**{**target.__dict__, "opted_out": True})


# --- routes ------------------------------------------------------------------------------------


def _is_one_click(form: Any) -> bool:
    return form.get(ONE_CLICK_FIELD) == ONE_CLICK_VALUE and csrf.CSRF_FIELD not in form


async def csrf_protect_unless_one_click(request: Request) -> None:
    """The page's CSRF check, except for an RFC 8058 one-click POST (see the module docstring)."""
    form_post = request.method == "POST" and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    )
    if form_post and _is_one_click(await request.form()):
        return
    await csrf_protect(request)


router = APIRouter(include_in_schema=False)


def _secret(request: Request) -> bytes:
    key = request.app.state.secret_key
    return key.encode("utf-8") if isinstance(key, str) else bytes(key)


def _locale(request: Request, target: LinkTarget | None, chosen: str | None = None) -> str:
    for candidate in (
        normalise_locale(chosen),
        normalise_locale(request.query_params.get("lang")),
        target.locale if target else None,
    ):
        if candidate in LOCALES:
            return str(candidate)
    return resolve_locale(request)


def _page(
    request: Request,
    token: str,
    target: LinkTarget | None,
    *,
    locale: str,
    heading: str,
    message: str,
    hint: str | None = None,
    form: bool = False,
    status: int = 200,
) -> HTMLResponse:
    _ = translator(locale)
    path = f"/s/u/{token}"
    title = ""
    if target is not None:
        title = target.title.get(locale) or target.title.get("en") or ""
    return render(
        request,
        "respond/unsubscribe.html",
        {
            "_": _,
            "locale": locale,
            "html_lang": "zh-CN" if locale == "zh_CN" else "en",
            "title": title or _(N_("Survey e-mails")),
            "heading": _(heading),
            "message": _(message),
            "hint": _(hint) if hint else None,
            "alert": status >= 400,
            "action": path if form else None,
            "reasons": [(key, _(label)) for key, label in REASONS.items()],
            "lang_links": (
                [(code, name, f"{path}?lang={code}") for code, name in LANGUAGE_NAMES.items()]
                if target is not None
                else []
            ),
        },
        status_code=status,
    )


def _done(request: Request, token: str, target: LinkTarget, locale: str) -> HTMLResponse:
    return _page(
        request,
        token,
        target,
        locale=locale,
        heading=N_("You are unsubscribed"),
        message=N_("We will not send you survey invitations or reminders by e-mail any more."),
        hint=N_("A survey link you already have still works if you want to answer."),
    )


def _not_found(request: Request, token: str, exc: NotFound) -> HTMLResponse:
    return _page(
        request,
        token,
        None,
        locale=_locale(request, None),
        heading=N_("Link not found"),
        message=exc.message,
        hint=exc.hint,
        status=404,
    )


@router.get("/s/u/{token}", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def unsubscribe_page(request: Request, token: str) -> Response:
    """Ask before opting out: a GET (a link scanner, a preview) changes nothing."""
    with connect(get_settings(request)) as conn:
        try:
            target = find_link(conn, secret=_secret(request), token=token)
        except NotFound as exc:
            return _not_found(request, token, exc)
    locale = _locale(request, target)
    if target.opted_out:
        return _done(request, token, target, locale)
    return _page(
        request,
        token,
        target,
        locale=locale,
        heading=N_("Unsubscribe from survey e-mails"),
        message=N_(
            "Press Unsubscribe and we will send you no more survey invitations or reminders by "
            "e-mail. It takes effect at once."
        ),
        form=True,
    )


@router.post(
    "/s/u/{token}",
    response_class=HTMLResponse,
    dependencies=[Depends(csrf_protect_unless_one_click)],
)
async def unsubscribe(request: Request, token: str) -> Response:
    """Opt out: the confirmation form, or a mail client's RFC 8058 one-click POST."""
    form = await request.form()
    one_click = _is_one_click(form)
    reason = form.get("reason")
    lang = form.get("lang")
    with connect(get_settings(request), write=True) as conn:
        try:
            target = opt_out_by_link(
                conn,
                secret=_secret(request),
                token=token,
                one_click=one_click,
                reason=reason if isinstance(reason, str) else None,
            )
        except NotFound as exc:
            return _not_found(request, token, exc)
    locale = _locale(request, target, lang if isinstance(lang, str) else None)
    return _done(request, token, target, locale)
