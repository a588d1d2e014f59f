"""The record of queries (issue 14): who asked about whom (a keyed hash and a masked number),
which parts, why, and what each source answered (hub/query/tables.py).

Revision ID: 0015_queries
Revises: 0013_console_dash
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.store.models import UTCDateTime

revision = "0015_queries"
down_revision = "0014_mailboxes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "query_log",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("subject_masked", sa.String(32), nullable=False),
        sa.Column("parts", sa.String(500), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=False),
        sa.Column("asked_at", UTCDateTime(), nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("answered", sa.Text, nullable=False),
    )
    op.create_index("ix_query_log_asked_at", "query_log", ["asked_at"])
    op.create_index("ix_query_log_subject_hash", "query_log", ["subject_hash"])


def downgrade() -> None:
    op.drop_index("ix_query_log_subject_hash", table_name="query_log")
    op.drop_index("ix_query_log_asked_at", table_name="query_log")
    op.drop_table("query_log")
