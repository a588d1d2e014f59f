"""Retry pauses: a department whose deliveries the workers hold until an operator resumes.

Revision ID: 0008_observability
Revises: 0007_keyed_identity_hashes
Create Date: 2026-12-06

A new table only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.observability.pause_table  # noqa: F401  (the table on the store's metadata)

revision = "0008_observability"
down_revision = "0007_keyed_identity_hashes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retry_pauses",
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("paused_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retry_pauses")
