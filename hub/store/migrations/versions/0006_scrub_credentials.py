"""Stored originals lose every wsse:Password: a PasswordText secret (or a PasswordDigest) kept
in messages.original before ingress removed it.

Revision ID: 0006_scrub_credentials
Revises: 0005_configuration
Create Date: 2026-12-06

Data only. Originals sealed at rest (GOVHUB_ENCRYPT_PAYLOADS) are scrubbed when the process
that migrates has the key ring (GOVHUB_ENCRYPTION_KEYS: ``govhub`` commands and ``serve`` hand
it over); any it cannot open are left for ``govhub payloads reseal``, which scrubs them too.
A scrubbed row keeps its original_sha256, the hash of what arrived (the audit log's accepted
entry holds it); rows stored since ingress scrubs hash what is stored.
Downgrade restores nothing: the secrets are gone.
"""

from __future__ import annotations

import logging

from alembic import context, op

from hub.store.credential_scrub import scrub_originals

revision = "0006_scrub_credentials"
down_revision = "0005_configuration"
branch_labels = None
depends_on = None

log = logging.getLogger("hub.store.migrations")


def upgrade() -> None:
    report = scrub_originals(op.get_bind(), context.config.attributes.get("key_ring"))
    if report.scrubbed:
        log.warning("removed the passwords stored in %d original messages", report.scrubbed)
    if report.sealed_unopened:
        log.warning(
            "%d originals are sealed with keys this process does not have: run "
            "`govhub payloads reseal` with GOVHUB_ENCRYPTION_KEYS to remove their passwords",
            report.sealed_unopened,
        )


def downgrade() -> None:
    pass  # nothing to restore: the removed secrets are not kept anywhere
