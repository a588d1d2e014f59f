"""Transfer bundles: the export ledger, the legs each bundle carried, and the ledger of
imported bundle ids (hub/bundle/tables.py).

Revision ID: 0020_bundles
Revises: 0022_model_versions
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.bundle.tables  # noqa: F401  (the tables on the store's metadata, for comparison)
from hub.store.models import UTCDateTime

revision = "0020_bundles"
down_revision = "0022_model_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundle_exports",
        sa.Column("bundle_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("made_at", UTCDateTime(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.UniqueConstraint("network", "kind", "sequence", name="uq_bundle_exports_sequence"),
    )
    op.create_table(
        "bundle_exported_legs",
        sa.Column("bundle_id", sa.String(36), primary_key=True),
        sa.Column("delivery_id", sa.Integer(), primary_key=True),
    )
    op.create_index("ix_bundle_exported_legs_delivery", "bundle_exported_legs", ["delivery_id"])
    op.create_table(
        "bundle_imports",
        sa.Column("bundle_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_network", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_bundle_imports_from_sequence",
        "bundle_imports",
        ["from_network", "kind", "sequence"],
    )


def downgrade() -> None:
    op.drop_index("ix_bundle_imports_from_sequence", table_name="bundle_imports")
    op.drop_table("bundle_imports")
    op.drop_index("ix_bundle_exported_legs_delivery", table_name="bundle_exported_legs")
    op.drop_table("bundle_exported_legs")
    op.drop_table("bundle_exports")
