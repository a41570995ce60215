"""Customer portfolio tables: golden records, source records per touchpoint system, identity links."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, enum_check, id_column, metadata, updated_at

customers = sa.Table(
    "customers",
    metadata,
    id_column("customers"),
    sa.Column("display_name", sa.String(200)),
    sa.Column("given_name", sa.String(100)),
    sa.Column("family_name", sa.String(100)),
    sa.Column("name_latin", sa.String(200), comment="Romanised name (pinyin etc.) for search"),
    sa.Column("email", sa.String(320)),
    sa.Column("phone_e164", sa.String(20)),
    sa.Column("birth_date", sa.Date),
    sa.Column("gender", sa.String(20)),
    sa.Column("city", sa.String(100)),
    sa.Column("country", sa.String(2)),
    sa.Column("locale", sa.String(10)),
    sa.Column("segment", sa.String(50)),
    sa.Column(
        "merged_into_id",
        sa.BigInteger,
        comment="Set when this customer was merged: the surviving customer id (this id is an alias)",
    ),
    sa.Column("attributes", sa.JSON, comment="Further survived fields by name"),
    created_at(),
    updated_at(),
)
# PostgreSQL only: DuckDB cannot update an indexed column of a row other tables reference (its
# foreign-key limitation), and golden-record refreshes update e-mail and phone; DuckDB scans instead.
sa.Index("ix_customers_email", customers.c.email).ddl_if(dialect="postgresql")
sa.Index("ix_customers_phone_e164", customers.c.phone_e164).ddl_if(dialect="postgresql")

source_records = sa.Table(
    "source_records",
    metadata,
    id_column("source_records"),
    sa.Column("source_system", sa.String(50), nullable=False, comment="e.g. crm, web, cti, branch"),
    sa.Column("source_record_id", sa.String(100), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False, comment="The record as imported, after mapping"),
    sa.Column("payload_hash", sa.String(64), nullable=False),
    sa.Column("import_id", sa.BigInteger),
    created_at(),
    updated_at(),
    sa.UniqueConstraint("source_system", "source_record_id"),
)

identity_links = sa.Table(
    "identity_links",
    metadata,
    id_column("identity_links"),
    sa.Column(
        "source_record_pk", sa.BigInteger, sa.ForeignKey("source_records.id"), nullable=False
    ),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column(
        "method", sa.String(20), nullable=False, comment="deterministic | probabilistic | manual"
    ),
    sa.Column("match_weight", sa.Double),
    sa.Column("explanation", sa.JSON, comment="Keys, weights and per-field comparison"),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("run_id", sa.BigInteger, comment="The resolution run that made the link"),
    created_at(),
)
sa.Index("ix_identity_links_customer_id", identity_links.c.customer_id)
sa.Index("ix_identity_links_source_record_pk", identity_links.c.source_record_pk)

CONSTRAINT_KINDS = ("must_link", "cannot_link")

identity_constraints = sa.Table(
    "identity_constraints",
    metadata,
    id_column("identity_constraints"),
    sa.Column("record_a", sa.BigInteger, sa.ForeignKey("source_records.id"), nullable=False),
    sa.Column("record_b", sa.BigInteger, sa.ForeignKey("source_records.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False, comment="must_link | cannot_link"),
    sa.Column("reason", sa.Text),
    sa.Column("actor", sa.String(100), nullable=False),
    created_at(),
    enum_check("kind", CONSTRAINT_KINDS, "kind"),
)
"""Manual decisions every later resolution run respects: merges (must_link) and unmerges."""

RUN_MODES = ("full", "incremental")

resolution_runs = sa.Table(
    "resolution_runs",
    metadata,
    id_column("resolution_runs"),
    sa.Column("mode", sa.String(20), nullable=False),
    sa.Column("engine", sa.String(20), nullable=False),
    sa.Column("records", sa.BigInteger, nullable=False, default=0),
    sa.Column("new_records", sa.BigInteger, nullable=False, default=0),
    sa.Column("clusters", sa.BigInteger, nullable=False, default=0),
    sa.Column("customers_created", sa.BigInteger, nullable=False, default=0),
    sa.Column("customers_merged", sa.BigInteger, nullable=False, default=0),
    sa.Column("deterministic_links", sa.BigInteger, nullable=False, default=0),
    sa.Column("probabilistic_links", sa.BigInteger, nullable=False, default=0),
    sa.Column("model", sa.JSON, comment="The trained Splink model (settings with m and u)"),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("seconds", sa.Double),
    created_at(),
    enum_check("mode", RUN_MODES, "mode"),
)
