"""identity imports and record links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SEQUENCES = (
    "identity_constraints_id_seq",
    "import_quarantine_id_seq",
    "imports_id_seq",
    "resolution_runs_id_seq",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "duckdb":
        # DuckDB cannot update an indexed column of a referenced row (see customers/models.py).
        op.drop_index("ix_customers_email", table_name="customers")
        op.drop_index("ix_customers_phone_e164", table_name="customers")
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table(
        "imports",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('imports_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_system", sa.String(length=50), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column(
            "file_sha256",
            sa.String(length=64),
            nullable=True,
            comment="SHA-256 of the file's bytes",
        ),
        sa.Column("file_bytes", sa.BigInteger(), nullable=True),
        sa.Column(
            "file_format",
            sa.String(length=20),
            nullable=True,
            comment="csv, xlsx, parquet or jsonl",
        ),
        sa.Column(
            "encoding",
            sa.String(length=30),
            nullable=True,
            comment="Text encoding used to read a CSV file",
        ),
        sa.Column("mapping", sa.JSON(), nullable=True, comment="The column mapping used, as given"),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_accepted", sa.BigInteger(), nullable=False, comment="New or changed"),
        sa.Column(
            "rows_updated", sa.BigInteger(), nullable=False, comment="Of the accepted: changed"
        ),
        sa.Column("rows_quarantined", sa.BigInteger(), nullable=False),
        sa.Column(
            "rows_duplicate",
            sa.BigInteger(),
            nullable=False,
            comment="Already in the store unchanged, or repeated within the file",
        ),
        sa.Column(
            "message", sa.Text(), nullable=True, comment="Why the import failed, when it did"
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('customers', 'interactions', 'transactions', 'responses')",
            name=op.f("ck_imports_kind"),
        ),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_imports_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "resolution_runs",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('resolution_runs_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("engine", sa.String(length=20), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("new_records", sa.BigInteger(), nullable=False),
        sa.Column("clusters", sa.BigInteger(), nullable=False),
        sa.Column("customers_created", sa.BigInteger(), nullable=False),
        sa.Column("customers_merged", sa.BigInteger(), nullable=False),
        sa.Column("deterministic_links", sa.BigInteger(), nullable=False),
        sa.Column("probabilistic_links", sa.BigInteger(), nullable=False),
        sa.Column(
            "model",
            sa.JSON(),
            nullable=True,
            comment="The trained Splink model (settings with m and u)",
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("seconds", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('full', 'incremental')", name=op.f("ck_resolution_runs_mode")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resolution_runs")),
    )
    op.create_table(
        "identity_constraints",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('identity_constraints_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("record_a", sa.BigInteger(), nullable=False),
        sa.Column("record_b", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="must_link | cannot_link"),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('must_link', 'cannot_link')", name=op.f("ck_identity_constraints_kind")
        ),
        sa.ForeignKeyConstraint(
            ["record_a"],
            ["source_records.id"],
            name=op.f("fk_identity_constraints_record_a_source_records"),
        ),
        sa.ForeignKeyConstraint(
            ["record_b"],
            ["source_records.id"],
            name=op.f("fk_identity_constraints_record_b_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_constraints")),
    )
    op.create_table(
        "import_quarantine",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('import_quarantine_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("import_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "row_number", sa.BigInteger(), nullable=False, comment="1-based data row in the file"
        ),
        sa.Column(
            "reason", sa.String(length=50), nullable=False, comment="A reason code, e.g. bad_date"
        ),
        sa.Column("detail", sa.Text(), nullable=True, comment="Which field and value, in words"),
        sa.Column(
            "raw",
            sa.Text(),
            nullable=True,
            comment="The row as read (JSON object of source columns)",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_import_quarantine_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_quarantine")),
    )
    op.create_index(
        "ix_import_quarantine_import_id", "import_quarantine", ["import_id"], unique=False
    )
    op.add_column(
        "identity_links",
        sa.Column(
            "run_id",
            sa.BigInteger(),
            nullable=True,
            comment="The resolution run that made the link",
        ),
    )
    op.add_column(
        "interactions",
        sa.Column(
            "customer_record_id",
            sa.String(length=100),
            nullable=True,
            comment="The customer's record id in a source system; linked to customer_id on resolve",
        ),
    )
    op.create_index(
        "ix_interactions_customer_record_id", "interactions", ["customer_record_id"], unique=False
    )
    op.add_column(
        "responses",
        sa.Column(
            "customer_record_id",
            sa.String(length=100),
            nullable=True,
            comment="The respondent's record id in a source system; the customer is found through it",
        ),
    )
    op.create_index(
        "ix_responses_customer_record_id", "responses", ["customer_record_id"], unique=False
    )
    op.create_index(
        "uq_responses_source_system_source_record_id",
        "responses",
        ["source_system", "source_record_id"],
        unique=True,
    )
    op.add_column(
        "transactions",
        sa.Column(
            "customer_record_id",
            sa.String(length=100),
            nullable=True,
            comment="The customer's record id in a source system; linked to customer_id on resolve",
        ),
    )
    op.create_index(
        "ix_transactions_customer_record_id", "transactions", ["customer_record_id"], unique=False
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "duckdb":
        op.create_index("ix_customers_email", "customers", ["email"])
        op.create_index("ix_customers_phone_e164", "customers", ["phone_e164"])
    op.drop_index("ix_transactions_customer_record_id", table_name="transactions")
    op.drop_column("transactions", "customer_record_id")
    op.drop_index("uq_responses_source_system_source_record_id", table_name="responses")
    op.drop_index("ix_responses_customer_record_id", table_name="responses")
    op.drop_column("responses", "customer_record_id")
    op.drop_index("ix_interactions_customer_record_id", table_name="interactions")
    op.drop_column("interactions", "customer_record_id")
    op.drop_column("identity_links", "run_id")
    op.drop_index("ix_import_quarantine_import_id", table_name="import_quarantine")
    op.drop_table("import_quarantine")
    op.drop_table("identity_constraints")
    op.drop_table("resolution_runs")
    op.drop_table("imports")
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name)))
