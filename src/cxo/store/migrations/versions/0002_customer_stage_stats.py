"""customer stage stats (analytics pipeline output)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_stage_stats",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False, comment="Lifecycle stage (ETFS)"),
        sa.Column(
            "n_interactions",
            sa.BigInteger(),
            nullable=False,
            comment="Interactions of the customer in the stage, with or without a recorded wait",
        ),
        sa.Column(
            "median_wait_seconds",
            sa.Double(),
            nullable=True,
            comment="Exact median of the recorded waits (midpoint of the two middle values when even); null when no wait was recorded",
        ),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "engine", sa.String(length=20), nullable=False, comment="duckdb, postgres or spark"
        ),
        sa.CheckConstraint(
            "stage IN ('engage', 'transact', 'fulfil', 'service')",
            name=op.f("ck_customer_stage_stats_stage"),
        ),
    )


def downgrade() -> None:
    op.drop_table("customer_stage_stats")
