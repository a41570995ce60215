"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SEQUENCES = (
    "answers_id_seq",
    "api_tokens_id_seq",
    "audit_log_id_seq",
    "cases_id_seq",
    "customers_id_seq",
    "decisions_id_seq",
    "identity_links_id_seq",
    "interactions_id_seq",
    "invitations_id_seq",
    "outcomes_id_seq",
    "responses_id_seq",
    "source_records_id_seq",
    "survey_instruments_id_seq",
    "surveys_id_seq",
    "transactions_id_seq",
    "treatments_id_seq",
    "users_id_seq",
    "web_sessions_id_seq",
)


def upgrade() -> None:
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('audit_log_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=50), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=True),
        sa.Column("before_state", sa.JSON(), nullable=True),
        sa.Column("after_state", sa.JSON(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "customers",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('customers_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=True),
        sa.Column("family_name", sa.String(length=100), nullable=True),
        sa.Column(
            "name_latin",
            sa.String(length=200),
            nullable=True,
            comment="Romanised name (pinyin etc.) for search",
        ),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone_e164", sa.String(length=20), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("segment", sa.String(length=50), nullable=True),
        sa.Column(
            "merged_into_id",
            sa.BigInteger(),
            nullable=True,
            comment="Set when this customer was merged: the surviving customer id (this id is an alias)",
        ),
        sa.Column(
            "attributes", sa.JSON(), nullable=True, comment="Further survived fields by name"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index("ix_customers_email", "customers", ["email"], unique=False)
    op.create_index("ix_customers_phone_e164", "customers", ["phone_e164"], unique=False)
    op.create_table(
        "source_records",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('source_records_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column(
            "source_system",
            sa.String(length=50),
            nullable=False,
            comment="e.g. crm, web, cti, branch",
        ),
        sa.Column("source_record_id", sa.String(length=100), nullable=False),
        sa.Column(
            "payload", sa.JSON(), nullable=False, comment="The record as imported, after mapping"
        ),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_records")),
        sa.UniqueConstraint(
            "source_system",
            "source_record_id",
            name=op.f("uq_source_records_source_system_source_record_id"),
        ),
    )
    op.create_table(
        "survey_instruments",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('survey_instruments_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=50), nullable=False, comment="e.g. servqual, rq, nps"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "definition", sa.JSON(), nullable=False, comment="Items, scales and wording (en, zh_CN)"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_instruments")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_survey_instruments_code_version")),
    )
    op.create_table(
        "surveys",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('surveys_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False, comment="Title per locale"),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('draft', 'live', 'closed')", name=op.f("ck_surveys_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_surveys_code_version")),
    )
    op.create_table(
        "treatments",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('treatments_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False, comment="Name per locale"),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("unit_cost", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatments")),
        sa.UniqueConstraint("code", name=op.f("uq_treatments_code")),
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('users_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'analyst', 'agent', 'viewer')", name=op.f("ck_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "api_tokens",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('api_tokens_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=True),
        sa.Column(
            "prefix",
            sa.String(length=16),
            nullable=False,
            comment="First characters, to recognise it",
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "cases",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('cases_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column(
            "origin",
            sa.String(length=50),
            nullable=True,
            comment="e.g. detractor, complaint, alert",
        ),
        sa.Column("origin_ref", sa.String(length=100), nullable=True),
        sa.Column("root_cause", sa.String(length=100), nullable=True),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_cases_assignee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cases_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_customer_id", "cases", ["customer_id"], unique=False)
    op.create_index("ix_cases_status", "cases", ["status"], unique=False)
    op.create_table(
        "decisions",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('decisions_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("treatment_id", sa.BigInteger(), nullable=False),
        sa.Column("experiment", sa.String(length=100), nullable=True),
        sa.Column("arm", sa.String(length=50), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_decisions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"], ["treatments.id"], name=op.f("fk_decisions_treatment_id_treatments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index("ix_decisions_customer_id", "decisions", ["customer_id"], unique=False)
    op.create_table(
        "identity_links",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('identity_links_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("source_record_pk", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "method",
            sa.String(length=20),
            nullable=False,
            comment="deterministic | probabilistic | manual",
        ),
        sa.Column("match_weight", sa.Double(), nullable=True),
        sa.Column(
            "explanation",
            sa.JSON(),
            nullable=True,
            comment="Keys, weights and per-field comparison",
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_identity_links_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["source_record_pk"],
            ["source_records.id"],
            name=op.f("fk_identity_links_source_record_pk_source_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
    )
    op.create_index(
        "ix_identity_links_customer_id", "identity_links", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_identity_links_source_record_pk", "identity_links", ["source_record_pk"], unique=False
    )
    op.create_table(
        "interactions",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('interactions_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("source_system", sa.String(length=50), nullable=True),
        sa.Column("source_record_id", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column(
            "touchpoint",
            sa.String(length=100),
            nullable=True,
            comment="e.g. account opening, card dispute",
        ),
        sa.Column("stage", sa.String(length=20), nullable=False, comment="Lifecycle stage (ETFS)"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Double(), nullable=True),
        sa.Column("handle_seconds", sa.Double(), nullable=True),
        sa.Column(
            "outcome",
            sa.String(length=50),
            nullable=True,
            comment="e.g. resolved, abandoned, transferred, complaint",
        ),
        sa.Column("team", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('branch', 'phone', 'web', 'app', 'email', 'chat', 'other')",
            name=op.f("ck_interactions_channel"),
        ),
        sa.CheckConstraint(
            "stage IN ('engage', 'transact', 'fulfil', 'service')",
            name=op.f("ck_interactions_stage"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_interactions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
        sa.UniqueConstraint(
            "source_system",
            "source_record_id",
            name=op.f("uq_interactions_source_system_source_record_id"),
        ),
    )
    op.create_index("ix_interactions_customer_id", "interactions", ["customer_id"], unique=False)
    op.create_index("ix_interactions_started_at", "interactions", ["started_at"], unique=False)
    op.create_table(
        "invitations",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('invitations_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("survey_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_invitations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_invitations_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitations_token_hash")),
    )
    op.create_table(
        "transactions",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('transactions_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("source_system", sa.String(length=50), nullable=True),
        sa.Column("source_record_id", sa.String(length=100), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("product", sa.String(length=100), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_transactions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transactions")),
        sa.UniqueConstraint(
            "source_system",
            "source_record_id",
            name=op.f("uq_transactions_source_system_source_record_id"),
        ),
    )
    op.create_index("ix_transactions_customer_id", "transactions", ["customer_id"], unique=False)
    op.create_table(
        "web_sessions",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('web_sessions_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_sessions_token_hash")),
    )
    op.create_table(
        "outcomes",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('outcomes_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("decision_id", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(length=50), nullable=False),
        sa.Column("metric_value", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_outcomes_decision_id_decisions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    op.create_table(
        "responses",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('responses_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("survey_id", sa.BigInteger(), nullable=False),
        sa.Column("invitation_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("source_system", sa.String(length=50), nullable=True),
        sa.Column("source_record_id", sa.String(length=100), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "quality_flags",
            sa.JSON(),
            nullable=True,
            comment="straight-lining, speeding, duplicate, ...",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_responses_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_responses_invitation_id_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )
    op.create_index("ix_responses_customer_id", "responses", ["customer_id"], unique=False)
    op.create_table(
        "answers",
        sa.Column(
            "id",
            sa.BigInteger(),
            server_default=sa.text("nextval('answers_id_seq')"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("response_id", sa.BigInteger(), nullable=False),
        sa.Column("item_code", sa.String(length=50), nullable=False),
        sa.Column(
            "scale",
            sa.String(length=20),
            nullable=True,
            comment="importance | performance | expectation | single",
        ),
        sa.Column("value_num", sa.Double(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_answers_response_id_responses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
    )
    op.create_index("ix_answers_response_id", "answers", ["response_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_answers_response_id", table_name="answers")
    op.drop_table("answers")
    op.drop_index("ix_responses_customer_id", table_name="responses")
    op.drop_table("responses")
    op.drop_table("outcomes")
    op.drop_table("web_sessions")
    op.drop_index("ix_transactions_customer_id", table_name="transactions")
    op.drop_table("transactions")
    op.drop_table("invitations")
    op.drop_index("ix_interactions_started_at", table_name="interactions")
    op.drop_index("ix_interactions_customer_id", table_name="interactions")
    op.drop_table("interactions")
    op.drop_index("ix_identity_links_source_record_pk", table_name="identity_links")
    op.drop_index("ix_identity_links_customer_id", table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index("ix_decisions_customer_id", table_name="decisions")
    op.drop_table("decisions")
    op.drop_index("ix_cases_status", table_name="cases")
    op.drop_index("ix_cases_customer_id", table_name="cases")
    op.drop_table("cases")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("treatments")
    op.drop_table("surveys")
    op.drop_table("survey_instruments")
    op.drop_table("source_records")
    op.drop_index("ix_customers_phone_e164", table_name="customers")
    op.drop_index("ix_customers_email", table_name="customers")
    op.drop_table("customers")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(name)))
