"""Authentication of native pushes (``POST /native/<DEPT>/…``), with the credentials and the
``authentication`` policy of the SOAP API.

    authenticator.verify(NativeRequest(...))  ->  Authenticated | None  (or NotAuthenticated)

  - an ``Authorization: GovHub-HMAC-SHA256 …`` header (REST departments: tax's JSON) is an
    HMAC-SHA256 over method, path, timestamp, nonce and the body's SHA-256, keyed with the
    credential's secret;
  - otherwise an XML body is a SOAP envelope (1.1 or 1.2) whose wsse:Security header is
    checked exactly as for Submit (UsernameToken and/or signature, hub/security/wsse.py);
  - otherwise a department with credentials is refused, as is every department under
    ``authentication = required``.

A verified TLS client certificate registered to the URL's department authenticates the push
by itself when its credential has no secret (and stands for the signature when it has one);
one registered to another department is NotAuthorized.

Timestamps get the WS-Security freshness window and nonces go into the same nonce cache.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from hub import xmlparse
from hub.config import Settings
from hub.declared_encoding import charset_of
from hub.errors import NotAuthenticated
from hub.security.credentials import CredentialStore, StoredCredential
from hub.security.encryption import KeyRing
from hub.security.freshness import Freshness
from hub.security.nonces import DatabaseNonceCache, NonceCache
from hub.security.wsse import Authenticated, CredentialSource, WsseVerifier

SCHEME = "GovHub-HMAC-SHA256"
_PARAMETERS = ("Credential", "Timestamp", "Nonce", "Signature")
_NONCE = re.compile(r"[A-Za-z0-9+/=_-]{16,128}")
_XML_TYPES = ("text/xml", "application/soap+xml", "application/xml")


@dataclass(frozen=True)
class NativeRequest:
    department: str  # from the URL
    method: str
    path: str  # as the hub sees it (decoded), with "?query" if there is one
    headers: Mapping[str, str]
    body: bytes

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), "")


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What the HMAC covers, one item a line; the body by its SHA-256 (hex)."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, digest)).encode("utf-8")


def hmac_signature(secret: str, text: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), text, hashlib.sha256).hexdigest()


class HmacVerifier:
    """The ``Authorization: GovHub-HMAC-SHA256`` check; thread-safe like its parts."""

    def __init__(
        self, credentials: CredentialSource, nonces: NonceCache, freshness: Freshness
    ) -> None:
        self._credentials = credentials
        self._nonces = nonces
        self._freshness = freshness

    def verify(
        self, request: NativeRequest, authorization: str, tls: StoredCredential | None = None
    ) -> Authenticated:
        fields = _parse_authorization(authorization)
        credential = self._credential(fields["Credential"], request.department, tls)
        created = self._freshness.check(fields["Timestamp"], "the Authorization", "Timestamp")
        nonce = fields["Nonce"]
        if not _NONCE.fullmatch(nonce):
            raise NotAuthenticated("the Authorization Nonce must be 16 to 128 base64 characters")
        assert credential.secret is not None  # _credential checked it
        text = string_to_sign(
            request.method, request.path, fields["Timestamp"], nonce, request.body
        )
        if not hmac.compare_digest(hmac_signature(credential.secret, text), fields["Signature"]):
            raise NotAuthenticated(
                f"wrong signature from user {credential.username} "
                "(over method, path, timestamp, nonce and body SHA-256)"
            )
        # Only a valid request spends its nonce: a forger cannot use up someone else's.
        expires = self._freshness.nonce_expiry(created)
        if not self._nonces.remember(
            credential.username, nonce.encode("ascii"), expires, self._freshness.clock()
        ):
            raise NotAuthenticated(f"replayed nonce from user {credential.username}")
        return Authenticated(request.department, credential.username, "hmac", False)

    def _credential(
        self, username: str, department: str, tls: StoredCredential | None
    ) -> StoredCredential:
        credential = self._credentials.lookup(username)
        if credential is None or not credential.active:
            raise NotAuthenticated(f"unknown or revoked user {username}")
        if credential.department != department:
            raise NotAuthenticated(f"user {username} may not act for department {department}")
        proven_by_tls = tls is not None and tls.username == credential.username
        if credential.certificate_pem and not proven_by_tls:
            # "A credential with both needs both": an HMAC cannot carry the signature.
            raise NotAuthenticated(
                f"user {username} has a certificate: push a signed SOAP envelope instead"
            )
        if credential.secret is None:
            raise NotAuthenticated(
                f"user {username} cannot use HMAC here: the hub keeps no sealed secret "
                "(configure encryption keys, then rotate the credential)"
            )
        return credential


class NativeAuthenticator:
    """Chooses the check a native push needs (HMAC header, or WS-Security in the envelope)."""

    def __init__(self, wsse: WsseVerifier, hmac_verifier: HmacVerifier) -> None:
        self._wsse = wsse
        self._hmac = hmac_verifier

    def verify(self, request: NativeRequest) -> Authenticated | None:
        """None: the department has no credentials and authentication is not required."""
        tls = self._wsse.tls_credential(request.department)
        if tls is not None and not tls.secret_hash:
            return Authenticated(request.department, tls.username, None, False, tls=True)
        authorization = request.header("Authorization")
        if authorization:
            self._wsse.credentials_of(request.department)  # a locked-out department stays out
            return self._hmac.verify(request, authorization, tls)
        if not self._wsse.credentials_of(request.department):
            return None
        if _is_xml(request.header("Content-Type")):
            # The HTTP front bounded the body already; the parser only must not refuse it.
            envelope = xmlparse.parse(
                request.body,
                max_bytes=max(len(request.body), 1),
                charset=charset_of(request.header("Content-Type")),
            )
            return self._wsse.verify(envelope, request.department)
        raise NotAuthenticated(
            f"no credentials sent: use an Authorization: {SCHEME} header, "
            "or a SOAP envelope with a wsse:Security header"
        )


def native_authenticator(
    settings: Settings, engine: Engine, *, clock: Callable[[], datetime] | None = None
) -> NativeAuthenticator:
    """The checks of a hub process: credentials, nonces and window as for the SOAP API."""
    credentials = CredentialStore(engine, keys=KeyRing.parse(settings.encryption_keys))
    nonces = DatabaseNonceCache(engine)
    freshness = Freshness(settings.wsse_max_age_seconds, settings.wsse_clock_skew_seconds, clock)
    wsse = WsseVerifier(
        credentials,
        nonces,
        max_age_seconds=settings.wsse_max_age_seconds,
        clock_skew_seconds=settings.wsse_clock_skew_seconds,
        authentication=settings.authentication,
        signature_timestamp=settings.signature_timestamp,
        password_text_over_http=settings.allow_password_text_over_http,
        clock=clock,
    )
    return NativeAuthenticator(wsse, HmacVerifier(credentials, nonces, freshness))


def _parse_authorization(value: str) -> dict[str, str]:
    scheme, _, rest = value.strip().partition(" ")
    if scheme != SCHEME:
        raise NotAuthenticated(f"unsupported Authorization scheme; use {SCHEME}")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, text = item.strip().partition("=")
        if sep and name in _PARAMETERS and name not in fields:
            fields[name] = text.strip()
    missing = [name for name in _PARAMETERS if not fields.get(name)]
    if missing:
        raise NotAuthenticated(f"the Authorization header lacks {', '.join(missing)}")
    return fields


def _is_xml(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in _XML_TYPES
