"""Runtime configuration: department packages and their versions, department states, route
changes, and the generation counter every process watches.

Revision ID: 0005_configuration
Revises: 0004_admin_accounts
Create Date: 2026-11-27

New tables only; the generation row starts at 0.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import hub.configuration.tables  # noqa: F401  (the tables on the store's metadata, for comparison)

revision = "0005_configuration"
down_revision = "0004_admin_accounts"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "department_packages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("package", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("registered_at", _UTC, nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("code", "version", name="uq_department_packages_code_version"),
    )
    op.create_table(
        "department_states",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("active_version", sa.Integer(), nullable=True),
        sa.Column("changed_at", _UTC, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
    )
    op.create_table(
        "route_changes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("message_type", sa.String(100), nullable=False),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("changed_at", _UTC, nullable=False),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("message_type", "department", "role", name="uq_route_changes_route"),
    )
    generation = op.create_table(
        "config_generation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", _UTC, nullable=False),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0, "changed_at": datetime.now(UTC)}])


def downgrade() -> None:
    for table in ("config_generation", "route_changes", "department_states", "department_packages"):
        op.drop_table(table)
