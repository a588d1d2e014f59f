"""Admin accounts for the /admin SOAP API: secret and per-account permissions.

Revision ID: 0004_admin_accounts
Revises: 0003_security
Create Date: 2025-02-03

A new table only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.security.tables  # noqa: F401  (the table on the store's metadata, for comparison)

revision = "0004_admin_accounts"
down_revision = "0003_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_accounts",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("permissions", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("admin_accounts")
