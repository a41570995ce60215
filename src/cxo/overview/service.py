"""Live counts for the home page and its API twin."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection

from cxo.cases.models import cases
from cxo.customers.models import customers, source_records
from cxo.interactions.models import STAGES, interactions, transactions
from cxo.surveys.models import responses


class Overview(BaseModel):
    customers: int
    source_records: int
    interactions: int
    transactions: int
    responses: int
    open_cases: int
    interactions_by_stage: dict[str, int]


def _count(conn: Connection, table: sa.Table, where: sa.ColumnElement[bool] | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    return int(conn.execute(query).scalar_one())


def overview(conn: Connection) -> Overview:
    """Count what the store holds right now."""
    by_stage = dict.fromkeys(STAGES, 0)
    for stage, n in conn.execute(
        sa.select(interactions.c.stage, sa.func.count()).group_by(interactions.c.stage)
    ):
        by_stage[stage] = int(n)
    return Overview(
        customers=_count(conn, customers, customers.c.merged_into_id.is_(None)),
        source_records=_count(conn, source_records),
        interactions=_count(conn, interactions),
        transactions=_count(conn, transactions),
        responses=_count(conn, responses),
        open_cases=_count(conn, cases, cases.c.closed_at.is_(None)),
        interactions_by_stage=by_stage,
    )
