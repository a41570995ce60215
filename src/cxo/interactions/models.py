"""Append-only records of what happened: interactions on every channel and transactions."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, enum_check, id_column, metadata

STAGES = ("engage", "transact", "fulfil", "service")
CHANNELS = ("branch", "phone", "web", "app", "email", "chat", "other")

interactions = sa.Table(
    "interactions",
    metadata,
    id_column("interactions"),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id")),
    sa.Column("source_system", sa.String(50)),
    sa.Column("source_record_id", sa.String(100)),
    sa.Column(
        "customer_record_id",
        sa.String(100),
        comment="The customer's record id in a source system; linked to customer_id on resolve",
    ),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("touchpoint", sa.String(100), comment="e.g. account opening, card dispute"),
    sa.Column("stage", sa.String(20), nullable=False, comment="Lifecycle stage (ETFS)"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("wait_seconds", sa.Double),
    sa.Column("handle_seconds", sa.Double),
    sa.Column("outcome", sa.String(50), comment="e.g. resolved, abandoned, transferred, complaint"),
    sa.Column("team", sa.String(100)),
    created_at(),
    enum_check("stage", STAGES, "stage"),
    enum_check("channel", CHANNELS, "channel"),
    sa.UniqueConstraint("source_system", "source_record_id"),
)
sa.Index("ix_interactions_customer_id", interactions.c.customer_id)
sa.Index("ix_interactions_started_at", interactions.c.started_at)
sa.Index("ix_interactions_customer_record_id", interactions.c.customer_record_id)

transactions = sa.Table(
    "transactions",
    metadata,
    id_column("transactions"),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id")),
    sa.Column("source_system", sa.String(50)),
    sa.Column("source_record_id", sa.String(100)),
    sa.Column(
        "customer_record_id",
        sa.String(100),
        comment="The customer's record id in a source system; linked to customer_id on resolve",
    ),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("product", sa.String(100)),
    sa.Column("channel", sa.String(20)),
    created_at(),
    sa.UniqueConstraint("source_system", "source_record_id"),
)
sa.Index("ix_transactions_customer_id", transactions.c.customer_id)
sa.Index("ix_transactions_customer_record_id", transactions.c.customer_record_id)

APPEND_ONLY = ("interactions", "transactions")
