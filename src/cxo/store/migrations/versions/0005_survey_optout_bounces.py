"""survey opt-out list, opted-out and bounced invitations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('queued', 'sent', 'failed', 'bounced')"
NEW_STATUSES = "status IN ('queued', 'sent', 'failed', 'bounced', 'opted_out')"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(sa.schema.CreateSequence(sa.Sequence("survey_optouts_id_seq")))
    op.create_table(
        "survey_optouts",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('survey_optouts_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column(
            "customer_id",
            sa.BigInteger(),
            nullable=False,
            comment="Also holds for the customers merged with this one",
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "source",
            sa.String(length=20),
            nullable=False,
            comment="link (the unsubscribe page), one_click (RFC 8058 from a mail client), analyst",
        ),
        sa.Column(
            "invitation_id",
            sa.BigInteger(),
            nullable=True,
            comment="The invitation whose unsubscribe link was used",
        ),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column(
            "created_by",
            sa.String(length=100),
            nullable=True,
            comment="The analyst, for source analyst",
        ),
        sa.CheckConstraint(
            "source IN ('link', 'one_click', 'analyst')", name=op.f("ck_survey_optouts_source")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_optouts_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_survey_optouts_invitation_id_invitations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_optouts")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_survey_optouts_customer_id")),
    )
    # Nullable, no FK or CHECK: DuckDB cannot add such a column to a referenced table.
    op.add_column(
        "invitations",
        sa.Column(
            "bounced_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When a hard bounce came back",
        ),
    )
    if postgres:
        op.drop_constraint("ck_invitations_status", "invitations", type_="check")
        op.create_check_constraint("ck_invitations_status", "invitations", NEW_STATUSES)
        op.alter_column(
            "invitations",
            "status",
            existing_type=sa.String(length=20),
            existing_nullable=True,
            existing_server_default="queued",
            comment="queued, sent, failed, bounced, opted_out",
            existing_comment="queued, sent, failed, bounced",
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE invitations SET status = 'queued' WHERE status = 'opted_out'")
        op.drop_constraint("ck_invitations_status", "invitations", type_="check")
        op.create_check_constraint("ck_invitations_status", "invitations", OLD_STATUSES)
        op.alter_column(
            "invitations",
            "status",
            existing_type=sa.String(length=20),
            existing_nullable=True,
            existing_server_default="queued",
            comment="queued, sent, failed, bounced",
            existing_comment="queued, sent, failed, bounced, opted_out",
        )
    else:
        op.execute("UPDATE invitations SET status = 'queued' WHERE status = 'opted_out'")
    op.drop_table("survey_optouts")
    op.execute(sa.schema.DropSequence(sa.Sequence("survey_optouts_id_seq")))
    # Like 0004's downgrade, this stops here on DuckDB, which cannot drop a column of a table
    # other tables reference; the transaction is rolled back and the store stays at 0005.
    op.drop_column("invitations", "bounced_at")
