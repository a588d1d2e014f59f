"""Large bodies: on SQLite, ``messages.original`` becomes the table's last column.

A zeroblob that ends a row is kept by SQLite as a length only, so a large original can be
given its room and then written in pieces (hub/store/large_bodies.py) instead of being
copied twice whole into memory. The column is added again at the end (NOT NULL, empty by
default), filled from the old one, which is then dropped, and renamed back: every row is
rewritten once (on a large database this takes a while, like a VACUUM). A later migration
that adds a column to ``messages`` on SQLite must keep ``original`` last the same way
(tests/test_large_messages.py fails otherwise). PostgreSQL: nothing changes.

Revision ID: 0025_large_bodies
Revises: 0023_storage
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0025_large_bodies"
down_revision = "0023_storage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("ALTER TABLE messages ADD COLUMN original_last BLOB NOT NULL DEFAULT x''")
    op.execute("UPDATE messages SET original_last = original")
    op.execute("ALTER TABLE messages DROP COLUMN original")
    op.execute("ALTER TABLE messages RENAME COLUMN original_last TO original")


def downgrade() -> None:
    """Where the column sits changes nothing a query sees: left as it is."""
