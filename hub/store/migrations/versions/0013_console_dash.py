"""The console's dashboard and the alert checks count by time: index the time columns they
bound their queries by (deliveries.queued_at and delivered_at, attempts.started_at), so a
page costs the window's traffic, not a scan of every leg and attempt ever kept.

Revision ID: 0013_console_dash
Revises: 0010_supervision
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0013_console_dash"
down_revision = "0011_supervision_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_queued_at", "deliveries", ["queued_at"])
    op.create_index("ix_deliveries_delivered_at", "deliveries", ["delivered_at"])
    op.create_index("ix_attempts_started_at", "attempts", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_attempts_started_at", table_name="attempts")
    op.drop_index("ix_deliveries_delivered_at", table_name="deliveries")
    op.drop_index("ix_deliveries_queued_at", table_name="deliveries")
