"""Operations: replay bookkeeping, delivered payloads, pruning, identity lookup, audit trail.

Revision ID: 0002_operations
Revises: 0001_initial
Create Date: 2025-01-15

Only ADD COLUMN and new tables: SQLite would otherwise copy the messages table, and with
foreign keys on, dropping the old copy would cascade into deliveries.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_operations"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("messages", sa.Column("pruned_at", _UTC, nullable=True))
    op.create_index("ix_messages_correlation_id", "messages", ["correlation_id"])
    op.create_index("ix_messages_pruned_received", "messages", ["pruned_at", "received_at"])
    _delivery_columns()
    op.add_column("attempts", sa.Column("outbound_mapping", sa.String(200), nullable=True))
    op.create_index("ix_deliveries_department_state", "deliveries", ["department", "state"])
    op.execute(
        "UPDATE deliveries SET queued_at = "
        "(SELECT received_at FROM messages WHERE messages.id = deliveries.message_id)"
    )
    _identity_table()
    _operator_actions_table()


def _delivery_columns() -> None:
    op.add_column("deliveries", sa.Column("queued_at", _UTC, nullable=True))
    for name in ("attempts_at_replay", "replays"):
        op.add_column(
            "deliveries", sa.Column(name, sa.Integer(), nullable=False, server_default="0")
        )
    op.add_column("deliveries", sa.Column("pinned_mapping", sa.String(200), nullable=True))
    op.add_column("deliveries", sa.Column("payload", sa.LargeBinary(), nullable=True))


def _identity_table() -> None:
    op.create_table(
        "message_identities",
        sa.Column(
            "message_id",
            sa.String(64),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("identity_sha256", sa.String(64), primary_key=True),
    )
    op.create_index(
        "ix_message_identities_identity_sha256", "message_identities", ["identity_sha256"]
    )


def _operator_actions_table() -> None:
    op.create_table(
        "operator_actions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_operator_actions_at", "operator_actions", ["at"])
    op.create_index("ix_operator_actions_message_id", "operator_actions", ["message_id"])


def downgrade() -> None:
    op.drop_table("operator_actions")
    op.drop_table("message_identities")
    op.drop_index("ix_deliveries_department_state", "deliveries")
    op.drop_index("ix_messages_correlation_id", "messages")
    op.drop_index("ix_messages_pruned_received", "messages")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would cascade-delete child rows.
    op.drop_column("attempts", "outbound_mapping")
    for name in ("payload", "pinned_mapping", "replays", "attempts_at_replay", "queued_at"):
        op.drop_column("deliveries", name)
    op.drop_column("messages", "pruned_at")
