"""Import jobs and their quarantine: every row read is accepted, a duplicate, or quarantined."""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, enum_check, id_column, metadata, updated_at

IMPORT_KINDS = ("customers", "interactions", "transactions", "responses")
IMPORT_STATES = ("queued", "running", "done", "failed")

imports = sa.Table(
    "imports",
    metadata,
    id_column("imports"),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("source_system", sa.String(50), nullable=False),
    sa.Column("file_name", sa.String(300), nullable=False),
    sa.Column("file_sha256", sa.String(64), comment="SHA-256 of the file's bytes"),
    sa.Column("file_bytes", sa.BigInteger),
    sa.Column("file_format", sa.String(20), comment="csv, xlsx, parquet or jsonl"),
    sa.Column("encoding", sa.String(30), comment="Text encoding used to read a CSV file"),
    sa.Column("mapping", sa.JSON, comment="The column mapping used, as given"),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("rows_read", sa.BigInteger, nullable=False, default=0),
    sa.Column("rows_accepted", sa.BigInteger, nullable=False, default=0, comment="New or changed"),
    sa.Column(
        "rows_updated", sa.BigInteger, nullable=False, default=0, comment="Of the accepted: changed"
    ),
    sa.Column("rows_quarantined", sa.BigInteger, nullable=False, default=0),
    sa.Column(
        "rows_duplicate",
        sa.BigInteger,
        nullable=False,
        default=0,
        comment="Already in the store unchanged, or repeated within the file",
    ),
    sa.Column("message", sa.Text, comment="Why the import failed, when it did"),
    sa.Column("actor", sa.String(100), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    created_at(),
    updated_at(),
    enum_check("kind", IMPORT_KINDS, "kind"),
    enum_check("state", IMPORT_STATES, "state"),
)

import_quarantine = sa.Table(
    "import_quarantine",
    metadata,
    id_column("import_quarantine"),
    sa.Column("import_id", sa.BigInteger, sa.ForeignKey("imports.id"), nullable=False),
    sa.Column("row_number", sa.BigInteger, nullable=False, comment="1-based data row in the file"),
    sa.Column("reason", sa.String(50), nullable=False, comment="A reason code, e.g. bad_date"),
    sa.Column("detail", sa.Text, comment="Which field and value, in words"),
    sa.Column("raw", sa.Text, comment="The row as read (JSON object of source columns)"),
    created_at(),
)
sa.Index("ix_import_quarantine_import_id", import_quarantine.c.import_id)
