"""The web console's sessions and failed-login counters.

Revision ID: 0009_console
Revises: 0008_observability
Create Date: 2026-12-06

New tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.console.tables  # noqa: F401  (the tables on the store's metadata, for comparison)

revision = "0009_console"
down_revision = "0008_observability"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(200), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _UTC, nullable=False),
        sa.Column("expires_at", _UTC, nullable=False),
    )
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "console_login_failures",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("locked_until", _UTC, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("console_login_failures")
    op.drop_index("ix_console_sessions_expires_at", "console_sessions")
    op.drop_table("console_sessions")
