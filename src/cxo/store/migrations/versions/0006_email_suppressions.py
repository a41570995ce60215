"""e-mail suppression list (hard bounces, complaints)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.schema.CreateSequence(sa.Sequence("email_suppressions_id_seq")))
    op.create_table(
        "email_suppressions",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('email_suppressions_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column(
            "email",
            sa.String(length=320),
            nullable=False,
            comment="Lower case, trimmed: survey e-mail is never sent to this address",
        ),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "reason",
            sa.String(length=20),
            nullable=False,
            comment="hard_bounce, complaint (a feedback report), analyst",
        ),
        sa.Column(
            "invitation_id",
            sa.BigInteger(),
            nullable=True,
            comment="The invitation that bounced or was reported",
        ),
        sa.Column(
            "detail",
            sa.String(length=300),
            nullable=True,
            comment="The bounce's status and diagnostic",
        ),
        sa.Column(
            "created_by",
            sa.String(length=100),
            nullable=True,
            comment="The analyst, for reason analyst",
        ),
        sa.CheckConstraint(
            "reason IN ('hard_bounce', 'complaint', 'analyst')",
            name=op.f("ck_email_suppressions_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_email_suppressions_invitation_id_invitations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_suppressions")),
        sa.UniqueConstraint("email", name=op.f("uq_email_suppressions_email")),
    )


def downgrade() -> None:
    op.drop_table("email_suppressions")
    op.execute(sa.schema.DropSequence(sa.Sequence("email_suppressions_id_seq")))
