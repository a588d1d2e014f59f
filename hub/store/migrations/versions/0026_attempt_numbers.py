"""Attempt rows carry the claim's attempt number, unique per delivery.

A record batch whose COMMIT reached the server but whose answer was lost is retried item by
item (hub/store/batching.py); the retried record finds its attempt by ``(delivery_id,
attempt)`` and writes nothing twice (hub/store/leases.py: ``record_many``). The unique index
replaces ``ix_attempts_delivery_id`` (its first column is the delivery), so an attempt's
insert maintains as many indexes as before. Existing rows keep NULL, which never collides.

Revision ID: 0026_attempt_numbers
Revises: 0025_large_bodies
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_attempt_numbers"
down_revision = "0025_large_bodies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("attempts", sa.Column("attempt", sa.Integer(), nullable=True))
    op.create_index(
        "uq_attempts_delivery_attempt", "attempts", ["delivery_id", "attempt"], unique=True
    )
    op.drop_index("ix_attempts_delivery_id", table_name="attempts")


def downgrade() -> None:
    op.create_index("ix_attempts_delivery_id", "attempts", ["delivery_id"])
    op.drop_index("uq_attempts_delivery_attempt", table_name="attempts")
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("attempt")
