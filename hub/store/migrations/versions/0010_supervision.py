"""Deadline supervision: each case's state, its events and its signals (hub/supervision/tables.py).

Revision ID: 0010_supervision
Revises: 0009_console
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.supervision.tables  # noqa: F401  (the tables on the store's metadata, for comparison)
from hub.store.models import UTCDateTime

revision = "0010_supervision"
down_revision = "0009_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_cases",
        sa.Column("case_number", sa.String(60), primary_key=True),
        sa.Column("item_code", sa.String(40), nullable=False),
        sa.Column("item_name", sa.String(200), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("accepted_at", UTCDateTime(), nullable=False),
        sa.Column("catalogue_version", sa.Integer(), nullable=False),
        sa.Column("limits", sa.Text(), nullable=False),
        sa.Column("steps_done", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("suspended_since", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("concluded_at", UTCDateTime(), nullable=True),
        sa.Column("last_event_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_supervision_cases_status", "supervision_cases", ["status"])
    op.create_index(
        "ix_supervision_cases_department_item", "supervision_cases", ["department", "item_code"]
    )
    op.create_table(
        "supervision_case_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_number", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("happened_at", UTCDateTime(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("handler", sa.String(200), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(40), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("sender", "idempotency_key", name="uq_supervision_events_sender_key"),
    )
    op.create_index(
        "ix_supervision_case_events_case", "supervision_case_events", ["case_number", "id"]
    )
    op.create_table(
        "supervision_signals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_number", sa.String(60), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(80), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_because", sa.String(20), nullable=False),
        sa.UniqueConstraint("case_number", "rule", name="uq_supervision_signals_case_rule"),
    )
    op.create_index("ix_supervision_signals_open", "supervision_signals", ["closed_at"])


def downgrade() -> None:
    op.drop_table("supervision_signals")
    op.drop_table("supervision_case_events")
    op.drop_table("supervision_cases")
