"""A filter carried from one page to the next without its identity number in clear: the
filter's fields sealed (Fernet: encrypted and authenticated) under a key derived from the
session's cookie token. The page holds only ciphertext; only a request carrying that
HttpOnly cookie (which no script reads) opens it, and it dies with the session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken

from hub.console.sessions import ConsoleSession
from hub.errors import ClientError

_PURPOSE = b"govhub console sealed filter"


def seal(session: ConsoleSession, fields: dict[str, str]) -> str:
    return _fernet(session).encrypt(json.dumps(fields, sort_keys=True).encode()).decode()


def open_sealed(session: ConsoleSession, token: str) -> dict[str, str]:
    try:
        raw = json.loads(_fernet(session).decrypt(token.encode()))
    except (InvalidToken, ValueError):
        raise ClientError(
            "this page's filter is from another session or damaged; filter again"
        ) from None
    if not isinstance(raw, dict):
        raise ClientError("this page's filter is damaged; filter again")
    return {str(key): str(value) for key, value in raw.items()}


def _fernet(session: ConsoleSession) -> Fernet:
    key = hmac.new(session.token.encode(), _PURPOSE, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))
