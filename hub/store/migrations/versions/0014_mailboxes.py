"""Pull mailboxes: deliveries waiting for a department without a server
(``adapter = "mailbox"``), and the leases its Receive calls gave out (hub/mailbox).

Revision ID: 0014_mailboxes
Revises: 0013_console_dash
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_mailboxes"
down_revision = "0013_console_dash"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mailbox_entries",
        sa.Column(
            "delivery_id",
            sa.Integer,
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("encoding", sa.String(40), nullable=False),
        sa.Column("parked_at", _UTC, nullable=False),
        sa.Column("receives", sa.Integer, nullable=False),
        sa.Column("lease_token", sa.String(64)),
        sa.Column("lease_until", _UTC),
    )
    op.create_index(
        "ix_mailbox_entries_department_state", "mailbox_entries", ["department", "state"]
    )
    op.create_table(
        "mailbox_leases",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Integer,
            sa.ForeignKey("deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("leased_at", _UTC, nullable=False),
        sa.Column("lease_until", _UTC, nullable=False),
        sa.Column("settled", sa.String(20)),
    )
    op.create_index("ix_mailbox_leases_delivery_id", "mailbox_leases", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_mailbox_leases_delivery_id", table_name="mailbox_leases")
    op.drop_table("mailbox_leases")
    op.drop_index("ix_mailbox_entries_department_state", table_name="mailbox_entries")
    op.drop_table("mailbox_entries")
