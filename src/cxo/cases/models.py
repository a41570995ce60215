"""Closed-loop cases: a problem routed to the team that owns its root cause, with an SLA."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, id_column, metadata, updated_at

cases = sa.Table(
    "cases",
    metadata,
    id_column("cases"),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id")),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("origin", sa.String(50), comment="e.g. detractor, complaint, alert"),
    sa.Column("origin_ref", sa.String(100)),
    sa.Column("root_cause", sa.String(100)),
    sa.Column("team", sa.String(100)),
    sa.Column("assignee_id", sa.BigInteger, sa.ForeignKey("users.id")),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("priority", sa.String(10)),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    created_at(),
    updated_at(),
)
sa.Index("ix_cases_customer_id", cases.c.customer_id)
sa.Index("ix_cases_status", cases.c.status)
