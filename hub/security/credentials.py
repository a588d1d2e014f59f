"""Department credentials: a UsernameToken secret and/or an X.509 certificate per username.

WS-Security PasswordDigest needs the secret itself on the hub, so a salted hash alone cannot
serve it. Each secret is stored twice: as a salted PBKDF2 hash (enough for PasswordText over
TLS) and, when encryption keys are configured, sealed with AES-256-GCM under the current key
(for PasswordDigest). Certificates are stored as the public certificate only. Issue and rotate
return the new secret once; it is never logged or shown again. Every change is audited in the
same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import Connection, Engine, Table, insert, select, update

from hub.config import DEFAULT_SECRET_HASH_ITERATIONS
from hub.errors import ConfigurationError, NotFound
from hub.security import audit, secret_hash
from hub.security.encryption import KeyRing
from hub.security.tables import department_credentials as table

ACTIVE = "active"
REVOKED = "revoked"


@dataclass(frozen=True)
class IssuedSecret:
    """The only place a secret is ever shown: hand it to the department, then drop it."""

    username: str
    department: str
    secret: str
    generation: int

    def __repr__(self) -> str:  # so a stray log line never carries the secret
        return f"IssuedSecret({self.username!r}, {self.department!r}, generation={self.generation})"


@dataclass(frozen=True)
class Credential:
    """What may be shown about a credential: no secret, the certificate by fingerprint."""

    username: str
    department: str
    state: str
    generation: int
    has_secret: bool
    digest_ready: bool  # the secret is sealed, so PasswordDigest works
    certificate_sha256: str | None
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class StoredCredential:
    """What the WS-Security check needs; ``secret`` is None unless digest is possible."""

    username: str
    department: str
    active: bool
    secret_hash: str | None
    secret: str | None
    certificate_pem: str | None


class CredentialStore:
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

    # --- admin operations (each audited) ------------------------------------------------

    def issue(self, department: str, *, username: str | None = None, actor: str) -> IssuedSecret:
        """A new username (default: the department code) with a fresh secret."""
        username = username or department
        with self._engine.begin() as connection:
            if _row(connection, username) is not None:
                raise ConfigurationError(f"credential {username} exists; rotate or revoke it")
            secret = self._insert(connection, username, department)
            self._audit(connection, actor, "credential_issued", username, department, 1)
        return IssuedSecret(username, department, secret, 1)

    def rotate(self, username: str, *, actor: str) -> IssuedSecret:
        """Replace the secret at once (the old one stops working); the certificate stays."""
        with self._engine.begin() as connection:
            row = _existing(connection, username)
            secret, generation = self._new_secret(), row.generation + 1
            values = {**self._secret_values(username, secret), "generation": generation}
            self._update(connection, username, state=ACTIVE, **values)
            self._audit(
                connection, actor, "credential_rotated", username, row.department, generation
            )
        return IssuedSecret(username, row.department, secret, generation)

    def revoke(self, username: str, *, actor: str) -> Credential:
        with self._engine.begin() as connection:
            row = _existing(connection, username)
            self._update(connection, username, state=REVOKED)
            self._audit(connection, actor, "credential_revoked", username, row.department, None)
        return self.get(username)

    def set_certificate(
        self, department: str, pem: bytes, *, username: str | None = None, actor: str
    ) -> Credential:
        """Register the department's signing certificate (public part only)."""
        username = username or department
        certificate = load_certificate(pem)
        with self._engine.begin() as connection:
            if _row(connection, username) is None:
                self._insert(connection, username, department, with_secret=False)
            self._update(connection, username, certificate_pem=certificate)
            details = {"certificate_sha256": fingerprint(certificate)}
            self._audit(connection, actor, "certificate_set", username, department, None, details)
        return self.get(username)

    def reseal(self, *, actor: str) -> int:
        """Re-encrypt every sealed secret with the current key (after adding a new key)."""
        keys = self._require_keys()
        count = 0
        with self._engine.begin() as connection:
            for row in connection.execute(
                select(table).where(table.c.secret_encrypted.is_not(None))
            ):
                sealed = keys.reseal(row.secret_encrypted, context=row.username.encode())
                if sealed != row.secret_encrypted:
                    self._update(connection, row.username, secret_encrypted=sealed)
                    count += 1
            self._audit(connection, actor, "secrets_resealed", "*", "*", None, {"count": count})
        return count

    # --- reading ------------------------------------------------------------------------

    def get(self, username: str) -> Credential:
        with self._engine.connect() as connection:
            return _public(_existing(connection, username))

    def all(self, department: str | None = None) -> list[Credential]:
        query = select(table).order_by(table.c.department, table.c.username)
        if department:
            query = query.where(table.c.department == department)
        with self._engine.connect() as connection:
            return [_public(row) for row in connection.execute(query)]

    def lookup(self, username: str) -> StoredCredential | None:
        """For the WS-Security check: None for an unknown username."""
        with self._engine.connect() as connection:
            row = _row(connection, username)
        return None if row is None else self._stored(row)

    def ever_registered(self, department: str) -> bool:
        """Whether the department has, or once had, credentials (revoked ones count)."""
        query = select(table.c.username).where(table.c.department == department).limit(1)
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    def for_department(self, department: str) -> list[StoredCredential]:
        query = select(table).where(table.c.department == department, table.c.state == ACTIVE)
        with self._engine.connect() as connection:
            return [self._stored(row) for row in connection.execute(query)]

    def by_certificate(self, sha256: str) -> StoredCredential | None:
        """The active credential whose registered certificate has this fingerprint (TLS client
        certificates); a handful of rows, so they are compared here rather than indexed."""
        query = select(table).where(table.c.state == ACTIVE, table.c.certificate_pem.is_not(None))
        with self._engine.connect() as connection:
            rows = list(connection.execute(query))
        found = [row for row in rows if fingerprint(row.certificate_pem) == sha256]
        return self._stored(found[0]) if found else None

    # --- helpers ------------------------------------------------------------------------

    def _insert(
        self, connection: Connection, username: str, department: str, *, with_secret: bool = True
    ) -> str:
        secret = self._new_secret() if with_secret else ""
        values = self._secret_values(username, secret) if with_secret else {}
        row: dict[str, Any] = {"username": username, "department": department, "state": ACTIVE}
        row |= {"generation": 1, "updated_at": self._clock(), **values}
        connection.execute(insert(table).values(row))
        return secret

    def _new_secret(self) -> str:
        # Without encryption keys the secret is kept as a hash only: PasswordText works,
        # PasswordDigest does not (Credential.digest_ready says which).
        return secret_hash.new_secret()

    def _secret_values(self, username: str, secret: str) -> dict[str, Any]:
        return secret_columns(
            secret, keys=self._keys, context=username.encode(), iterations=self._iterations
        )

    def _update(self, connection: Connection, username: str, **values: Any) -> None:
        values["updated_at"] = self._clock()
        connection.execute(update(table).where(table.c.username == username).values(values))

    def _stored(self, row: Any) -> StoredCredential:
        secret = None
        if row.secret_encrypted is not None and self._keys is not None:
            secret = self._keys.decrypt(row.secret_encrypted, context=row.username.encode())
        return StoredCredential(
            username=row.username,
            department=row.department,
            active=row.state == ACTIVE,
            secret_hash=row.secret_hash,
            secret=None if secret is None else secret.decode("utf-8"),
            certificate_pem=row.certificate_pem,
        )

    def _require_keys(self) -> KeyRing:
        if self._keys is None:
            raise ConfigurationError("no encryption keys: set GOVHUB_ENCRYPTION_KEYS")
        return self._keys

    def _audit(
        self,
        connection: Connection,
        actor: str,
        action: str,
        username: str,
        department: str,
        generation: int | None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        details: dict[str, Any] = {"department": department, "change": action}
        if generation is not None:
            details["generation"] = generation
        details |= extra or {}
        audit.append(
            connection,
            actor=actor,
            action=audit.ADMIN_CHANGE,
            subject=f"credential:{username}",
            at=self._clock(),
            details=details,
        )


def load_certificate(pem: bytes) -> str:
    """The certificate as PEM; anything holding a private key is refused outright."""
    if b"PRIVATE KEY" in pem:
        raise ConfigurationError("this file holds a private key: give the hub the certificate only")
    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ConfigurationError(f"not a PEM X.509 certificate: {exc}") from exc
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def secret_columns(
    secret: str, *, keys: KeyRing | None, context: bytes, iterations: int
) -> dict[str, Any]:
    """How any secret is kept: a salted hash always; sealed under the key ring too when one is
    configured (a PasswordDigest check needs the secret itself)."""
    sealed = None if keys is None else keys.encrypt(secret.encode("utf-8"), context=context)
    hashed = secret_hash.hash_secret(secret, iterations=iterations)
    return {"secret_hash": hashed, "secret_encrypted": sealed}


def fingerprint(certificate_pem: str) -> str:
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def account_row(connection: Connection, accounts: Table, username: str) -> Any:
    """A row of an accounts table (department credentials, admin accounts) by username."""
    return connection.execute(select(accounts).where(accounts.c.username == username)).first()


def existing_account(connection: Connection, accounts: Table, username: str, what: str) -> Any:
    row = account_row(connection, accounts, username)
    if row is None:
        raise NotFound(f"no {what} {username}")
    return row


def _row(connection: Connection, username: str) -> Any:
    return account_row(connection, table, username)


def _existing(connection: Connection, username: str) -> Any:
    return existing_account(connection, table, username, "credential")


def _public(row: Any) -> Credential:
    return Credential(
        username=row.username,
        department=row.department,
        state=row.state,
        generation=row.generation,
        has_secret=row.secret_hash is not None,
        digest_ready=row.secret_encrypted is not None,
        certificate_sha256=fingerprint(row.certificate_pem) if row.certificate_pem else None,
        updated_at=row.updated_at,
    )
