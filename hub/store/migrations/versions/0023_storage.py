"""A year of traffic: indexes that start from what is rare, and the audit archive's record.

- ``ix_deliveries_not_delivered``: the legs not delivered (about 3% at a year's traffic), by
  state, department and message, so a state filter reads those legs instead of every message.
- ``ix_messages_unpruned``: the messages whose bodies are still kept, oldest first, so each
  prune batch starts where the last stopped instead of walking the pruned ones again. It
  replaces ``ix_messages_pruned_received`` (every message, pruned or not).
- ``audit_archives``: one row per audit segment exported and removed (hub/security/archive.py):
  the last archived seq and hash, where the live chain continues from.

Revision ID: 0023_storage
Revises: 0021_tracker
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.store.models import UTCDateTime

revision = "0023_storage"
down_revision = "0021_tracker"
branch_labels = None
depends_on = None

NOT_DELIVERED = sa.text("state <> 'delivered'")
UNPRUNED = sa.text("pruned_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_not_delivered",
        "deliveries",
        ["state", "department", "message_id"],
        postgresql_where=NOT_DELIVERED,
        sqlite_where=NOT_DELIVERED,
    )
    op.create_index(
        "ix_messages_unpruned",
        "messages",
        ["received_at", "id"],
        postgresql_where=UNPRUNED,
        sqlite_where=UNPRUNED,
    )
    op.drop_index("ix_messages_pruned_received", table_name="messages")
    op.create_table(
        "audit_archives",
        sa.Column("through_seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("through_hash", sa.String(64), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("jsonl_sha256", sa.String(64), nullable=False),
        sa.Column("archived_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_archives")
    op.create_index("ix_messages_pruned_received", "messages", ["pruned_at", "received_at"])
    op.drop_index("ix_messages_unpruned", table_name="messages")
    op.drop_index("ix_deliveries_not_delivered", table_name="deliveries")
