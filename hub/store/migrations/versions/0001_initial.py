"""Messages, deliveries and attempts.

Revision ID: 0001_initial
Revises:
Create Date: 2024-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("message_type", sa.String(100), nullable=False),
        sa.Column("sender", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.String(200), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("sent_at", _UTC, nullable=False),
        sa.Column("received_at", _UTC, nullable=False),
        sa.Column("schema_version", sa.String(20), nullable=False),
        sa.Column("inbound_mapping", sa.String(200), nullable=True),
        sa.Column("original", sa.LargeBinary(), nullable=False),
        sa.Column("original_content_type", sa.String(200), nullable=False),
        sa.Column("original_sha256", sa.String(64), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("canonical_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("sender", "idempotency_key", name="uq_messages_sender_key"),
    )
    op.create_index("ix_messages_received_at", "messages", ["received_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.String(64),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", _UTC, nullable=False),
        sa.Column("next_attempt_at", _UTC, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", _UTC, nullable=True),
        sa.Column("outbound_mapping", sa.String(200), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.UniqueConstraint("message_id", "department", name="uq_deliveries_message_department"),
    )
    op.create_index("ix_deliveries_state_lease", "deliveries", ["state", "lease_until"])
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "delivery_id",
            sa.Integer(),
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("started_at", _UTC, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("error_class", sa.String(200), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("response_excerpt", sa.String(500), nullable=True),
        sa.Column("payload_sha256", sa.String(64), nullable=True),
    )
    op.create_index("ix_attempts_delivery_id", "attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("attempts")
    op.drop_table("deliveries")
    op.drop_table("messages")
