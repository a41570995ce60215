"""Voice-of-the-customer tables: instruments, surveys, invitations, responses, answers."""

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
    created_at(),
    updated_at(),
    enum_check("state", SURVEY_STATES, "state"),
    sa.UniqueConstraint("code", "version"),
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
    created_at(),
)

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
    created_at(),
)
sa.Index("ix_responses_customer_id", responses.c.customer_id)
sa.Index("ix_responses_customer_record_id", responses.c.customer_record_id)
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
