"""Which citizens a message names, kept only as keyed hashes (HMAC-SHA256) of their identity
numbers: a plain SHA-256 of an 18-character number is reversed by trying every birth date
and sequence, in about a second. The keys: hub/security/identity_keys.py."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from hub.errors import HubError
from hub.resources import CANONICAL_NAMESPACE
from hub.xmlparse import parse

if TYPE_CHECKING:  # hub.security.tables imports hub.store: a runtime import would be a cycle
    from hub.security.identity_keys import IndexKeys

log = logging.getLogger(__name__)

_IDENTITY_TAG = f"{{{CANONICAL_NAMESPACE}}}identityNumber"


def normalised(number: str) -> bytes:
    """What is hashed for an identity number (upper-case X, no spaces)."""
    return number.strip().upper().encode("ascii", "replace")


def identity_numbers(canonical: bytes) -> tuple[str, ...]:
    """Every identityNumber in a canonical record; empty if it cannot be read."""
    try:
        root = parse(canonical)
    except HubError as exc:  # ingress validated it; never refuse a message over the index
        log.warning("cannot index identity numbers of a canonical record: %s", exc)
        return ()
    return tuple(e.text or "" for e in root.iter(_IDENTITY_TAG))


class IdentityHasher:
    """HMAC-SHA256 under the index keys, keyed once: each number costs one ``copy``."""

    def __init__(self, keys: IndexKeys) -> None:
        self.key_id = keys.current
        self._keyed = {
            key_id: hmac.new(key, digestmod=hashlib.sha256) for key_id, key in keys.keys.items()
        }
        self._current = self._keyed[keys.current]

    def digest(self, number: str) -> str:
        """The hash stored for ``number`` under the current key."""
        return _digest(self._current, normalised(number))

    def lookup_digests(self, number: str) -> list[str]:
        """Its hash under every key, to find rows hashed before a rotation."""
        return [_digest(keyed, normalised(number)) for keyed in self._keyed.values()]

    def number_hashes(self, numbers: Iterable[str]) -> set[str]:
        """Hashes of the numbers given (blank ones left out)."""
        return {self.digest(number) for number in numbers if number.strip()}

    def identity_hashes(self, canonical: bytes) -> set[str]:
        """Hashes of every identityNumber in a canonical record."""
        return self.number_hashes(identity_numbers(canonical))


def _digest(keyed: hmac.HMAC, data: bytes) -> str:
    copy = keyed.copy()
    copy.update(data)
    return copy.hexdigest()
