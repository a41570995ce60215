"""Answering a survey: open a link, start or resume a response, save each page, complete.

Three ways in, one response flow:

* an **invitation token** (``/s/<token>``) — single-use and expiring, one response per token;
* a **public link** (``/s/l/<key>``) — anyone may start; the response gets its own resume token
  (``/s/r/<token>``, also kept in a cookie), so an anonymous respondent can come back;
* the resume token itself.

Tokens are random (192 bits) and stored only as SHA-256 hashes. Answers are saved page by page;
the response remembers its page, its randomisation seed and the survey version it started on, so a
new version published meanwhile never changes a started response. Respondent writes are the data
itself (timestamped rows), not audit-log entries; publishing, sending and settings are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.errors import CxoError, NotFound
from cxo.store.metadata import utcnow
from cxo.surveys import flow, quality
from cxo.surveys.definition import CompiledSurvey
from cxo.surveys.models import answers, invitations, responses, survey_links, surveys
from cxo.vocabulary import N_


class LinkGone(CxoError):
    """The link expired, was used, or its survey stopped taking answers."""

    http_status = 410


def new_token() -> str:
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _valid_token(token: str) -> bool:
    return 16 <= len(token) <= 64 and all(c.isalnum() or c in "-_" for c in token)


@dataclass(frozen=True)
class Session:
    """One response in progress (or done), with the survey version it is on."""

    response_id: int
    survey_id: int
    survey_code: str
    survey_version: int
    survey: CompiledSurvey
    state: str
    page: int
    seed: int
    locale: str | None
    answers: dict[flow.AnswerKey, flow.Value]
    started_at: dt.datetime | None
    invitation_id: int | None = None
    customer_id: int | None = None
    channel: str | None = None

    @property
    def done(self) -> bool:
        return self.state == "completed"

    @property
    def stored(self) -> bool:
        """False for an invitation opened but not yet answered: no response row exists."""
        return self.response_id != 0


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _load_answers(conn: Connection, response_id: int) -> dict[flow.AnswerKey, flow.Value]:
    rows = conn.execute(
        sa.select(answers.c.item_code, answers.c.scale, answers.c.value_num, answers.c.value_text)
        .where(answers.c.response_id == response_id)
        .order_by(answers.c.id)
    )
    out: dict[flow.AnswerKey, flow.Value] = {}
    for r in rows:
        value = r.value_num if r.value_num is not None else r.value_text
        if value is not None:
            out[(r.item_code, r.scale or "single")] = value
    return out


_COMPILED: dict[tuple[str, int], CompiledSurvey] = {}


def compiled_survey(conn: Connection, survey_id: int) -> CompiledSurvey:
    """A survey version's compiled definition, cached once the version has left draft (a
    published definition never changes)."""
    key = (str(conn.engine.url), survey_id)  # one process may serve several stores (tests)
    cached = _COMPILED.get(key)
    if cached is not None:
        return cached
    row = conn.execute(
        sa.select(surveys.c.definition, surveys.c.state).where(surveys.c.id == survey_id)
    ).one()
    survey = CompiledSurvey.model_validate(row.definition["compiled"])
    if row.state != "draft":
        if len(_COMPILED) > 1000:
            _COMPILED.clear()
        _COMPILED[key] = survey
    return survey


def _session(conn: Connection, response_id: int) -> Session:
    row = conn.execute(
        sa.select(
            responses.c.id,
            responses.c.survey_id,
            responses.c.invitation_id,
            responses.c.state,
            responses.c.page,
            responses.c.seed,
            responses.c.locale,
            responses.c.started_at,
            surveys.c.code,
            surveys.c.version,
        )
        .join(surveys, surveys.c.id == responses.c.survey_id)
        .where(responses.c.id == response_id)
    ).one()
    return Session(
        response_id=int(row.id),
        survey_id=int(row.survey_id),
        survey_code=row.code,
        survey_version=int(row.version),
        survey=compiled_survey(conn, int(row.survey_id)),
        state=row.state or "completed",
        page=int(row.page or 0),
        seed=int(row.seed or 0),
        locale=row.locale,
        answers=_load_answers(conn, int(row.id)),
        started_at=_aware(row.started_at),
        invitation_id=row.invitation_id,
    )


def _live(conn: Connection, code: str) -> tuple[int, int, CompiledSurvey]:
    row = conn.execute(
        sa.select(surveys.c.id, surveys.c.version).where(
            surveys.c.code == code, surveys.c.state == "live"
        )
    ).first()
    if row is None:
        raise LinkGone(N_("This survey is closed."), hint=N_("Thank you for your interest."))
    return int(row.id), int(row.version), compiled_survey(conn, int(row.id))


def _create_response(
    conn: Connection,
    *,
    survey_code: str,
    now: dt.datetime,
    channel: str,
    locale: str | None,
    customer_id: int | None = None,
    invitation_id: int | None = None,
    link_id: int | None = None,
    resume_hash: str | None = None,
    client_hash: str | None = None,
    seed: int | None = None,
    survey_id: int | None = None,
) -> int:
    if survey_id is None:
        survey_id, _version, survey = _live(conn, survey_code)
    else:
        survey = compiled_survey(conn, survey_id)
    seed = secrets.randbelow(2**31) if seed is None else seed
    page = flow.first_page(survey, seed=seed, answers={}) or 0
    return int(
        conn.execute(
            responses.insert()
            .values(
                survey_id=survey_id,
                invitation_id=invitation_id,
                customer_id=customer_id,
                link_id=link_id,
                channel=channel,
                locale=locale if locale in survey.locales else survey.locales[0],
                started_at=now,
                state="in_progress",
                page=page,
                seed=seed,
                resume_hash=resume_hash,
                client_hash=client_hash,
                created_at=now,
            )
            .returning(responses.c.id)
        ).scalar_one()
    )


def open_invitation(
    conn: Connection, token: str, *, now: dt.datetime | None = None, locale: str | None = None
) -> Session:
    """The response behind an invitation token.

    Opening the link records ``opened_at`` but stores no response yet: the response is created
    by the first page the respondent submits (so link scanners and prefetchers that open every
    link in an e-mail never count as started). Until then the session has ``response_id`` 0 and a
    seed derived from the invitation, so the order shown is the order that will be stored.
    """
    now = now or utcnow()
    if not _valid_token(token):
        raise NotFound(
            N_("This survey link is not valid."), hint=N_("Check the link in your message.")
        )
    inv = conn.execute(
        sa.select(
            invitations.c.id,
            invitations.c.expires_at,
            invitations.c.opened_at,
            invitations.c.channel,
            invitations.c.locale,
            invitations.c.customer_id,
            surveys.c.code,
            responses.c.id.label("existing"),
        )
        .join(surveys, surveys.c.id == invitations.c.survey_id)
        .outerjoin(responses, responses.c.invitation_id == invitations.c.id)
        .where(invitations.c.token_hash == token_hash(token))
        .order_by(responses.c.id)
        .limit(1)
    ).first()
    if inv is None:
        raise NotFound(
            N_("This survey link is not valid."), hint=N_("Check the link in your message.")
        )
    existing = inv.existing
    if existing is not None:
        return _session(conn, int(existing))
    expires = _aware(inv.expires_at)
    if expires is not None and expires <= now:
        raise LinkGone(N_("This survey link has expired."), hint=N_("Thank you for your interest."))
    survey_id, version, survey = _live(conn, inv.code)
    if inv.opened_at is None:
        conn.execute(invitations.update().where(invitations.c.id == inv.id).values(opened_at=now))
    seed = int(token_hash(f"seed:{inv.id}")[:8], 16) & 0x7FFFFFFF
    chosen = locale or inv.locale
    return Session(
        response_id=0,
        survey_id=survey_id,
        survey_code=inv.code,
        survey_version=version,
        survey=survey,
        state="new",
        page=flow.first_page(survey, seed=seed, answers={}) or 0,
        seed=seed,
        locale=chosen if chosen in survey.locales else survey.locales[0],
        answers={},
        started_at=_aware(inv.opened_at) or now,
        invitation_id=int(inv.id),
        customer_id=inv.customer_id,
        channel=inv.channel,
    )


def _start(conn: Connection, s: Session, now: dt.datetime, shown_at: dt.datetime | None) -> Session:
    """Store the response of an invitation at its first submitted page."""
    started = min(shown_at, now) if shown_at is not None else (s.started_at or now)
    response_id = _create_response(
        conn,
        survey_code=s.survey_code,
        now=started,
        channel=s.channel or "email",
        locale=s.locale,
        customer_id=s.customer_id,
        invitation_id=s.invitation_id,
        seed=s.seed,
        survey_id=s.survey_id,
    )
    conn.execute(
        invitations.update().where(invitations.c.id == s.invitation_id).values(started_at=now)
    )
    return replace(s, response_id=response_id, state="in_progress", started_at=started)


def link_survey(conn: Connection, key: str, *, now: dt.datetime | None = None) -> tuple[int, str]:
    """The (link id, survey code) of an active public link."""
    now = now or utcnow()
    if not _valid_token(key):
        raise NotFound(
            N_("This survey link is not valid."), hint=N_("Check the link in your message.")
        )
    row = conn.execute(sa.select(survey_links).where(survey_links.c.key == key)).first()
    if row is None:
        raise NotFound(
            N_("This survey link is not valid."), hint=N_("Check the link in your message.")
        )
    expires = _aware(row.expires_at)
    if not row.active or (expires is not None and expires <= now):
        raise LinkGone(N_("This survey link has expired."), hint=N_("Thank you for your interest."))
    return int(row.id), row.survey_code


def start_anonymous(
    conn: Connection,
    key: str,
    *,
    locale: str | None,
    client_hash: str | None,
    now: dt.datetime | None = None,
) -> tuple[Session, str]:
    """Start a response through a public link; returns it and its resume token."""
    now = now or utcnow()
    link_id, code = link_survey(conn, key, now=now)
    resume = new_token()
    response_id = _create_response(
        conn,
        survey_code=code,
        now=now,
        channel="link",
        locale=locale,
        link_id=link_id,
        resume_hash=token_hash(resume),
        client_hash=client_hash,
    )
    return _session(conn, response_id), resume


def open_resume(conn: Connection, token: str) -> Session:
    """The anonymous response behind a resume token."""
    if not _valid_token(token):
        raise NotFound(
            N_("This survey link is not valid."), hint=N_("Check the link in your message.")
        )
    rid = conn.execute(
        sa.select(responses.c.id).where(responses.c.resume_hash == token_hash(token))
    ).scalar()
    if rid is None:
        raise NotFound(
            N_("This survey link is not valid."), hint=N_("Check the link in your message.")
        )
    return _session(conn, int(rid))


@dataclass(frozen=True)
class SaveResult:
    session: Session
    errors: dict[str, tuple[str, dict[str, object]]]
    """field → (message template, params); empty when the page was saved."""


def _write_page(
    conn: Connection,
    s: Session,
    page: int,
    values: dict[flow.AnswerKey, flow.Value],
    now: dt.datetime,
) -> dict[flow.AnswerKey, flow.Value]:
    keys = flow.page_keys(s.survey, page)
    merged = {k: v for k, v in s.answers.items() if k not in set(keys)}
    merged.update(values)
    items = sorted({k[0] for k in keys})
    if items and s.answers:
        conn.execute(
            answers.delete().where(
                answers.c.response_id == s.response_id, answers.c.item_code.in_(items)
            )
        )
    rows: list[dict[str, Any]] = [
        {
            "response_id": s.response_id,
            "item_code": item,
            "scale": scale,
            "value_num": value if not isinstance(value, str) else None,
            "value_text": value if isinstance(value, str) else None,
            "created_at": now,
        }
        for (item, scale), value in values.items()
    ]
    if rows:
        conn.execute(answers.insert(), rows)
    return merged


def save_page(
    conn: Connection,
    s: Session,
    *,
    page: int,
    form: dict[str, list[str]],
    action: str = "next",
    now: dt.datetime | None = None,
    shown_at: dt.datetime | None = None,
) -> SaveResult:
    """Validate and save one page; move to the next page (or back), completing at the end.

    A submit for a page other than the response's current one (a double submit, a stale tab) or
    for a completed response changes nothing.
    """
    now = now or utcnow()
    if s.done or page != s.page:
        return SaveResult(_session(conn, s.response_id) if s.stored else s, {})
    if not s.stored:
        s = _start(conn, s, now, shown_at)
    shown = flow.page_questions(s.survey, page, seed=s.seed, answers=s.answers)
    going_back = action == "back"
    parsed = flow.parse_page(shown, form, enforce_required=not going_back and action != "save")
    # What was valid is saved even when the page has problems (answers are saved as you go).
    merged = _write_page(conn, s, page, parsed.values, now)
    if parsed.errors and not going_back:
        return SaveResult(replace(s, answers=merged), parsed.errors)
    values: dict[str, Any] = {}
    if going_back:
        values["page"] = flow.previous_page(s.survey, page, seed=s.seed, answers=merged)
    elif action == "next":
        nxt = flow.next_page(s.survey, page, seed=s.seed, answers=merged)
        if nxt is None:
            merged = _complete(conn, s, merged, now)
            return SaveResult(replace(s, answers=merged, state="completed"), {})
        values["page"] = nxt
    if values:
        conn.execute(responses.update().where(responses.c.id == s.response_id).values(**values))
    return SaveResult(replace(s, answers=merged, page=values.get("page", s.page)), {})


def _complete(
    conn: Connection, s: Session, merged: dict[flow.AnswerKey, flow.Value], now: dt.datetime
) -> dict[flow.AnswerKey, flow.Value]:
    # Answers to questions that later answers hid are dropped: they were not part of the path.
    keep = flow.visible_keys(s.survey, seed=s.seed, answers=merged)
    stale = sorted({k[0] for k in merged if k not in keep})
    if stale:
        conn.execute(
            answers.delete().where(
                answers.c.response_id == s.response_id, answers.c.item_code.in_(stale)
            )
        )
    kept = {k: v for k, v in merged.items() if k in keep}
    # Per-response quality flags now (speeding against the per-item floor only); `cxo survey
    # quality` later adds the survey's median and duplicates across responses.
    started = s.started_at or now
    flags = quality.response_flags(
        s.survey, kept, seconds=(now - started).total_seconds(), survey_median=None
    )
    conn.execute(
        responses.update()
        .where(responses.c.id == s.response_id)
        .values(state="completed", completed_at=now, quality_flags=flags)
    )
    if s.invitation_id is not None:
        conn.execute(
            invitations.update().where(invitations.c.id == s.invitation_id).values(used_at=now)
        )
    return kept


def set_locale(conn: Connection, s: Session, locale: str) -> Session:
    """Remember the respondent's language choice."""
    if locale in s.survey.locales and locale != s.locale and not s.stored:
        return replace(s, locale=locale)
    if locale in s.survey.locales and locale != s.locale:
        conn.execute(
            responses.update().where(responses.c.id == s.response_id).values(locale=locale)
        )
        return _session(conn, s.response_id)
    return s
