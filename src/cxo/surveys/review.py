"""Reviewing responses: the list with quality flags, and an analyst's include/exclude decision.

Flagged responses are kept and shown; analysis and exports leave them out by default
(``CXO_VOC_INCLUDE_FLAGGED``), unless an analyst includes one (``include_override``). Every
decision is audited.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from cxo.errors import NotFound
from cxo.governance import audit
from cxo.store.metadata import utcnow
from cxo.surveys.models import responses, surveys
from cxo.surveys.quality import excluded, flag_names, parse_flags
from cxo.vocabulary import N_

MAX_PER_PAGE = 200
# Shown on the responses page.
LABELS = (
    N_("straight_lining"),
    N_("speeding"),
    N_("inconsistent"),
    N_("duplicate"),
    N_("in_progress"),
    N_("import"),
    N_("link"),
    N_("analyst"),
    N_("yes"),
    N_("Seconds"),
)


class ResponseRow(BaseModel):
    id: int
    version: int
    customer_id: int | None
    channel: str | None
    locale: str | None
    state: str
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    seconds: float | None
    flags: list[str]
    checked: bool
    include_override: bool | None
    excluded: bool


class ResponsePage(BaseModel):
    items: list[ResponseRow]
    total: int
    page: int
    per_page: int


def list_responses(
    conn: Connection,
    code: str,
    *,
    flagged_only: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> ResponsePage:
    """A page of a survey's responses (every version), newest first, with their flags."""
    ids = [
        int(i)
        for i in conn.execute(sa.select(surveys.c.id).where(surveys.c.code == code)).scalars()
    ]
    if not ids:
        raise NotFound(f"No survey {code!r}.")
    where = [responses.c.survey_id.in_(ids)]
    if flagged_only:
        text = sa.func.replace(sa.cast(responses.c.quality_flags, sa.Text), " ", "")
        where.append(responses.c.quality_flags.is_not(None))
        where.append(text.not_in(["{}", "null"]))
    total = conn.execute(
        sa.select(sa.func.count()).select_from(responses).where(*where)
    ).scalar_one()
    rows = conn.execute(
        sa.select(responses, surveys.c.version)
        .join(surveys, surveys.c.id == responses.c.survey_id)
        .where(*where)
        .order_by(responses.c.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = []
    for r in rows:
        flags = parse_flags(r.quality_flags)
        seconds = (
            (r.completed_at - r.started_at).total_seconds()
            if r.completed_at is not None and r.started_at is not None
            else None
        )
        items.append(
            ResponseRow(
                id=r.id,
                version=r.version,
                customer_id=r.customer_id,
                channel=r.channel,
                locale=r.locale,
                state=r.state or "completed",
                started_at=r.started_at,
                completed_at=r.completed_at,
                seconds=seconds,
                flags=flag_names(flags),
                checked=flags is not None,
                include_override=r.include_override,
                excluded=excluded(flags, r.include_override),
            )
        )
    return ResponsePage(items=items, total=int(total), page=page, per_page=per_page)


def set_inclusion(
    conn: Connection,
    *,
    response_id: int,
    include: bool | None,
    actor: str,
    now: dt.datetime | None = None,
) -> None:
    """Include (True) or exclude (False) a response whatever its flags; None follows the flags."""
    row = conn.execute(
        sa.select(responses.c.id, responses.c.include_override).where(responses.c.id == response_id)
    ).first()
    if row is None:
        raise NotFound(f"No response {response_id}.")
    conn.execute(
        responses.update().where(responses.c.id == response_id).values(include_override=include)
    )
    audit.record(
        conn,
        actor=actor,
        action="survey.response_inclusion",
        object_type="response",
        object_id=response_id,
        before={"include_override": row.include_override},
        after={"include_override": include},
        now=now or utcnow(),
    )
