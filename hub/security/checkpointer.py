"""The worker service's audit checkpoint thread: at its start and then every
``audit_checkpoint_seconds``, a signed checkpoint of the chain's head if the log grew.

It reads one row per pass and writes one small file, off the request path; with several
worker processes each writes (the same seq twice is one file).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from hub.config import Settings
from hub.errors import AuditChainBroken
from hub.identity import mask_in_text
from hub.security.checkpoints import take_checkpoint
from hub.security.export import load_signing_key

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(
        self, engine: Engine, directory: Path, key: Ed25519PrivateKey, settings: Settings
    ) -> None:
        self.engine = engine
        self.directory = directory
        self.key = key
        self.interval = settings.audit_checkpoint_seconds
        self.keep = settings.audit_checkpoint_keep

    @classmethod
    def from_settings(cls, engine: Engine, settings: Settings) -> Checkpointer | None:
        """None when checkpoints are off: no interval, or no signing key to sign them."""
        if settings.audit_checkpoint_seconds <= 0 or not settings.audit_signing_key_file:
            return None
        key = load_signing_key(Path(settings.audit_signing_key_file))
        return cls(engine, settings.effective_audit_checkpoint_dir, key, settings)

    def run(self, stop: threading.Event) -> None:
        self.once()
        while not stop.wait(self.interval):
            self.once()

    def once(self) -> Path | None:
        try:
            return take_checkpoint(self.engine, self.directory, self.key, keep=self.keep)
        except AuditChainBroken as exc:  # the alarm: someone cut the log
            log.error("audit log: %s", exc)
        except Exception as exc:  # the database or the folder is away: try again next time
            log.error("audit checkpoint failed: %s", mask_in_text(str(exc)))
        return None
