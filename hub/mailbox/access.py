"""Who reads a mailbox: only its department, proven as for Submit (hub/security/wsse.py) by
its UsernameToken or its registered TLS client certificate. Unlike Submit, a department
without credentials cannot pass unauthenticated: there would be no one to be."""

from __future__ import annotations

from lxml import etree

from hub.errors import NotAuthenticated
from hub.security import client_certificates
from hub.security.wsse import WsseVerifier, token_username

_NEEDS_CREDENTIALS = (
    "a mailbox is read only by its department, authenticated with its WS-Security "
    "UsernameToken or its registered TLS client certificate"
)


def mailbox_owner(verifier: WsseVerifier | None, envelope: etree._Element) -> str:
    """The authenticated department asking; NotAuthenticated if none is proven."""
    if verifier is None:
        raise NotAuthenticated(_NEEDS_CREDENTIALS)
    department = _claimed_department(verifier, envelope)
    if verifier.verify(envelope, department) is None:  # no credentials registered
        raise NotAuthenticated(f"{_NEEDS_CREDENTIALS}; {department} has none")
    return department


def _claimed_department(verifier: WsseVerifier, envelope: etree._Element) -> str:
    presented = client_certificates.current()
    if presented is not None:
        by_certificate = verifier.credentials.by_certificate(presented)
        if by_certificate is not None:
            return by_certificate.department
    username = token_username(envelope)
    if username is None:
        raise NotAuthenticated(_NEEDS_CREDENTIALS)
    credential = verifier.credentials.lookup(username)
    if credential is None or not credential.active:
        raise NotAuthenticated(f"unknown or revoked user {username}")
    return credential.department
