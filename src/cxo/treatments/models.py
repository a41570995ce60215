"""Personalised treatments: what we can do for a customer, what we decided, and what happened."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, id_column, metadata, updated_at

treatments = sa.Table(
    "treatments",
    metadata,
    id_column("treatments"),
    sa.Column("code", sa.String(50), nullable=False, unique=True),
    sa.Column("name", sa.JSON, nullable=False, comment="Name per locale"),
    sa.Column("channel", sa.String(20)),
    sa.Column("unit_cost", sa.Numeric(18, 2)),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    created_at(),
    updated_at(),
)

decisions = sa.Table(
    "decisions",
    metadata,
    id_column("decisions"),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("treatment_id", sa.BigInteger, sa.ForeignKey("treatments.id"), nullable=False),
    sa.Column("experiment", sa.String(100)),
    sa.Column("arm", sa.String(50)),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.JSON),
    created_at(),
)
sa.Index("ix_decisions_customer_id", decisions.c.customer_id)

outcomes = sa.Table(
    "outcomes",
    metadata,
    id_column("outcomes"),
    sa.Column("decision_id", sa.BigInteger, sa.ForeignKey("decisions.id"), nullable=False),
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("metric", sa.String(50), nullable=False),
    sa.Column("metric_value", sa.Double),
    created_at(),
)
