"""The fieldwork monitor: invited, sent, bounced, delivered, opened, started, completed and
response rate of a survey, by segment, channel or wave, and day by day.

Counts come straight from invitations and responses (every version of the survey code), so they
reconcile: delivered = sent − bounced, completed ≤ started ≤ opened ≤ sent ≤ invited for
invitations. "Failed" invitations were refused by the SMTP server and never sent; "bounced" ones
were accepted and a hard bounce came back (:mod:`cxo.surveys.bounces`). "Opted out" counts the
invitees who are on the opt-out list now (whether their invitation was withheld or they left after
it arrived). Responses through public links have no invitation; they appear under the channel
``link`` with started and completed only. The response rate is completed / delivered (AAPOR RR1
with delivered invitations as the eligible base).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from cxo.surveys.distribute import opted_out_select
from cxo.surveys.models import invitations, responses, surveys
from cxo.vocabulary import N_

Breakdown = Literal["total", "segment", "channel", "wave"]
BREAKDOWNS = (N_("total"), N_("segment"), N_("channel"), N_("wave"))
STAGES = (
    N_("invited"),
    N_("sent"),
    N_("bounced"),
    N_("delivered"),
    N_("opened"),
    N_("started"),
    N_("completed"),
)


class FieldworkRow(BaseModel):
    key: str
    invited: int = 0
    sent: int = 0
    delivered: int = 0
    failed: int = 0
    bounced: int = 0
    opted_out: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0

    @property
    def response_rate(self) -> float | None:
        return self.completed / self.delivered if self.delivered else None


class FieldworkDay(BaseModel):
    day: dt.date
    sent: int = 0
    opened: int = 0
    started: int = 0
    completed: int = 0


class Fieldwork(BaseModel):
    survey_code: str
    by: str
    rows: list[FieldworkRow]
    total: FieldworkRow
    days: list[FieldworkDay]


def _survey_ids(conn: Connection, code: str) -> list[int]:
    return [
        int(i)
        for i in conn.execute(sa.select(surveys.c.id).where(surveys.c.code == code)).scalars()
    ]


def _key(by: Breakdown) -> Any:
    if by == "segment":
        return sa.func.coalesce(invitations.c.segment, "—")
    if by == "channel":
        return invitations.c.channel
    if by == "wave":
        return sa.func.coalesce(sa.cast(invitations.c.wave_id, sa.String), "—")
    return sa.literal_column("'total'")


def _count(cond: Any) -> Any:
    return sa.func.sum(sa.case((cond, 1), else_=0))


def fieldwork(conn: Connection, code: str, *, by: Breakdown = "total") -> Fieldwork:
    """The survey's fieldwork figures, broken down by ``by``, and the daily series."""
    ids = _survey_ids(conn, code)
    if not ids:
        from cxo.errors import NotFound

        raise NotFound(f"No survey {code!r}.")
    done = sa.func.coalesce(responses.c.state, "completed") == "completed"
    resp = (
        sa.select(
            responses.c.invitation_id,
            sa.func.max(sa.case((done, 1), else_=0)).label("completed"),
        )
        .where(responses.c.invitation_id.is_not(None))
        .group_by(responses.c.invitation_id)
        .subquery()
    )
    key = _key(by).label("key")
    query = (
        sa.select(
            key,
            sa.func.count().label("invited"),
            _count(invitations.c.sent_at.is_not(None)).label("sent"),
            _count(
                sa.and_(
                    invitations.c.sent_at.is_not(None),
                    sa.func.coalesce(invitations.c.status, "sent") != "bounced",
                )
            ).label("delivered"),
            _count(invitations.c.status == "failed").label("failed"),
            _count(invitations.c.status == "bounced").label("bounced"),
            _count(invitations.c.customer_id.in_(opted_out_select())).label("opted_out"),
            _count(invitations.c.opened_at.is_not(None)).label("opened"),
            _count(resp.c.invitation_id.is_not(None)).label("started"),
            sa.func.coalesce(sa.func.sum(resp.c.completed), 0).label("completed"),
        )
        .select_from(invitations.outerjoin(resp, resp.c.invitation_id == invitations.c.id))
        .where(invitations.c.survey_id.in_(ids))
    )
    if by != "total":
        query = query.group_by(key).order_by(key)
    rows = [
        FieldworkRow(
            key=str(r.key),
            invited=int(r.invited),
            sent=int(r.sent or 0),
            delivered=int(r.delivered or 0),
            failed=int(r.failed or 0),
            bounced=int(r.bounced or 0),
            opted_out=int(r.opted_out or 0),
            opened=int(r.opened or 0),
            started=int(r.started or 0),
            completed=int(r.completed or 0),
        )
        for r in conn.execute(query)
        if r.invited
    ]
    link = conn.execute(
        sa.select(sa.func.count(), _count(done)).where(
            responses.c.survey_id.in_(ids), responses.c.invitation_id.is_(None)
        )
    ).one()
    if link[0] and by in ("channel", "total"):
        rows.append(FieldworkRow(key="link", started=int(link[0]), completed=int(link[1] or 0)))
    total = FieldworkRow(key="total")
    for r in rows:
        for f in (
            "invited",
            "sent",
            "delivered",
            "failed",
            "bounced",
            "opted_out",
            "opened",
            "started",
            "completed",
        ):
            setattr(total, f, getattr(total, f) + getattr(r, f))
    return Fieldwork(survey_code=code, by=by, rows=rows, total=total, days=_days(conn, ids))


def _days(conn: Connection, ids: list[int]) -> list[FieldworkDay]:
    series: dict[dt.date, FieldworkDay] = {}

    def add(column: Any, table: sa.Table, field: str, where: Any) -> None:
        day = sa.cast(column, sa.Date).label("day")
        query = sa.select(day, sa.func.count()).where(column.is_not(None), where).group_by(day)
        for d, n in conn.execute(query):
            d = d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d))
            row = series.setdefault(d, FieldworkDay(day=d))
            setattr(row, field, int(n))

    in_survey = invitations.c.survey_id.in_(ids)
    add(invitations.c.sent_at, invitations, "sent", in_survey)
    add(invitations.c.opened_at, invitations, "opened", in_survey)
    add(responses.c.started_at, responses, "started", responses.c.survey_id.in_(ids))
    add(
        responses.c.completed_at,
        responses,
        "completed",
        sa.and_(
            responses.c.survey_id.in_(ids),
            sa.func.coalesce(responses.c.state, "completed") == "completed",
        ),
    )
    return [series[d] for d in sorted(series)]
