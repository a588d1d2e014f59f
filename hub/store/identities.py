"""Which citizens a message names, kept only as SHA-256 hashes of their identity numbers."""

from __future__ import annotations

import hashlib
import logging

from hub.errors import HubError
from hub.resources import CANONICAL_NAMESPACE
from hub.xmlparse import parse

log = logging.getLogger(__name__)

_IDENTITY_TAG = f"{{{CANONICAL_NAMESPACE}}}identityNumber"


def identity_sha256(number: str) -> str:
    """The hash stored for an identity number (upper-case X, no spaces)."""
    return hashlib.sha256(number.strip().upper().encode("ascii", "replace")).hexdigest()


def number_hashes(numbers: tuple[str, ...]) -> set[str]:
    """Hashes of the identity numbers given (blank ones left out, as ``identity_hashes``)."""
    return {identity_sha256(number) for number in numbers if number.strip()}


def identity_hashes(canonical: bytes) -> set[str]:
    """Hashes of every identityNumber in a canonical record; empty if it cannot be read."""
    try:
        root = parse(canonical)
    except HubError as exc:  # ingress validated it; never refuse a message over the index
        log.warning("cannot index identity numbers of a canonical record: %s", exc)
        return set()
    return number_hashes(tuple(e.text or "" for e in root.iter(_IDENTITY_TAG)))
