"""Security: hash-chained audit log, WS-Security nonces, department credentials.

Revision ID: 0003_security
Revises: 0002_operations
Create Date: 2025-01-20

New tables only. The audit chain head starts at seq 0 with the genesis hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Puts the security tables on the store's metadata wherever migrations run, so the
# migrations-match-models comparison sees them.
import hub.security.tables  # noqa: F401

revision = "0003_security"
down_revision = "0002_operations"
branch_labels = None
depends_on = None

_UTC = sa.DateTime(timezone=True)
_GENESIS_HASH = "0" * 64


def upgrade() -> None:
    _audit_tables()
    op.create_table(
        "wsse_nonces",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("expires_at", _UTC, nullable=False),
    )
    op.create_index("ix_wsse_nonces_expires_at", "wsse_nonces", ["expires_at"])
    _credentials_table()


def _audit_tables() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", _UTC, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": _GENESIS_HASH}])


def _credentials_table() -> None:
    op.create_table(
        "department_credentials",
        sa.Column("username", sa.String(200), primary_key=True),
        sa.Column("department", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=True),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("certificate_pem", sa.Text(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("updated_at", _UTC, nullable=False),
    )
    op.create_index(
        "ix_department_credentials_department", "department_credentials", ["department"]
    )


def downgrade() -> None:
    op.drop_table("department_credentials")
    op.drop_index("ix_wsse_nonces_expires_at", "wsse_nonces")
    op.drop_table("wsse_nonces")
    op.drop_table("audit_head")
    op.drop_table("audit_log")
