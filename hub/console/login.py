"""Logging in with an admin account's name and secret (the one `govhub admins add` printed),
checked against the same stored hash /admin's PasswordText check uses."""

from __future__ import annotations

from hub.console.lockout import Lockout
from hub.errors import LoginLocked, NotAuthenticated
from hub.security import secret_hash
from hub.security.admins import AdminStore

# Checked when the account does not exist, so an unknown name costs the same time as a known.
_NOBODY = secret_hash.hash_secret("nobody", iterations=10_000)


def authenticate(
    accounts: AdminStore, lockout: Lockout, username: str, secret: str, address: str
) -> str:
    """The account's name, or NotAuthenticated (LoginLocked while a lock holds)."""
    until = lockout.locked_until(username, address)
    if until is not None:
        raise LoginLocked(f"too many failed logins; try again after {until:%H:%M:%S} UTC")
    stored = accounts.lookup(username) if username else None
    good = secret_hash.matches(secret, (stored.secret_hash if stored else None) or _NOBODY)
    if stored is None or not stored.active or not stored.secret_hash or not good:
        lockout.failed(username, address)
        raise NotAuthenticated("wrong account name or secret")
    lockout.succeeded(username)
    return stored.username
