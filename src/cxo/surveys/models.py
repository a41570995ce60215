"""Voice-of-the-customer tables: instruments, surveys, waves, links, triggers, invitations,
responses, answers, and the survey opt-out list.

Columns added to existing tables after the first release are nullable, without foreign keys or
CHECK constraints: DuckDB cannot add such columns to a table other tables reference. The service
layer keeps their values valid (and PostgreSQL gets the CHECK constraints in the migration).
"""

from __future__ import annotations

import sqlalchemy as sa

from cxo.store.metadata import created_at, enum_check, id_column, metadata, updated_at

survey_instruments = sa.Table(
    "survey_instruments",
    metadata,
    id_column("survey_instruments"),
    sa.Column("code", sa.String(50), nullable=False, comment="e.g. servqual, rq, nps"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column(
        "definition", sa.JSON, nullable=False, comment="Items, scales and wording (en, zh_CN)"
    ),
    created_at(),
    sa.UniqueConstraint("code", "version"),
)

SURVEY_STATES = ("draft", "live", "closed")

surveys = sa.Table(
    "surveys",
    metadata,
    id_column("surveys"),
    sa.Column("code", sa.String(50), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("title", sa.JSON, nullable=False, comment="Title per locale"),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, default="draft"),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.String(100)),
    created_at(),
    updated_at(),
    enum_check("state", SURVEY_STATES, "state"),
    sa.UniqueConstraint("code", "version"),
)

# queued → sent | failed (refused at SMTP time) | opted_out (the customer opted out before it
# went); sent → bounced (a hard bounce came back, see cxo.surveys.bounces).
INVITATION_STATUSES = ("queued", "sent", "failed", "bounced", "opted_out")

survey_waves = sa.Table(
    "survey_waves",
    metadata,
    id_column("survey_waves"),
    sa.Column("survey_code", sa.String(50), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False, comment="email | link | trigger"),
    sa.Column("audience", sa.JSON, comment="How recipients were chosen (segment, list, trigger)"),
    sa.Column("expires_days", sa.Integer, nullable=False),
    sa.Column("reminder_days", sa.Integer, comment="Days after sending before a reminder"),
    sa.Column("max_reminders", sa.Integer, nullable=False, default=0),
    sa.Column("created_by", sa.String(100)),
    created_at(),
)

survey_links = sa.Table(
    "survey_links",
    metadata,
    id_column("survey_links"),
    sa.Column("survey_code", sa.String(50), nullable=False),
    sa.Column("key", sa.String(64), nullable=False, unique=True, comment="Public, in the URL"),
    sa.Column("label", sa.String(200)),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("created_by", sa.String(100)),
    created_at(),
)

survey_triggers = sa.Table(
    "survey_triggers",
    metadata,
    id_column("survey_triggers"),
    sa.Column("survey_code", sa.String(50), nullable=False),
    sa.Column(
        "source", sa.String(20), nullable=False, default="interaction", comment="interaction | case"
    ),
    sa.Column("channel", sa.String(20), comment="Interaction channel, or any"),
    sa.Column("touchpoint", sa.String(100), comment="Interaction touchpoint, or any"),
    sa.Column("outcome", sa.String(50), comment="Interaction outcome, or any"),
    sa.Column("delay_hours", sa.Integer, nullable=False, default=0),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column(
        "last_interaction_id",
        sa.BigInteger,
        nullable=False,
        default=0,
        comment="Interactions up to this id have been considered",
    ),
    sa.Column(
        "last_event_at",
        sa.DateTime(timezone=True),
        comment="Cases closed up to this time have been considered",
    ),
    sa.Column("created_by", sa.String(100)),
    created_at(),
)

invitations = sa.Table(
    "invitations",
    metadata,
    id_column("invitations"),
    sa.Column("survey_id", sa.BigInteger, sa.ForeignKey("surveys.id"), nullable=False),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id")),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("wave_id", sa.BigInteger, comment="survey_waves.id"),
    sa.Column("locale", sa.String(10)),
    sa.Column("segment", sa.String(50), comment="The customer's segment when invited"),
    sa.Column(
        "status", sa.String(20), server_default="queued", comment=", ".join(INVITATION_STATUSES)
    ),
    sa.Column("error", sa.String(300)),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
    sa.Column("opened_at", sa.DateTime(timezone=True)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("reminders_sent", sa.Integer, server_default="0"),
    sa.Column("last_reminder_at", sa.DateTime(timezone=True)),
    sa.Column("interaction_id", sa.BigInteger, comment="The interaction that triggered it"),
    sa.Column("bounced_at", sa.DateTime(timezone=True), comment="When a hard bounce came back"),
    created_at(),
)
sa.Index("ix_invitations_customer_sent", invitations.c.customer_id, invitations.c.sent_at)
sa.Index("ix_invitations_wave_id", invitations.c.wave_id)

OPTOUT_SOURCES = ("link", "one_click", "analyst")

survey_optouts = sa.Table(
    "survey_optouts",
    metadata,
    id_column("survey_optouts"),
    sa.Column(
        "customer_id",
        sa.BigInteger,
        sa.ForeignKey("customers.id"),
        nullable=False,
        unique=True,
        comment="Also holds for the customers merged with this one",
    ),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "source",
        sa.String(20),
        nullable=False,
        comment="link (the unsubscribe page), one_click (RFC 8058 from a mail client), analyst",
    ),
    sa.Column(
        "invitation_id",
        sa.BigInteger,
        sa.ForeignKey("invitations.id"),
        comment="The invitation whose unsubscribe link was used",
    ),
    sa.Column("reason", sa.String(300)),
    sa.Column("created_by", sa.String(100), comment="The analyst, for source analyst"),
    enum_check("source", OPTOUT_SOURCES, "source"),
)

SUPPRESSION_REASONS = ("hard_bounce", "complaint", "analyst")

email_suppressions = sa.Table(
    "email_suppressions",
    metadata,
    id_column("email_suppressions"),
    sa.Column(
        "email",
        sa.String(320),
        nullable=False,
        unique=True,
        comment="Lower case, trimmed: survey e-mail is never sent to this address",
    ),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "reason",
        sa.String(20),
        nullable=False,
        comment="hard_bounce, complaint (a feedback report), analyst",
    ),
    sa.Column(
        "invitation_id",
        sa.BigInteger,
        sa.ForeignKey("invitations.id"),
        comment="The invitation that bounced or was reported",
    ),
    sa.Column("detail", sa.String(300), comment="The bounce's status and diagnostic"),
    sa.Column("created_by", sa.String(100), comment="The analyst, for reason analyst"),
    enum_check("reason", SUPPRESSION_REASONS, "reason"),
)

RESPONSE_STATES = ("in_progress", "completed")

responses = sa.Table(
    "responses",
    metadata,
    id_column("responses"),
    sa.Column("survey_id", sa.BigInteger, sa.ForeignKey("surveys.id"), nullable=False),
    sa.Column("invitation_id", sa.BigInteger, sa.ForeignKey("invitations.id")),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id")),
    sa.Column("source_system", sa.String(50)),
    sa.Column("source_record_id", sa.String(100)),
    sa.Column(
        "customer_record_id",
        sa.String(100),
        comment="The respondent's record id in a source system; the customer is found through it",
    ),
    sa.Column("locale", sa.String(10)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("quality_flags", sa.JSON, comment="straight-lining, speeding, duplicate, ..."),
    sa.Column(
        "state", sa.String(20), server_default="completed", comment=", ".join(RESPONSE_STATES)
    ),
    sa.Column("channel", sa.String(20), comment="email | link | trigger | import"),
    sa.Column("link_id", sa.BigInteger, comment="survey_links.id"),
    sa.Column("resume_hash", sa.String(64), comment="SHA-256 of the resume cookie"),
    sa.Column("page", sa.Integer, comment="The page the respondent is on"),
    sa.Column("seed", sa.BigInteger, comment="Seed of this respondent's randomised order"),
    sa.Column("client_hash", sa.String(64), comment="Keyed hash of address + agent (duplicates)"),
    sa.Column(
        "include_override",
        sa.Boolean,
        comment="An analyst's decision to include (true) or exclude (false) despite the flags",
    ),
    created_at(),
)
sa.Index("ix_responses_customer_id", responses.c.customer_id)
sa.Index("ix_responses_customer_record_id", responses.c.customer_record_id)
sa.Index("ix_responses_survey_id", responses.c.survey_id)
sa.Index("ix_responses_invitation_id", responses.c.invitation_id)
sa.Index("ix_responses_resume_hash", responses.c.resume_hash)
# A unique index, not a constraint: DuckDB cannot add a constraint to an existing table.
sa.Index(
    "uq_responses_source_system_source_record_id",
    responses.c.source_system,
    responses.c.source_record_id,
    unique=True,
)

answers = sa.Table(
    "answers",
    metadata,
    id_column("answers"),
    sa.Column("response_id", sa.BigInteger, sa.ForeignKey("responses.id"), nullable=False),
    sa.Column("item_code", sa.String(50), nullable=False),
    sa.Column("scale", sa.String(20), comment="importance | performance | expectation | single"),
    sa.Column("value_num", sa.Double),
    sa.Column("value_text", sa.Text),
    created_at(),
)
sa.Index("ix_answers_response_id", answers.c.response_id)
