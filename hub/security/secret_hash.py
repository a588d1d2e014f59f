"""Department secrets: random generation and salted PBKDF2-SHA256 hashes, compared in
constant time. The secrets are 256 random bits issued by the hub, never chosen by people."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from hub.config import DEFAULT_SECRET_HASH_ITERATIONS

SCHEME = "pbkdf2_sha256"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str, *, iterations: int = DEFAULT_SECRET_HASH_ITERATIONS) -> str:
    """``pbkdf2_sha256$iterations$salt$hash`` (base64); the iteration count travels with it."""
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, iterations)
    return "$".join([SCHEME, str(iterations), _b64(salt), _b64(digest)])


def matches(secret: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != SCHEME:
        return False
    computed = hashlib.pbkdf2_hmac(
        "sha256", secret.encode("utf-8"), base64.b64decode(salt), int(iterations)
    )
    return hmac.compare_digest(computed, base64.b64decode(digest))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
