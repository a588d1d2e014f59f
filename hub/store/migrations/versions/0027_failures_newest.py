"""Newest failures first: each leg carries its message's arrival, indexed among the legs not
delivered.

- ``deliveries.received_at``: the message's ``received_at``, written by the leg insert from
  now on and filled here for every leg (a replay moves a delivered leg back among the legs
  not delivered, so not only those), in batches of ``FILL_BATCH`` legs by id: each statement
  stays small on a large table. The batches share the migration's one transaction.
- ``ix_deliveries_newest`` ``(state, received_at DESC, message_id)`` and
  ``ix_deliveries_department_newest`` ``(state, department, received_at DESC, message_id)``
  WHERE state <> 'delivered': a state filter reads its legs in the page's own order and stops
  when the page is full, however old the failures (hub/operations/newest.py).

Revision ID: 0027_failures_newest
Revises: 0026_attempt_numbers
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.store.models import UTCDateTime

revision = "0027_failures_newest"
down_revision = "0026_attempt_numbers"
branch_labels = None
depends_on = None

NOT_DELIVERED = sa.text("state <> 'delivered'")
NEWEST = sa.text("received_at DESC")
FILL_BATCH = 50_000
# Correlated, so the same text serves SQLite and PostgreSQL; each leg's message by its key.
FILL = sa.text(
    "UPDATE deliveries SET received_at = "
    "(SELECT messages.received_at FROM messages WHERE messages.id = deliveries.message_id) "
    "WHERE id >= :first AND id < :end"
)


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("received_at", UTCDateTime(), nullable=True))
    _fill()
    op.create_index(
        "ix_deliveries_newest",
        "deliveries",
        ["state", NEWEST, "message_id"],
        postgresql_where=NOT_DELIVERED,
        sqlite_where=NOT_DELIVERED,
    )
    op.create_index(
        "ix_deliveries_department_newest",
        "deliveries",
        ["state", "department", NEWEST, "message_id"],
        postgresql_where=NOT_DELIVERED,
        sqlite_where=NOT_DELIVERED,
    )


def _fill() -> None:
    bind = op.get_bind()
    first, last = bind.execute(sa.text("SELECT min(id), max(id) FROM deliveries")).one()
    if first is None:
        return
    for start in range(first, last + 1, FILL_BATCH):
        bind.execute(FILL, {"first": start, "end": start + FILL_BATCH})


def downgrade() -> None:
    op.drop_index("ix_deliveries_department_newest", table_name="deliveries")
    op.drop_index("ix_deliveries_newest", table_name="deliveries")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy would cascade-delete the attempts.
    op.drop_column("deliveries", "received_at")
