"""The hub signs its SOAP replies with its own key, in the WS-Security X.509 shape zeep's
``Signature`` reads: a wsse:Security header holding a wsu:Timestamp and a ds:Signature over
the soap:Body and the timestamp (exclusive C14N, SHA-256), the certificate in a
wsse:SecurityTokenReference.

    signer = ReplySigner.from_files(settings.signing_key_file, settings.signing_cert_file)
    if request_is_signed(request_envelope):
        signer.sign(reply_envelope)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from hub.errors import ConfigurationError
from hub.security.signature import DS, WSU
from hub.security.wsse import SOAP_NAMESPACES, WSSE

if TYPE_CHECKING:
    from xmlsec.constants import __Transform as Transform

# How long a signed reply's wsu:Timestamp says it is fresh.
DEFAULT_REPLY_LIFETIME_SECONDS = 300.0
_ID = f"{{{WSU}}}Id"


def request_is_signed(envelope: object) -> bool:
    """True if ``envelope`` carries a ds:Signature in its wsse:Security header."""
    if not isinstance(envelope, etree._Element) or not isinstance(envelope.tag, str):
        return False
    namespace = etree.QName(envelope).namespace
    if namespace not in SOAP_NAMESPACES:
        return False
    path = f"{{{namespace}}}Header/{{{WSSE}}}Security/{{{DS}}}Signature"
    return envelope.find(path) is not None


class ReplySigner:
    """Thread-safe: every reply gets its own xmlsec key and context."""

    def __init__(
        self,
        key_pem: bytes,
        cert_pem: bytes,
        *,
        lifetime_seconds: float = DEFAULT_REPLY_LIFETIME_SECONDS,
    ) -> None:
        self._method = _signature_method(key_pem, cert_pem)
        self._key_pem = key_pem
        self._cert_pem = cert_pem
        self._lifetime = timedelta(seconds=lifetime_seconds)

    @classmethod
    def from_files(cls, key_file: str | Path, cert_file: str | Path) -> ReplySigner:
        try:
            return cls(Path(key_file).read_bytes(), Path(cert_file).read_bytes())
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read the hub signing key or certificate: {exc}"
            ) from exc

    def sign(self, envelope: etree._Element) -> None:
        """Add a wsse:Security header signing the Body and a fresh wsu:Timestamp."""
        namespace = etree.QName(envelope).namespace
        body = envelope.find(f"{{{namespace}}}Body")
        if body is None:
            raise ValueError("a SOAP reply without a Body cannot be signed")
        security = etree.SubElement(_header(envelope, namespace), f"{{{WSSE}}}Security")
        timestamp = self._timestamp(security)
        signature = xmlsec.template.create(
            envelope, xmlsec.constants.TransformExclC14N, self._method
        )
        key_info = xmlsec.template.ensure_key_info(signature)
        x509_data = xmlsec.template.add_x509_data(key_info)
        xmlsec.template.x509_data_add_issuer_serial(x509_data)
        xmlsec.template.x509_data_add_certificate(x509_data)
        security.insert(0, signature)
        context = xmlsec.SignatureContext()
        context.key = self._key()
        for node in (body, timestamp):
            _reference(context, signature, node)
        context.sign(signature)
        # WS-Security wants the X509Data inside a SecurityTokenReference; xmlsec fills it in
        # only where it understands it, so it moves after signing (KeyInfo is not signed).
        etree.SubElement(key_info, f"{{{WSSE}}}SecurityTokenReference").append(x509_data)

    def _key(self) -> xmlsec.Key:
        key = xmlsec.Key.from_memory(self._key_pem, xmlsec.constants.KeyDataFormatPem, None)
        key.load_cert_from_memory(self._cert_pem, xmlsec.constants.KeyDataFormatPem)
        return key

    def _timestamp(self, security: etree._Element) -> etree._Element:
        now = datetime.now(UTC).replace(microsecond=0)
        timestamp = etree.SubElement(security, f"{{{WSU}}}Timestamp")
        etree.SubElement(timestamp, f"{{{WSU}}}Created").text = _time(now)
        etree.SubElement(timestamp, f"{{{WSU}}}Expires").text = _time(now + self._lifetime)
        return timestamp


def _header(envelope: etree._Element, namespace: str | None) -> etree._Element:
    header = envelope.find(f"{{{namespace}}}Header")
    if header is None:
        header = etree.Element(f"{{{namespace}}}Header")
        envelope.insert(0, header)
    return header


def _reference(
    context: xmlsec.SignatureContext, signature: etree._Element, node: etree._Element
) -> None:
    node_id = node.get(_ID) or f"id-{uuid.uuid4()}"
    node.set(_ID, node_id)
    context.register_id(node, "Id", WSU)
    reference = xmlsec.template.add_reference(
        signature, xmlsec.constants.TransformSha256, uri=f"#{node_id}"
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _signature_method(key_pem: bytes, cert_pem: bytes) -> Transform:
    """The signature algorithm for the key; the key and the certificate must belong together."""
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
        certificate = x509.load_pem_x509_certificate(cert_pem)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"the hub signing key or certificate is unreadable (PEM, unencrypted key): {exc}"
        ) from exc
    if not _same_public_key(key.public_key(), certificate.public_key()):
        raise ConfigurationError("the hub signing key does not match the signing certificate")
    if isinstance(key, rsa.RSAPrivateKey):
        return xmlsec.constants.TransformRsaSha256
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return xmlsec.constants.TransformEcdsaSha256
    raise ConfigurationError("the hub signing key must be an RSA or EC key")


def _same_public_key(first: object, second: object) -> bool:
    def der(key: object) -> bytes:
        public_bytes = getattr(key, "public_bytes", None)
        if public_bytes is None:
            return b""
        encoded: bytes = public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return encoded

    return der(first) == der(second) != b""
