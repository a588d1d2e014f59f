"""Retry pauses (a department whose deliveries the workers hold until an operator resumes)
and alerts (whether each rule fires now, and the history of firings and recoveries).

Revision ID: 0008_observability
Revises: 0007_keyed_identity_hashes
Create Date: 2026-12-06

New tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.observability.alert_tables
import hub.observability.pause_table  # noqa: F401

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
    op.create_table(
        "alert_states",
        sa.Column("rule", sa.String(100), primary_key=True),
        sa.Column("subject", sa.String(500), primary_key=True),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("event", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_alert_events_at", "alert_events", ["at"])


def downgrade() -> None:
    for table in ("alert_events", "alert_states", "retry_pauses"):
        op.drop_table(table)
