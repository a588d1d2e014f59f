"""Admin accounts for the /admin SOAP API: a secret (WS-Security UsernameToken, checked by the
same WsseVerifier as the departments') and per-account permissions.

    read       ListMessages, ShowMessage, Trace, ListDepartments, ShowDepartment, ListRoutes
    operate    Replay, Prune
    configure  CheckDepartment, RegisterDepartment, DisableDepartment, EnableDepartment,
               RollbackDepartment, AddRoute, RemoveRoute
    reveal     reveal=true on ListMessages, ShowMessage, Trace (with a reason; audited)
    tracker    a person's data trail (govhub tracker, the console's tracker page; audited)

``AdminGuard.check(envelope, operation)`` answers with the acting username or raises
NotAuthenticated / NotAuthorized. /admin answers no one until ``govhub admins add`` has made
an account, in every authentication mode: an open /admin would show and change everything to
whoever reaches the port. Revoking every account locks it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from sqlalchemy import Connection, Engine, insert, select, update

from hub.config import DEFAULT_SECRET_HASH_ITERATIONS
from hub.errors import ConfigurationError, NotAuthenticated, NotAuthorized
from hub.security import audit, secret_hash
from hub.security.credentials import (
    ACTIVE,
    REVOKED,
    IssuedSecret,
    StoredCredential,
    account_row,
    existing_account,
    secret_columns,
)
from hub.security.encryption import KeyRing
from hub.security.tables import admin_accounts as table
from hub.security.wsse import WsseVerifier

READ = "read"
OPERATE = "operate"
CONFIGURE = "configure"
REVEAL = "reveal"  # identity numbers in clear: on top of the operation's own permission
TRACKER = "tracker"  # a person's whole trail (hub/tracker): the CLI and the console page
PERMISSIONS = (READ, OPERATE, CONFIGURE, REVEAL, TRACKER)
OPERATION_PERMISSIONS = {
    "ListMessages": READ,
    "ShowMessage": READ,
    "Trace": READ,
    "ListDepartments": READ,
    "ShowDepartment": READ,
    "ListRoutes": READ,
    "Replay": OPERATE,
    "Prune": OPERATE,
}  # every other operation (the configuration changes) needs CONFIGURE
# The "department" admin accounts act for in the WsseVerifier; no department code has a '*'.
ADMIN_REALM = "*admin*"


@dataclass(frozen=True)
class AdminAccount:
    """What may be shown about an account: never its secret."""

    username: str
    permissions: tuple[str, ...]
    state: str
    digest_ready: bool
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "updated_at": self.updated_at.isoformat()}


class AdminStore:
    """Admin accounts; every change is an audited ``admin_change`` in the same transaction.
    Also the WsseVerifier's credential source for /admin (``lookup``, ``for_department``)."""

    def __init__(
        self,
        engine: Engine,
        *,
        keys: KeyRing | None = None,
        clock: Callable[[], datetime] | None = None,
        iterations: int = DEFAULT_SECRET_HASH_ITERATIONS,
    ) -> None:
        self._engine = engine
        self._keys = keys
        self._clock = clock or (lambda: datetime.now(UTC))
        self._iterations = iterations

    def add(self, username: str, permissions: Iterable[str], *, actor: str) -> IssuedSecret:
        """A new account with a fresh secret (printed once by the CLI)."""
        wanted = _checked(permissions)
        secret = secret_hash.new_secret()
        row = {
            "username": username,
            **secret_columns(
                secret, keys=self._keys, context=_context(username), iterations=self._iterations
            ),
            "permissions": _joined(wanted),
            "state": ACTIVE,
            "updated_at": self._clock(),
        }
        with self._engine.begin() as connection:
            if _row(connection, username) is not None:
                raise ConfigurationError(f"admin {username} exists; grant, revoke or pick another")
            connection.execute(insert(table).values(row))
            self._audit(connection, actor, "admin_added", username, wanted)
        return IssuedSecret(username, ADMIN_REALM, secret, 1)

    def grant(self, username: str, permissions: Iterable[str], *, actor: str) -> AdminAccount:
        added = _checked(permissions)
        with self._engine.begin() as connection:
            now = set(_split(_existing(connection, username).permissions)) | set(added)
            self._update(connection, username, permissions=_joined(now))
            self._audit(connection, actor, "admin_granted", username, added)
        return self.get(username)

    def revoke(self, username: str, permissions: Iterable[str] = (), *, actor: str) -> AdminAccount:
        """Take the given permissions away; with none given, revoke the whole account."""
        removed = _checked(permissions) if permissions else ()
        with self._engine.begin() as connection:
            row = _existing(connection, username)
            if removed:
                kept = set(_split(row.permissions)) - set(removed)
                self._update(connection, username, permissions=_joined(kept))
                self._audit(connection, actor, "admin_permissions_revoked", username, removed)
            else:
                self._update(connection, username, state=REVOKED)
                self._audit(connection, actor, "admin_revoked", username, ())
        return self.get(username)

    def get(self, username: str) -> AdminAccount:
        with self._engine.connect() as connection:
            return _public(_existing(connection, username))

    def all(self) -> list[AdminAccount]:
        with self._engine.connect() as connection:
            return [
                _public(r) for r in connection.execute(select(table).order_by(table.c.username))
            ]

    def any_account(self, *, active: bool = False) -> bool:
        """Whether an account exists (``active``: an active one; revoked ones count otherwise)."""
        query = select(table.c.username).limit(1)
        if active:
            query = query.where(table.c.state == ACTIVE)
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    def ever_registered(self, department: str) -> bool:
        return department == ADMIN_REALM and self.any_account()

    def permissions_of(self, username: str) -> frozenset[str]:
        with self._engine.connect() as connection:
            row = _row(connection, username)
        return frozenset(_split(row.permissions)) if row is not None else frozenset()

    # --- the WsseVerifier's credential source -------------------------------------------

    def lookup(self, username: str) -> StoredCredential | None:
        with self._engine.connect() as connection:
            row = _row(connection, username)
        return None if row is None else self._stored(row)

    def by_certificate(self, sha256: str) -> StoredCredential | None:
        return None  # admin accounts hold no certificates: a TLS client certificate is no admin

    def for_department(self, department: str) -> list[StoredCredential]:
        if department != ADMIN_REALM:
            return []
        query = select(table).where(table.c.state == ACTIVE)
        with self._engine.connect() as connection:
            return [self._stored(row) for row in connection.execute(query)]

    # --- helpers ------------------------------------------------------------------------

    def _stored(self, row: Any) -> StoredCredential:
        secret = None
        if row.secret_encrypted is not None and self._keys is not None:
            opened = self._keys.decrypt(row.secret_encrypted, context=_context(row.username))
            secret = opened.decode("utf-8")
        return StoredCredential(
            username=row.username,
            department=ADMIN_REALM,
            active=row.state == ACTIVE,
            secret_hash=row.secret_hash,
            secret=secret,
            certificate_pem=None,
        )

    def _update(self, connection: Connection, username: str, **values: Any) -> None:
        values["updated_at"] = self._clock()
        connection.execute(update(table).where(table.c.username == username).values(values))

    def _audit(
        self,
        connection: Connection,
        actor: str,
        change: str,
        username: str,
        permissions: Iterable[str],
    ) -> None:
        audit.append(
            connection,
            actor=actor,
            action=audit.ADMIN_CHANGE,
            subject=f"admin:{username}",
            at=self._clock(),
            details={"change": change, "permissions": sorted(permissions)},
        )


class AdminGuard:
    """Who may call which /admin operation; refusals are audited by the caller."""

    def __init__(self, accounts: AdminStore, verifier: WsseVerifier) -> None:
        self._accounts = accounts
        self._verifier = verifier

    def check(self, envelope: etree._Element, operation: str) -> str:
        """The acting admin's username, or raise NotAuthenticated / NotAuthorized."""
        if not self._accounts.any_account():
            raise NotAuthenticated("no admin account exists; add one with govhub admins add")
        if not self._accounts.any_account(active=True):
            raise NotAuthenticated("every admin account is revoked: add one with govhub admins add")
        authenticated = self._verifier.verify(envelope, ADMIN_REALM)
        if authenticated is None:  # cannot happen: an active account exists
            raise NotAuthenticated("no active admin account")
        self.require(
            authenticated.username, OPERATION_PERMISSIONS.get(operation, CONFIGURE), operation
        )
        return authenticated.username

    def require(self, username: str, permission: str, what: str) -> None:
        """NotAuthorized unless the (authenticated) admin holds ``permission``."""
        if permission not in self._accounts.permissions_of(username):
            raise NotAuthorized(
                f"admin {username} lacks the '{permission}' permission needed for {what}"
            )


def _context(username: str) -> bytes:
    return b"admin:" + username.encode("utf-8")


def _checked(permissions: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(sorted(set(permissions)))
    unknown = [p for p in wanted if p not in PERMISSIONS]
    if unknown:
        raise ConfigurationError(
            f"unknown permission {', '.join(unknown)}; known: {', '.join(PERMISSIONS)}"
        )
    return wanted


def _joined(permissions: Iterable[str]) -> str:
    return ",".join(sorted(permissions))


def _split(text: str) -> tuple[str, ...]:
    return tuple(p for p in text.split(",") if p)


def _row(connection: Connection, username: str) -> Any:
    return account_row(connection, table, username)


def _existing(connection: Connection, username: str) -> Any:
    return existing_account(connection, table, username, "admin account")


def _public(row: Any) -> AdminAccount:
    return AdminAccount(
        username=row.username,
        permissions=_split(row.permissions),
        state=row.state,
        digest_ready=row.secret_encrypted is not None,
        updated_at=row.updated_at,
    )
