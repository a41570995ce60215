"""index on responses.resume_hash (anonymous respondents are found by it on every page)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_responses_resume_hash", "responses", ["resume_hash"])


def downgrade() -> None:
    op.drop_index("ix_responses_resume_hash", table_name="responses")
