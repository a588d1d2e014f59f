"""Download a signed audit export (configure permission): the archive `govhub audit export`
writes (hub/security/export.py: audit.jsonl, manifest.json, manifest.sig, Ed25519), signed
with the hub's GOVHUB_AUDIT_SIGNING_KEY_FILE. The download is itself an audit entry, written
in the same transaction the export reads, so the archive ends with it. Check it with
`govhub audit verify-export FILE --public-key audit-public.pem` (or openssl, see the
module above)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hub.console.http import Answer, Request
from hub.console.pages import Context
from hub.errors import ConfigurationError
from hub.security import audit
from hub.security.export import export, load_signing_key

EXPORTED = "audit_export"


def download(context: Context, request: Request) -> Answer:
    key_file = context.app.settings.audit_signing_key_file
    if not key_file:
        raise ConfigurationError(
            "this hub has no audit signing key: create one with govhub audit keygen and set "
            "GOVHUB_AUDIT_SIGNING_KEY_FILE"
        )
    key = load_signing_key(Path(key_file))
    now = context.app.store.clock()
    with tempfile.TemporaryDirectory(prefix="govhub-audit-") as folder:
        archive = Path(folder) / "export.zip"
        with context.app.store.engine.begin() as connection:
            audit.append(
                connection,
                actor=context.session.username,
                action=EXPORTED,
                subject="console",
                at=now,
                details={"from": request.address},
            )
            export(connection, archive, key)
        data = archive.read_bytes()
    name = f"govhub-audit-{now.strftime('%Y%m%dT%H%M%SZ')}.zip"
    disposition = ("Content-Disposition", f'attachment; filename="{name}"')
    return Answer("200 OK", data, "application/zip", headers=[disposition])
