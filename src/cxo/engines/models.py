"""Tables the analytics pipeline writes: derived results, replaced wholesale on every run.

They have no primary key or index on purpose. Each run deletes every row and bulk-inserts the new
result; on DuckDB, keeping an index (ART) up to date through that costs ~3 s per run at a million
interactions, against ~0.4 s for the whole run without it. Rows are unique per
(customer_id, stage) by construction: they are the groups of one GROUP BY.
"""

from __future__ import annotations

import sqlalchemy as sa

from cxo.interactions.models import STAGES
from cxo.store.metadata import enum_check, metadata, utcnow

customer_stage_stats = sa.Table(
    "customer_stage_stats",
    metadata,
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("stage", sa.String(20), nullable=False, comment="Lifecycle stage (ETFS)"),
    sa.Column(
        "n_interactions",
        sa.BigInteger,
        nullable=False,
        comment="Interactions of the customer in the stage, with or without a recorded wait",
    ),
    sa.Column(
        "median_wait_seconds",
        sa.Double,
        comment="Exact median of the recorded waits (midpoint of the two middle values when even); "
        "null when no wait was recorded",
    ),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False, default=utcnow),
    sa.Column("engine", sa.String(20), nullable=False, comment="duckdb, postgres or spark"),
    enum_check("stage", STAGES, "stage"),
)
