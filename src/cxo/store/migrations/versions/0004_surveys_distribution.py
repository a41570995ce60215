"""survey versions, waves, public links, triggers, invitation tracking and resumable responses

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEQUENCES = ("survey_links_id_seq", "survey_triggers_id_seq", "survey_waves_id_seq")


def _id(name: str) -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger(),
        server_default=sa.text(f"nextval('{name}_id_seq')"),
        autoincrement=False,
        nullable=False,
    )


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table(
        "survey_waves",
        _id("survey_waves"),
        sa.Column("survey_code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "channel", sa.String(length=20), nullable=False, comment="email | link | trigger"
        ),
        sa.Column(
            "audience",
            sa.JSON(),
            nullable=True,
            comment="How recipients were chosen (segment, list, trigger)",
        ),
        sa.Column("expires_days", sa.Integer(), nullable=False),
        sa.Column(
            "reminder_days",
            sa.Integer(),
            nullable=True,
            comment="Days after sending before a reminder",
        ),
        sa.Column("max_reminders", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_waves")),
    )
    op.create_table(
        "survey_links",
        _id("survey_links"),
        sa.Column("survey_code", sa.String(length=50), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False, comment="Public, in the URL"),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_links")),
        sa.UniqueConstraint("key", name=op.f("uq_survey_links_key")),
    )
    op.create_table(
        "survey_triggers",
        _id("survey_triggers"),
        sa.Column("survey_code", sa.String(length=50), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False, comment="interaction | case"),
        sa.Column(
            "channel", sa.String(length=20), nullable=True, comment="Interaction channel, or any"
        ),
        sa.Column(
            "touchpoint",
            sa.String(length=100),
            nullable=True,
            comment="Interaction touchpoint, or any",
        ),
        sa.Column(
            "outcome", sa.String(length=50), nullable=True, comment="Interaction outcome, or any"
        ),
        sa.Column("delay_hours", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "last_interaction_id",
            sa.BigInteger(),
            nullable=False,
            comment="Interactions up to this id have been considered",
        ),
        sa.Column(
            "last_event_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Cases closed up to this time have been considered",
        ),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_triggers")),
    )
    for column in (
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
    ):
        op.add_column("surveys", column)
    for column in (  # type: ignore[assignment]
        sa.Column("wave_id", sa.BigInteger(), nullable=True, comment="survey_waves.id"),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column(
            "segment",
            sa.String(length=50),
            nullable=True,
            comment="The customer's segment when invited",
        ),
        sa.Column(
            "status",
            sa.String(length=20),
            server_default="queued",
            nullable=True,
            comment="queued, sent, failed, bounced",
        ),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), server_default="0", nullable=True),
        sa.Column("last_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "interaction_id",
            sa.BigInteger(),
            nullable=True,
            comment="The interaction that triggered it",
        ),
    ):
        op.add_column("invitations", column)
    op.create_index("ix_invitations_customer_sent", "invitations", ["customer_id", "sent_at"])
    op.create_index("ix_invitations_wave_id", "invitations", ["wave_id"])
    for column in (  # type: ignore[assignment]
        sa.Column(
            "state",
            sa.String(length=20),
            server_default="completed",
            nullable=True,
            comment="in_progress, completed",
        ),
        sa.Column(
            "channel",
            sa.String(length=20),
            nullable=True,
            comment="email | link | trigger | import",
        ),
        sa.Column("link_id", sa.BigInteger(), nullable=True, comment="survey_links.id"),
        sa.Column(
            "resume_hash",
            sa.String(length=64),
            nullable=True,
            comment="SHA-256 of the resume cookie",
        ),
        sa.Column("page", sa.Integer(), nullable=True, comment="The page the respondent is on"),
        sa.Column(
            "seed",
            sa.BigInteger(),
            nullable=True,
            comment="Seed of this respondent's randomised order",
        ),
        sa.Column(
            "client_hash",
            sa.String(length=64),
            nullable=True,
            comment="Keyed hash of address + agent (duplicates)",
        ),
        sa.Column(
            "include_override",
            sa.Boolean(),
            nullable=True,
            comment="An analyst's decision to include (true) or exclude (false) despite the flags",
        ),
    ):
        op.add_column("responses", column)
    op.create_index("ix_responses_survey_id", "responses", ["survey_id"])
    op.create_index("ix_responses_invitation_id", "responses", ["invitation_id"])
    if postgres:
        op.create_check_constraint(
            "ck_invitations_status",
            "invitations",
            "status IN ('queued', 'sent', 'failed', 'bounced')",
        )
        op.create_check_constraint(
            "ck_responses_state", "responses", "state IN ('in_progress', 'completed')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ck_responses_state", "responses", type_="check")
        op.drop_constraint("ck_invitations_status", "invitations", type_="check")
    op.drop_index("ix_responses_invitation_id", table_name="responses")
    op.drop_index("ix_responses_survey_id", table_name="responses")
    for name in (
        "include_override",
        "client_hash",
        "seed",
        "page",
        "resume_hash",
        "link_id",
        "channel",
        "state",
    ):
        op.drop_column("responses", name)
    op.drop_index("ix_invitations_wave_id", table_name="invitations")
    op.drop_index("ix_invitations_customer_sent", table_name="invitations")
    for name in (
        "interaction_id",
        "last_reminder_at",
        "reminders_sent",
        "started_at",
        "opened_at",
        "delivered_at",
        "error",
        "status",
        "segment",
        "locale",
        "wave_id",
    ):
        op.drop_column("invitations", name)
    for name in ("created_by", "closed_at", "published_at"):
        op.drop_column("surveys", name)
    op.drop_table("survey_triggers")
    op.drop_table("survey_links")
    op.drop_table("survey_waves")
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name)))
