"""QueryAsync's pending queries in the store (hub/query/tables.py ``query_async`` and
``query_async_answers``), so GetQueryResult answers from any API process and after a restart.

Revision ID: 0018_query_async
Revises: 0016_batches
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.store.models import UTCDateTime

revision = "0018_query_async"
down_revision = "0016_batches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "query_async",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("deadline_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("request", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_query_async_expires_at", "query_async", ["expires_at"])
    op.create_table(
        "query_async_answers",
        sa.Column(
            "query_id",
            sa.String(36),
            sa.ForeignKey("query_async.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("part", sa.String(64), primary_key=True),
        sa.Column("department", sa.String(64), primary_key=True),
        sa.Column("outcome", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("query_async_answers")
    op.drop_index("ix_query_async_expires_at", table_name="query_async")
    op.drop_table("query_async")
