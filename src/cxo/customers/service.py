"""Customer queries. The caller owns the transaction."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cxo.cases.models import cases
from cxo.customers.models import customers, identity_links, source_records
from cxo.customers.schemas import (
    Customer360,
    CustomerDetail,
    CustomerRead,
    Page,
    SourceRecordView,
    TimelineEvent,
)
from cxo.errors import NotFound
from cxo.identity.romanise import search_name
from cxo.interactions.models import interactions, transactions
from cxo.surveys.models import answers, responses, surveys

MAX_PER_PAGE = 200


def list_customers(
    conn: Connection, *, page: int = 1, per_page: int = 50, mask_pii: bool = True
) -> Page[CustomerRead]:
    """One page of golden customer records (merged-away aliases excluded), newest id last."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    live = customers.c.merged_into_id.is_(None)
    total = conn.execute(sa.select(sa.func.count()).select_from(customers).where(live)).scalar_one()
    rows = conn.execute(
        sa.select(*(customers.c[name] for name in CustomerRead.model_fields))
        .where(live)
        .order_by(customers.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    items = [CustomerRead.model_validate(dict(r._mapping)) for r in rows]
    if mask_pii:
        items = [c.masked() for c in items]
    return Page[CustomerRead](items=items, total=int(total), page=page, per_page=per_page)


def iter_customers(
    conn: Connection, *, mask_pii: bool = True, batch: int = 5000
) -> Iterator[CustomerRead]:
    """Every golden customer record in id order, fetched in batches (for exports)."""
    last = 0
    live = customers.c.merged_into_id.is_(None)
    while True:
        rows = conn.execute(
            sa.select(*(customers.c[name] for name in CustomerRead.model_fields))
            .where(live, customers.c.id > last)
            .order_by(customers.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for r in rows:
            item = CustomerRead.model_validate(dict(r._mapping))
            yield item.masked() if mask_pii else item
        last = int(rows[-1].id)


MAX_QUERY = 200
SEARCH_LIMIT = 50
TIMELINE_LIMIT = 100
_DIGITS = re.compile(r"\D+")
_PHONEISH = re.compile(r"^\+?[\d\s().-]{6,}$")


def _latin_key(text: str) -> str:
    """A query in the golden records' search form, without spaces or punctuation."""
    return re.sub(r"[\s,.'-]+", "", search_name(text))


def search_customers(
    conn: Connection, query: str, *, mask_pii: bool = True, limit: int = SEARCH_LIMIT
) -> list[CustomerRead]:
    """Live customers matching ``query``: a name in characters or pinyin (any order of the words
    is not needed: "zhang wei", "zhangwei" and "张伟" all find 张伟), an e-mail (current or one a
    source system still holds), a phone number in any format (matched on its last digits), or an
    id (an alias finds its surviving customer)."""
    q = query.strip()[:MAX_QUERY]
    if not q:
        return []
    c = customers.c
    conds: list[sa.ColumnElement[bool]] = []
    if "@" in q:
        email = q.lower()
        conds.append(c.email == email)
        via_records = (
            sa.select(identity_links.c.customer_id)
            .join(source_records, source_records.c.id == identity_links.c.source_record_pk)
            .where(identity_links.c.active, _payload(conn, "email") == email)
        )
        conds.append(c.id.in_(via_records))
    elif q.isdigit() or _PHONEISH.match(q):
        digits = _DIGITS.sub("", q)
        if q.isdigit() and len(q) <= 12:
            conds.append(c.id == int(q))
        if len(digits) >= 6:
            conds.append(c.phone_e164.like(f"%{digits[-8:]}"))
    else:
        key = _latin_key(q)
        if key:
            conds.append(
                sa.func.replace(c.name_latin, " ", "").like(f"%{_escape(key)}%", escape="\\")
            )
        conds.append(sa.func.lower(c.display_name).like(f"%{_escape(q.lower())}%", escape="\\"))
    if not conds:
        return []
    matched = sa.select(sa.func.coalesce(c.merged_into_id, c.id)).where(sa.or_(*conds))
    rows = conn.execute(
        sa.select(*(c[name] for name in CustomerRead.model_fields))
        .where(c.id.in_(matched), c.merged_into_id.is_(None))
        .order_by(c.id)
        .limit(limit)
    )
    items = [CustomerRead.model_validate(dict(r._mapping)) for r in rows]
    return [i.masked() for i in items] if mask_pii else items


def _escape(text: str) -> str:
    """Make ``text`` match literally inside a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _payload(conn: Connection, field: str) -> sa.ColumnElement[Any]:
    if conn.dialect.name == "duckdb":
        return sa.func.json_extract_string(source_records.c.payload, f"$.{field}")
    return source_records.c.payload.op("->>")(sa.literal(field))


def _json(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def customer_detail(conn: Connection, customer_id: int, *, mask_pii: bool = True) -> CustomerDetail:
    """The golden record of ``customer_id``, following an alias to the surviving customer."""
    row = conn.execute(sa.select(customers).where(customers.c.id == customer_id)).first()
    if row is None:
        raise NotFound(f"No customer with id {customer_id}.")
    if row.merged_into_id is not None:
        row = conn.execute(sa.select(customers).where(customers.c.id == row.merged_into_id)).one()
    aliases = (
        conn.execute(
            sa.select(customers.c.id)
            .where(customers.c.merged_into_id == row.id)
            .order_by(customers.c.id)
        )
        .scalars()
        .all()
    )
    data = dict(row._mapping)
    data.update(
        requested_id=customer_id, attributes=_json(data.get("attributes")), aliases=list(aliases)
    )
    detail = CustomerDetail.model_validate(data)
    return detail.masked() if mask_pii else detail


def customer_records(
    conn: Connection, customer_id: int, *, mask_pii: bool = True
) -> list[SourceRecordView]:
    """The customer's source records with the link that put each one there."""
    sr, link = source_records, identity_links
    rows = conn.execute(
        sa.select(
            sr.c.id,
            sr.c.source_system,
            sr.c.source_record_id,
            sr.c.payload,
            link.c.method,
            link.c.match_weight,
            link.c.explanation,
            link.c.created_at,
        )
        .join(link, sa.and_(link.c.source_record_pk == sr.c.id, link.c.active))
        .where(link.c.customer_id == customer_id)
        .order_by(sr.c.source_system, sr.c.id)
    ).all()
    out = []
    for r in rows:
        payload = _json(r.payload)
        view = SourceRecordView(
            record_pk=r.id,
            source_system=r.source_system,
            source_record_id=r.source_record_id,
            fields={
                k: None if v is None else str(v)
                for k, v in payload.items()
                if k != "source_record_id"
            },
            method=r.method,
            match_weight=r.match_weight,
            explanation=_json(r.explanation),
            linked_at=r.created_at,
        )
        out.append(view.masked() if mask_pii else view)
    return out


def timeline(
    conn: Connection,
    customer_id: int,
    *,
    before: dt.datetime | None = None,
    limit: int = TIMELINE_LIMIT,
) -> tuple[list[TimelineEvent], dt.datetime | None]:
    """The customer's interactions, transactions, survey responses and cases, newest first.

    Returns one page and the cursor of the next (older) page, or None at the end.
    """
    limit = min(max(1, limit), 500)
    events: list[TimelineEvent] = []
    i = interactions.c
    q = sa.select(
        i.started_at,
        i.channel,
        i.touchpoint,
        i.stage,
        i.wait_seconds,
        i.handle_seconds,
        i.outcome,
        i.team,
        i.source_system,
        i.source_record_id,
    ).where(i.customer_id == customer_id)
    for r in _page(conn, q, i.started_at, before, limit):
        events.append(
            TimelineEvent(
                kind="interaction",
                at=r.started_at,
                channel=r.channel,
                title=r.touchpoint,
                detail={
                    k: v
                    for k, v in {
                        "stage": r.stage,
                        "wait_seconds": r.wait_seconds,
                        "handle_seconds": r.handle_seconds,
                        "outcome": r.outcome,
                        "team": r.team,
                    }.items()
                    if v is not None
                },
                source_system=r.source_system,
                source_record_id=r.source_record_id,
            )
        )
    t = transactions.c
    q = sa.select(
        t.occurred_at,
        t.channel,
        t.product,
        t.amount,
        t.currency,
        t.source_system,
        t.source_record_id,
    ).where(t.customer_id == customer_id)
    for r in _page(conn, q, t.occurred_at, before, limit):
        events.append(
            TimelineEvent(
                kind="transaction",
                at=r.occurred_at,
                channel=r.channel,
                title=r.product,
                detail={"amount": str(r.amount), "currency": r.currency},
                source_system=r.source_system,
                source_record_id=r.source_record_id,
            )
        )
    rs = responses.c
    when = sa.func.coalesce(rs.completed_at, rs.started_at, rs.created_at)
    n_answers = sa.select(sa.func.count()).where(answers.c.response_id == rs.id).scalar_subquery()
    q = (
        sa.select(
            when.label("at"),
            surveys.c.code,
            rs.locale,
            n_answers.label("answers"),
            rs.source_system,
            rs.source_record_id,
        )
        .join(surveys, surveys.c.id == rs.survey_id)
        .where(_respondent_is(customer_id))
    )
    for r in _page(conn, q, when, before, limit):
        events.append(
            TimelineEvent(
                kind="response",
                at=r.at,
                channel="survey",
                title=r.code,
                detail={"answers": r.answers, "locale": r.locale},
                source_system=r.source_system,
                source_record_id=r.source_record_id,
            )
        )
    cs = cases.c
    q = sa.select(cs.created_at, cs.title, cs.status, cs.team, cs.priority, cs.id).where(
        cs.customer_id == customer_id
    )
    for r in _page(conn, q, cs.created_at, before, limit):
        events.append(
            TimelineEvent(
                kind="case",
                at=r.created_at,
                channel=None,
                title=r.title,
                detail={
                    k: v
                    for k, v in {
                        "status": r.status,
                        "team": r.team,
                        "priority": r.priority,
                        "case_id": r.id,
                    }.items()
                    if v is not None
                },
                source_system="cxo",
                source_record_id=str(r.id),
            )
        )
    events.sort(key=lambda e: (e.at, e.kind), reverse=True)
    page = events[:limit]
    more = len(events) > limit
    return page, (page[-1].at if more and page else None)


def _respondent_is(customer_id: int) -> sa.ColumnElement[bool]:
    """Responses of the customer: invited as the customer (or an alias of it), or imported with the
    record id of one of the customer's source records."""
    rs = responses.c
    record_ids = (
        sa.select(source_records.c.source_record_id)
        .join(identity_links, identity_links.c.source_record_pk == source_records.c.id)
        .where(identity_links.c.active, identity_links.c.customer_id == customer_id)
    )
    aliases = sa.select(customers.c.id).where(customers.c.merged_into_id == customer_id)
    return sa.or_(
        rs.customer_id == customer_id,
        rs.customer_id.in_(aliases),
        rs.customer_record_id.in_(record_ids),
    )


def _page(
    conn: Connection,
    query: Any,
    at: sa.ColumnElement[Any],
    before: dt.datetime | None,
    limit: int,
) -> list[Any]:
    if before is not None:
        query = query.where(at < before)
    return list(conn.execute(query.order_by(at.desc()).limit(limit + 1)).all())


def customer_360(
    conn: Connection, customer_id: int, *, mask_pii: bool = True, before: dt.datetime | None = None
) -> Customer360:
    """Everything about one customer: golden record, source records with match explanations,
    and the timeline across channels."""
    detail = customer_detail(conn, customer_id, mask_pii=mask_pii)
    events, next_cursor = timeline(conn, detail.id, before=before)
    return Customer360(
        customer=detail,
        records=customer_records(conn, detail.id, mask_pii=mask_pii),
        timeline=events,
        timeline_next=next_cursor,
    )
