"""XML Signature (WS-Security X.509) over the soap:Body, verified with xmlsec against a
registered certificate. Guards against signature wrapping: the referenced Body must be the
envelope's one Body, ids must be unique, and only C14N transforms are allowed; SHA-1 and any
other algorithm not accepted is refused by name (hub/security/signature_algorithms.py)."""

from __future__ import annotations

from datetime import datetime

import xmlsec
from cryptography import x509
from lxml import etree

from hub.errors import NotAuthenticated
from hub.security.signature_algorithms import (
    CANONICALIZATIONS,
    DIGESTS,
    REFERENCE_TRANSFORMS,
    SIGNATURE_METHODS,
    check_algorithms,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_ID = f"{{{WSU}}}Id"
_REFERENCE_TRANSFORMS = REFERENCE_TRANSFORMS + DIGESTS
_SIGNATURE_TRANSFORMS = CANONICALIZATIONS + SIGNATURE_METHODS


def verify_signature(
    envelope: etree._Element, security: etree._Element, certificate_pem: str, now: datetime
) -> None:
    """Raise NotAuthenticated unless a ds:Signature in ``security`` signs the envelope's Body
    (and its wsu:Timestamp, if any) with the key of ``certificate_pem``."""
    _check_certificate_dates(certificate_pem, now)
    signature = security.find(f"{{{DS}}}Signature")
    if signature is None:
        raise NotAuthenticated("the request is not signed: no ds:Signature in wsse:Security")
    check_algorithms(signature)
    referenced = _referenced_ids(signature)
    _require_signed(_one_body(envelope), referenced, "the soap:Body")
    timestamp = security.find(f"{{{WSU}}}Timestamp")
    if timestamp is not None:
        _require_signed(timestamp, referenced, "the wsu:Timestamp")
    context = _context(envelope, referenced, certificate_pem)
    try:
        context.verify(signature)
    except xmlsec.Error as exc:
        raise NotAuthenticated(
            "bad signature: it does not verify with the registered certificate"
        ) from exc


def _context(
    envelope: etree._Element, referenced: list[str], certificate_pem: str
) -> xmlsec.SignatureContext:
    context = xmlsec.SignatureContext()
    for node_id in referenced:
        context.register_id(_by_id(envelope, node_id), "Id", WSU)
    for transform in _REFERENCE_TRANSFORMS:
        context.enable_reference_transform(transform)
    for transform in _SIGNATURE_TRANSFORMS:
        context.enable_signature_transform(transform)
    context.key = xmlsec.Key.from_memory(
        certificate_pem.encode("ascii"), xmlsec.constants.KeyDataFormatCertPem, None
    )
    return context


def _referenced_ids(signature: etree._Element) -> list[str]:
    ids = []
    for reference in signature.iterfind(f"{{{DS}}}SignedInfo/{{{DS}}}Reference"):
        uri = reference.get("URI") or ""
        if not uri.startswith("#") or len(uri) < 2:
            raise NotAuthenticated("bad signature: only same-document #id references are allowed")
        ids.append(uri[1:])
    if not ids:
        raise NotAuthenticated("bad signature: it references nothing")
    return ids


def _by_id(envelope: etree._Element, node_id: str) -> etree._Element:
    found = [e for e in envelope.iter() if isinstance(e.tag, str) and e.get(_ID) == node_id]
    if len(found) != 1:
        raise NotAuthenticated(f"bad signature: id {node_id!r} is not on exactly one element")
    return found[0]


def _one_body(envelope: etree._Element) -> etree._Element:
    namespace = etree.QName(envelope).namespace
    bodies = envelope.findall(f"{{{namespace}}}Body")
    if len(bodies) != 1:
        raise NotAuthenticated("bad signature: the envelope must have exactly one soap:Body")
    return bodies[0]


def _require_signed(element: etree._Element, referenced: list[str], what: str) -> None:
    if element.get(_ID) not in referenced:
        raise NotAuthenticated(f"bad signature: {what} is not signed")


def _check_certificate_dates(certificate_pem: str, now: datetime) -> None:
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
    if now < certificate.not_valid_before_utc:
        raise NotAuthenticated("the registered certificate is not valid yet")
    if now > certificate.not_valid_after_utc:
        raise NotAuthenticated("the registered certificate has expired")
