"""AES-256-GCM with a key ring from the settings: the first key encrypts, every key decrypts.

A sealed value is ``b"GHE1" + len(key id) + key id + 12-byte nonce + ciphertext+tag``, so the
key that sealed it is known and old keys keep working until everything is re-sealed.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.errors import ConfigurationError, DecryptionFailed

MAGIC = b"GHE1"
NONCE_BYTES = 12
KEY_BYTES = 32


def new_key_text(key_id: str) -> str:
    """``id=base64key`` for GOVHUB_ENCRYPTION_KEYS; a fresh random 256-bit key."""
    return f"{key_id}={base64.b64encode(os.urandom(KEY_BYTES)).decode('ascii')}"


@dataclass(frozen=True)
class KeyRing:
    """Keys by id, in the order given; ``current`` is the one that encrypts."""

    keys: dict[str, bytes] = field(repr=False)
    current: str

    @classmethod
    def parse(cls, text: str) -> KeyRing | None:
        """``"k2=base64,k1=base64"``; None when empty. Errors never echo key material."""
        items = [item.strip() for item in text.split(",") if item.strip()]
        if not items:
            return None
        keys = dict(_parse_key(item, index) for index, item in enumerate(items))
        return cls(keys, current=next(iter(keys)))

    def encrypt(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """``context`` is authenticated, not stored: decrypt needs the same (e.g. a row key)."""
        key_id = self.current.encode("utf-8")
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext, context)
        return MAGIC + bytes([len(key_id)]) + key_id + nonce + sealed

    def decrypt(self, sealed: bytes, *, context: bytes = b"") -> bytes:
        key_id, nonce, body = _split(sealed)
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionFailed(f"no encryption key with id {key_id!r} is configured")
        try:
            return AESGCM(key).decrypt(nonce, body, context)
        except InvalidTag as exc:
            raise DecryptionFailed(f"data sealed with key {key_id!r} fails its check") from exc

    def key_id_of(self, sealed: bytes) -> str:
        return _split(sealed)[0]

    def reseal(self, sealed: bytes, *, context: bytes = b"") -> bytes:
        """Re-encrypt with the current key (rotation); unchanged if already current."""
        if self.key_id_of(sealed) == self.current:
            return sealed
        return self.encrypt(self.decrypt(sealed, context=context), context=context)


def is_sealed(data: bytes) -> bool:
    return data.startswith(MAGIC)


def _parse_key(item: str, index: int) -> tuple[str, bytes]:
    key_id, sep, encoded = item.partition("=")
    if not sep or not key_id or len(key_id) > 64:
        raise ConfigurationError(f"encryption key #{index + 1} is not id=base64key")
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ConfigurationError(f"encryption key {key_id!r} is not base64") from exc
    if len(key) != KEY_BYTES:
        raise ConfigurationError(f"encryption key {key_id!r} must be {KEY_BYTES} bytes")
    return key_id, key


def _split(sealed: bytes) -> tuple[str, bytes, bytes]:
    if not is_sealed(sealed) or len(sealed) < len(MAGIC) + 1:
        raise DecryptionFailed("not data sealed by govhub")
    start = len(MAGIC) + 1
    end = start + sealed[len(MAGIC)]
    key_id = sealed[start:end].decode("utf-8", errors="replace")
    return key_id, sealed[end : end + NONCE_BYTES], sealed[end + NONCE_BYTES :]
