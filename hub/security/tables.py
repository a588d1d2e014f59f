"""The security tables (SQLAlchemy Core), on the store's metadata so migrations compare them.

``migrations/versions/0003_security.py`` creates exactly these; change both together.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Text

from hub.store.models import Base, UTCDateTime

metadata = Base.metadata

# Hash of "nothing before": the prev_hash of the first audit entry.
GENESIS_HASH = "0" * 64

# The longest actor, action and subject an entry holds: an entry is hashed as it is stored,
# so a longer text is cut to these before hashing (hub/security/audit.py).
ACTOR_CHARS = 200
ACTION_CHARS = 40
SUBJECT_CHARS = 200
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(ACTOR_CHARS), nullable=False),
    Column("action", String(ACTION_CHARS), nullable=False),
    Column("subject", String(SUBJECT_CHARS), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row (id 1): the chain's last seq and hash. Appenders lock it, so the chain is a line.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

wsse_nonces = Table(
    "wsse_nonces",
    metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of username and nonce
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_wsse_nonces_expires_at", "expires_at"),
)

department_credentials = Table(
    "department_credentials",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("department", String(64), nullable=False),
    # PBKDF2-SHA256 "iterations$salt_b64$hash_b64" (PasswordText)
    Column("secret_hash", String(200), nullable=True),
    # the secret encrypted with an encryption key (PasswordDigest needs the secret itself)
    Column("secret_encrypted", LargeBinary, nullable=True),
    Column("certificate_pem", Text, nullable=True),  # public certificate only, never a key
    Column("state", String(16), nullable=False),  # active | revoked
    Column("generation", Integer, nullable=False),  # 1, +1 per rotation
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_department_credentials_department", "department"),
)

# Operators of the /admin SOAP API (migration 0004_admin_accounts).
admin_accounts = Table(
    "admin_accounts",
    metadata,
    Column("username", String(200), primary_key=True),
    Column("secret_hash", String(200), nullable=False),  # PBKDF2 (PasswordText)
    Column("secret_encrypted", LargeBinary, nullable=True),  # sealed secret (PasswordDigest)
    Column("permissions", String(200), nullable=False),  # "operate,read": sorted, comma-joined
    Column("state", String(16), nullable=False),  # active | revoked
    Column("updated_at", UTCDateTime, nullable=False),
)

# Keys the hub makes and keeps for itself when no key ring is configured (migration
# 0007_keyed_identity_hashes): the identity index's HMAC key, id "identity-index".
local_keys = Table(
    "local_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("key", LargeBinary, nullable=False),
)

# One row per audit segment exported and removed (migration 0023_storage,
# hub/security/archive.py): the live chain continues from ``through_seq``/``through_hash``.
audit_archives = Table(
    "audit_archives",
    metadata,
    Column("through_seq", Integer, primary_key=True, autoincrement=False),
    Column("through_hash", String(64), nullable=False),
    Column("first_seq", Integer, nullable=False),
    Column("file_name", String(200), nullable=False),
    Column("jsonl_sha256", String(64), nullable=False),
    Column("archived_at", UTCDateTime, nullable=False),
)
