"""Public (anonymous) survey links: anyone with the address may answer; each is audited."""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from cxo.errors import Conflict, NotFound
from cxo.governance import audit
from cxo.store.metadata import utcnow
from cxo.surveys.models import survey_links, surveys


class LinkRead(BaseModel):
    id: int
    survey_code: str
    key: str
    label: str | None
    active: bool
    expires_at: dt.datetime | None
    created_at: dt.datetime
    path: str


def _read(row: sa.Row[object]) -> LinkRead:
    return LinkRead(
        id=row.id,
        survey_code=row.survey_code,
        key=row.key,
        label=row.label,
        active=row.active,
        expires_at=row.expires_at,
        created_at=row.created_at,
        path=f"/s/l/{row.key}",
    )


def create_link(
    conn: Connection,
    *,
    survey_code: str,
    actor: str,
    label: str | None = None,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> LinkRead:
    """A new public link to a survey (which must exist; it answers while a version is live)."""
    now = now or utcnow()
    if conn.execute(sa.select(surveys.c.id).where(surveys.c.code == survey_code)).first() is None:
        raise NotFound(f"No survey {survey_code!r}.")
    if expires_at is not None and expires_at <= now:
        raise Conflict("The link would expire before it is made.", hint="Give a future date.")
    key = secrets.token_urlsafe(16)
    new_id = conn.execute(
        survey_links.insert()
        .values(
            survey_code=survey_code,
            key=key,
            label=label,
            active=True,
            expires_at=expires_at,
            created_by=actor,
            created_at=now,
        )
        .returning(survey_links.c.id)
    ).scalar_one()
    audit.record(
        conn,
        actor=actor,
        action="survey.link_create",
        object_type="survey_link",
        object_id=new_id,
        after={"survey": survey_code, "label": label, "expires_at": expires_at},
        now=now,
    )
    return _read(conn.execute(sa.select(survey_links).where(survey_links.c.id == new_id)).one())


def list_links(conn: Connection, survey_code: str) -> list[LinkRead]:
    rows = conn.execute(
        sa.select(survey_links)
        .where(survey_links.c.survey_code == survey_code)
        .order_by(survey_links.c.id.desc())
    )
    return [_read(r) for r in rows]


def deactivate_link(
    conn: Connection, *, link_id: int, actor: str, now: dt.datetime | None = None
) -> LinkRead:
    """Stop a public link taking new respondents (started responses may finish)."""
    row = conn.execute(sa.select(survey_links).where(survey_links.c.id == link_id)).first()
    if row is None:
        raise NotFound(f"No survey link {link_id}.")
    conn.execute(survey_links.update().where(survey_links.c.id == link_id).values(active=False))
    audit.record(
        conn,
        actor=actor,
        action="survey.link_deactivate",
        object_type="survey_link",
        object_id=link_id,
        before={"active": row.active},
        after={"active": False},
        now=now,
    )
    return _read(conn.execute(sa.select(survey_links).where(survey_links.c.id == link_id)).one())
