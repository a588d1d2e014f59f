"""Sealing of stored payload bodies at rest (``GOVHUB_ENCRYPT_PAYLOADS``) with the key ring.

A sealed body is the key ring's format (``GHE1`` + key id + nonce + AES-256-GCM), kept in the
same binary column as a plain one: XML and JSON never start with ``GHE1``, so plain (older)
rows still read. Each body is bound to its row and column (the GCM associated data), so a
sealed body copied to another row does not open. Hashes and audit entries are over the plain
bytes, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.config import Settings
from hub.errors import ConfigurationError, DecryptionFailed
from hub.security.encryption import KeyRing, is_sealed


def original_context(message_id: str) -> bytes:
    return f"messages.original/{message_id}".encode()


def canonical_context(message_id: str) -> bytes:
    return f"messages.canonical/{message_id}".encode()


def payload_context(delivery_id: int) -> bytes:
    return f"deliveries.payload/{delivery_id}".encode()


@dataclass(frozen=True)
class PayloadSealer:
    """``encrypt``: seal what is written; any configured key opens what is read."""

    keys: KeyRing | None = None
    encrypt: bool = False

    def __post_init__(self) -> None:
        if self.encrypt and self.keys is None:
            raise ConfigurationError(
                "GOVHUB_ENCRYPT_PAYLOADS needs GOVHUB_ENCRYPTION_KEYS "
                "(govhub credentials new-key ID)"
            )

    def seal(self, data: bytes, context: bytes) -> bytes:
        if not self.encrypt or not data or self.keys is None:
            return data
        return self.keys.encrypt(data, context=context)

    def open(self, data: bytes, context: bytes) -> bytes:
        """Plain bodies (older rows, encryption off, pruned b"") come back as they are."""
        if not is_sealed(data):
            return data
        if self.keys is None:
            raise DecryptionFailed("a stored body is encrypted: set GOVHUB_ENCRYPTION_KEYS")
        return self.keys.decrypt(data, context=context)

    def reseal(self, data: bytes, context: bytes) -> bytes:
        """Under the current key (rotation); a plain body is sealed when encryption is on."""
        if is_sealed(data) and self.keys is not None:
            return self.keys.reseal(data, context=context)
        return self.seal(data, context)


def payload_sealer(settings: Settings) -> PayloadSealer:
    """The sealer of a hub process; a ConfigurationError when encryption lacks keys."""
    keys = KeyRing.parse(settings.encryption_keys)
    return PayloadSealer(keys, settings.encrypt_payloads)
