"""Check a SOAP request's wsse:Security header against the claimed sender's credentials.

    verifier.verify(envelope, sender)  ->  Authenticated | None  (or raises NotAuthenticated)

A credential with a secret needs a UsernameToken with Nonce and Created, checked for freshness
and replay: PasswordDigest, or PasswordText (the secret itself, so only over the hub's own TLS
unless ``password_text_over_http``); a credential with a certificate needs an X.509 signature
over the soap:Body (and over wsu:Timestamp when there is one), checked with xmlsec against the
registered certificate, never against a key the request carries. When the hub terminates TLS, a
verified client certificate equal to a credential's registered certificate stands for that signature
(hub/security/client_certificates.py), and binds the request to that credential's department.

A request signed without a UsernameToken has no nonce: its signed wsu:Timestamp is its
freshness. With ``signature_timestamp = required`` it must have one, with Created and Expires;
whenever it has one, the signature (by the digests it signs) is accepted once within the window.
Errors say what is wrong, not a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lxml import etree

from hub.config import (
    DEFAULT_AUTHENTICATION,
    DEFAULT_SIGNATURE_TIMESTAMP,
    DEFAULT_WSSE_CLOCK_SKEW_SECONDS,
    DEFAULT_WSSE_MAX_AGE_SECONDS,
)
from hub.errors import NotAuthenticated, NotAuthorized
from hub.security import client_certificates, secret_hash, transport_security
from hub.security.credentials import StoredCredential
from hub.security.freshness import Freshness, parse_time
from hub.security.nonces import NonceCache
from hub.security.signature import DS, verify_signature

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
PASSWORD_DIGEST = _PROFILE + "#PasswordDigest"
PASSWORD_TEXT = _PROFILE + "#PasswordText"
SOAP_NAMESPACES = (
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
)


class CredentialSource(Protocol):
    def lookup(self, username: str) -> StoredCredential | None: ...

    def for_department(self, department: str) -> list[StoredCredential]: ...

    def ever_registered(self, department: str) -> bool: ...

    def by_certificate(self, sha256: str) -> StoredCredential | None: ...


@dataclass(frozen=True)
class Authenticated:
    department: str
    username: str
    password: str | None  # "digest", "text" or None (signature only)
    signed: bool
    tls: bool = False  # proven by the TLS client certificate


@dataclass(frozen=True)
class _Token:
    username: str
    password: str
    password_type: str
    nonce: bytes | None
    created: str | None


class WsseVerifier:
    """Thread-safe if its credential source and nonce cache are."""

    def __init__(
        self,
        credentials: CredentialSource,
        nonces: NonceCache,
        *,
        max_age_seconds: float = DEFAULT_WSSE_MAX_AGE_SECONDS,
        clock_skew_seconds: float = DEFAULT_WSSE_CLOCK_SKEW_SECONDS,
        authentication: str = DEFAULT_AUTHENTICATION,
        signature_timestamp: str = DEFAULT_SIGNATURE_TIMESTAMP,
        password_text_over_http: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if authentication not in ("registered", "required"):
            raise ValueError("authentication must be 'registered' or 'required'")
        if signature_timestamp not in ("optional", "required"):
            raise ValueError("signature_timestamp must be 'optional' or 'required'")
        self._timestamp_required = signature_timestamp == "required"
        self._text_over_http = password_text_over_http
        self._credentials = credentials
        self._nonces = nonces
        self._freshness = Freshness(max_age_seconds, clock_skew_seconds, clock)
        self._required = authentication == "required"
        self._clock = self._freshness.clock

    def verify(self, envelope: etree._Element, sender: str) -> Authenticated | None:
        """None: the sender has no credentials and authentication is not required."""
        tls = self.tls_credential(sender)
        registered = self.credentials_of(sender)
        if not registered:
            return None
        security = _security_header(envelope)
        token = _token(security) if security is not None else None
        if token is not None:
            return self._with_token(envelope, security, token, sender, tls)
        if tls is not None and not tls.secret_hash:
            return Authenticated(sender, tls.username, None, False, tls=True)
        if security is None or security.find(f"{{{DS}}}Signature") is None:
            raise NotAuthenticated(_nothing_sent(registered))
        return self._signature_only(envelope, security, registered, sender)

    def tls_credential(self, sender: str) -> StoredCredential | None:
        """The credential whose registered certificate the TLS client presented, if any;
        NotAuthorized when it belongs to another department than ``sender``."""
        presented = client_certificates.current()
        if presented is None:
            return None
        credential = self._credentials.by_certificate(presented)
        if credential is None:
            return None  # verified by the client CA but registered to nobody: WS-Security decides
        if credential.department != sender:
            raise NotAuthorized(
                f"the TLS client certificate is registered to {credential.department}, "
                f"which may not act for department {sender}"
            )
        return credential

    @property
    def credentials(self) -> CredentialSource:
        return self._credentials

    def credentials_of(self, sender: str) -> list[StoredCredential]:
        """The sender's active credentials; empty when it may pass unauthenticated."""
        registered = self._credentials.for_department(sender)
        # Revoking a department's last credential locks it out; it never opens it up.
        if not registered and (self._required or self._credentials.ever_registered(sender)):
            raise NotAuthenticated(f"department {sender} has no active credentials")
        return registered

    def _with_token(
        self,
        envelope: etree._Element,
        security: etree._Element | None,
        token: _Token,
        sender: str,
        tls: StoredCredential | None = None,
    ) -> Authenticated:
        credential = self._credentials.lookup(token.username)
        if credential is None or not credential.active:
            raise NotAuthenticated(f"unknown or revoked user {token.username}")
        if credential.department != sender:
            raise NotAuthenticated(f"user {token.username} may not act for department {sender}")
        method = self._check_password(credential, token)
        if tls is not None and tls.username == credential.username:
            # The TLS handshake proved the key of this credential's certificate.
            return Authenticated(sender, token.username, method, False, tls=True)
        signed = self._check_signature(envelope, security, credential)
        return Authenticated(sender, token.username, method, signed)

    def _signature_only(
        self,
        envelope: etree._Element,
        security: etree._Element | None,
        registered: list[StoredCredential],
        sender: str,
    ) -> Authenticated:
        certified = [c for c in registered if c.certificate_pem and not c.secret_hash]
        if not certified:
            raise NotAuthenticated("no wsse:UsernameToken in the wsse:Security header")
        failure: NotAuthenticated | None = None
        for credential in certified:
            try:
                self._check_signature(envelope, security, credential)
            except NotAuthenticated as error:
                failure = failure or error
                continue
            assert security is not None  # _check_signature needs it
            self._check_signed_once(security, credential.username)
            return Authenticated(sender, credential.username, None, True)
        assert failure is not None
        raise failure

    def _check_password(self, credential: StoredCredential, token: _Token) -> str:
        if token.password_type == PASSWORD_DIGEST:
            self._check_digest(credential, token)
            return "digest"
        if token.password_type == PASSWORD_TEXT:
            self._check_text(credential, token)
            return "text"
        raise NotAuthenticated(f"unsupported password type {token.password_type}")

    def _check_digest(self, credential: StoredCredential, token: _Token) -> None:
        if token.nonce is None or token.created is None:
            raise NotAuthenticated("PasswordDigest needs a wsse:Nonce and a wsu:Created")
        if credential.secret is None:
            raise NotAuthenticated(
                f"user {token.username} cannot use PasswordDigest here; use PasswordText over TLS"
            )
        created = self._freshness.check(token.created, "the UsernameToken")
        expected = _digest(token.nonce, token.created, credential.secret)
        if not hmac.compare_digest(expected, token.password.strip()):
            raise NotAuthenticated(f"wrong password digest for user {token.username}")
        self._remember(token, created)

    def _check_text(self, credential: StoredCredential, token: _Token) -> None:
        if not (self._text_over_http or transport_security.current()):
            raise NotAuthenticated(
                "PasswordText is accepted only over the hub's TLS: use PasswordDigest, "
                "or https (GOVHUB_ALLOW_PASSWORD_TEXT_OVER_HTTP for a test network or a TLS proxy)"
            )
        if token.nonce is None or token.created is None:
            raise NotAuthenticated("PasswordText needs a wsse:Nonce and a wsu:Created")
        created = self._freshness.check(token.created, "the UsernameToken")
        stored = credential.secret_hash
        if stored is None or not secret_hash.matches(token.password, stored):
            raise NotAuthenticated(f"wrong password for user {token.username}")
        self._remember(token, created)

    def _remember(self, token: _Token, created: datetime) -> None:
        assert token.nonce is not None
        expires = self._freshness.nonce_expiry(created)
        if not self._nonces.remember(token.username, token.nonce, expires, self._clock()):
            raise NotAuthenticated(f"replayed nonce from user {token.username}")

    def _check_signature(
        self,
        envelope: etree._Element,
        security: etree._Element | None,
        credential: StoredCredential,
    ) -> bool:
        if not credential.certificate_pem:
            return False
        if security is None:
            raise NotAuthenticated("the request is not signed: no wsse:Security header")
        verify_signature(envelope, security, credential.certificate_pem, self._clock())
        self._check_timestamp(security)
        return True

    def _check_signed_once(self, security: etree._Element, username: str) -> None:
        """A signature-only request's freshness: its signed wsu:Timestamp (required or not, as
        configured), and its signature spent like a nonce until the timestamp is stale."""
        timestamp = security.find(f"{{{WSU}}}Timestamp")
        expires = None if timestamp is None else timestamp.findtext(f"{{{WSU}}}Expires")
        if self._timestamp_required and not expires:
            raise NotAuthenticated(
                "a request signed without a UsernameToken needs a signed wsu:Timestamp "
                "with wsu:Created and wsu:Expires"
            )
        if timestamp is None:
            return  # optional, and absent: only the idempotency key stops a replay
        created = self._freshness.check(
            timestamp.findtext(f"{{{WSU}}}Created"), "the wsu:Timestamp"
        )
        expiry = self._freshness.nonce_expiry(created)
        if not self._nonces.remember(username, _signed_digests(security), expiry, self._clock()):
            raise NotAuthenticated(f"replayed signature from user {username}")

    def _check_timestamp(self, security: etree._Element) -> None:
        timestamp = security.find(f"{{{WSU}}}Timestamp")
        if timestamp is None:
            return
        self._freshness.check(timestamp.findtext(f"{{{WSU}}}Created"), "the wsu:Timestamp")
        expires = timestamp.findtext(f"{{{WSU}}}Expires")
        skew = self._freshness.skew
        if expires and parse_time(expires, "the wsu:Timestamp") < self._clock() - skew:
            raise NotAuthenticated("stale timestamp: the wsu:Timestamp has expired")


_TOKEN = "a wsse:UsernameToken"
_SIGNATURE = "a ds:Signature over the soap:Body"


def _nothing_sent(registered: list[StoredCredential]) -> str:
    """What would authenticate a request that carries neither a token nor a signature."""
    ways = []
    if any(c.secret_hash and not c.certificate_pem for c in registered):
        ways.append(_TOKEN)
    if any(c.certificate_pem and not c.secret_hash for c in registered):
        ways.append(_SIGNATURE)
    if not ways:  # every credential holds both: both are needed
        ways.append(f"{_TOKEN} and {_SIGNATURE}")
    neither = "the request carries neither a wsse:UsernameToken nor a ds:Signature"
    if len(ways) == 1:
        return f"{neither}: send {ways[0]} in a wsse:Security header"
    return f"{neither}; either would do: {' or '.join(ways)}, in a wsse:Security header"


def password_digest(nonce: bytes, created: str, secret: str) -> str:
    """Base64(SHA-1(nonce + created + password)), as the UsernameToken Profile defines it."""
    return _digest(nonce, created, secret)


def _digest(nonce: bytes, created: str, secret: str) -> str:
    raw = hashlib.sha1(nonce + created.encode("utf-8") + secret.encode("utf-8")).digest()
    return base64.b64encode(raw).decode("ascii")


def _signed_digests(security: etree._Element) -> bytes:
    """What identifies a signed request: the digests its signature covers (body, timestamp),
    decoded, so neither re-encoding nor an equally valid ECDSA signature looks new."""
    path = f"{{{DS}}}Signature/{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestValue"
    digests = b"".join(_b64("".join((v.text or "").split())) for v in security.iterfind(path))
    return b"signature:" + hashlib.sha256(digests).digest()


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise NotAuthenticated("bad signature: a DigestValue is not base64") from exc


def token_username(envelope: etree._Element) -> str | None:
    """The Username of the request's UsernameToken, if it has one (not yet verified)."""
    security = _security_header(envelope)
    token = _token(security) if security is not None else None
    return None if token is None else token.username


def claimed_sender(envelope: etree._Element, named: str = "") -> str:
    """Who a refused request says it is, for its audit entry: its token's username (not
    verified), else the department it ``named``, else "unknown"."""
    try:
        return token_username(envelope) or named or "unknown"
    except NotAuthenticated:
        return named or "unknown"


def _security_header(envelope: etree._Element) -> etree._Element | None:
    namespace = etree.QName(envelope).namespace
    if namespace not in SOAP_NAMESPACES:
        raise NotAuthenticated("not a SOAP envelope")
    header = envelope.find(f"{{{namespace}}}Header")
    if header is None:
        return None
    found = header.findall(f"{{{WSSE}}}Security")
    if len(found) > 1:
        raise NotAuthenticated("more than one wsse:Security header")
    return found[0] if found else None


def _token(security: etree._Element) -> _Token | None:
    tokens = security.findall(f"{{{WSSE}}}UsernameToken")
    if not tokens:
        return None
    if len(tokens) > 1:
        raise NotAuthenticated("more than one wsse:UsernameToken")
    token = tokens[0]
    username = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
    password = token.find(f"{{{WSSE}}}Password")
    if not username or password is None:
        raise NotAuthenticated("the wsse:UsernameToken needs a Username and a Password")
    return _Token(
        username=username,
        password=password.text or "",
        password_type=password.get("Type", PASSWORD_TEXT),
        nonce=_nonce(token.findtext(f"{{{WSSE}}}Nonce")),
        created=token.findtext(f"{{{WSU}}}Created"),
    )


def _nonce(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        nonce = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise NotAuthenticated("the wsse:Nonce is not base64") from exc
    if len(nonce) < 8:
        raise NotAuthenticated("the wsse:Nonce is shorter than 8 bytes")
    return nonce
