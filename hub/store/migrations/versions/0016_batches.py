"""Batches: every rule-set version and every batch with its report and decisions
(hub/batch/tables.py).

Revision ID: 0016_batches
Revises: 0013_console_dash
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.batch.tables  # noqa: F401  (the tables on the store's metadata, for comparison)
from hub.store.models import UTCDateTime

revision = "0016_batches"
down_revision = "0015_queries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_rule_versions",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
    )
    op.create_table(
        "batches",
        sa.Column("batch_id", sa.String(24), primary_key=True),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
    )
    op.create_index("ix_batches_sender_created", "batches", ["sender", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_batches_sender_created", table_name="batches")
    op.drop_table("batches")
    op.drop_table("batch_rule_versions")
