"""Canonical model versions: each delivery records the canonical version delivered
(messages.schema_version already records the version received; hub/versions).

Revision ID: 0022_model_versions
Revises: 0018_query_async
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_model_versions"
down_revision = "0018_query_async"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("schema_version", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("schema_version")
