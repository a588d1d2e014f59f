"""The signal pass's lease: which worker instance runs it, until when
(hub/supervision/lease.py).

Revision ID: 0011_supervision_lease
Revises: 0010_supervision
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.supervision.tables  # noqa: F401  (the tables on the store's metadata, for comparison)
from hub.store.models import UTCDateTime

revision = "0011_supervision_lease"
down_revision = "0010_supervision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "supervision_leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("supervision_leases")
