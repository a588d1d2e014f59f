"""The citizen's data tracker (issue 17): exemptions (a department's access kept from the
person's view until a date) and a partial index that finds the reveals of a message.

Revision ID: 0021_tracker
Revises: 0020_bundles
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.tracker.tables  # noqa: F401  (the tables on the store's metadata, for comparison)
from hub.store.models import UTCDateTime

revision = "0021_tracker"
down_revision = "0020_bundles"
branch_labels = None
depends_on = None

_REVEALS = sa.text("action = 'reveal'")


def upgrade() -> None:
    op.create_table(
        "tracker_exemptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("subject_masked", sa.String(32), nullable=False),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("granted_by", sa.String(200), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_tracker_exemptions_subject_hash", "tracker_exemptions", ["subject_hash"])
    op.create_index(
        "ix_audit_log_reveal_subject",
        "audit_log",
        ["subject"],
        postgresql_where=_REVEALS,
        sqlite_where=_REVEALS,
    )


def downgrade() -> None:
    op.drop_index("ix_audit_log_reveal_subject", table_name="audit_log")
    op.drop_index("ix_tracker_exemptions_subject_hash", table_name="tracker_exemptions")
    op.drop_table("tracker_exemptions")
