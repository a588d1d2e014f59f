"""Test helpers for the security tests: our WSDL for zeep, X.509 keys, zeep-built requests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import xmlsec
import zeep
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from spyne.server.wsgi import WsgiApplication
from zeep.wsse.signature import Signature, verify_envelope
from zeep.wsse.username import UsernameToken

from hub import xmlparse
from hub.api.soap_service import build_soap_application
from hub.identity import make_number
from hub.security.wsse import PASSWORD_TEXT, WSSE


def write_hub_wsdl(path: Path) -> Path:
    """The hub's own WSDL, as GET /soap?wsdl serves it (no ingress needed to describe it)."""
    app = WsgiApplication(build_soap_application(None, None, 10_000_000))  # type: ignore[arg-type]
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "QUERY_STRING": "wsdl"}
    environ |= {"PATH_INFO": "/soap", "HTTP_HOST": "hub.test"}
    setup_testing_defaults(environ)
    path.write_bytes(b"".join(app(environ, lambda *_: None)))
    return path


@dataclass(frozen=True)
class KeyPair:
    key_file: Path
    cert_file: Path

    @property
    def certificate_pem(self) -> bytes:
        return self.cert_file.read_bytes()


def make_key_pair(folder: Path, name: str, *, days: int = 30) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    pair = KeyPair(folder / f"{name}.key", folder / f"{name}.pem")
    pair.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pair.cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return pair


def submit_envelope(client: zeep.Client, sender: str = "MARRIAGE_REGISTRY") -> etree._Element:
    """A Submit request exactly as zeep builds it for our WSDL."""
    header = {
        "messageId": str(uuid.uuid4()),
        "sender": sender,
        "messageType": "MarriageRegistered",
        "schemaVersion": "1.0",
        "idempotencyKey": uuid.uuid4().hex,
        "purpose": "marriage registration",
        "sentAt": datetime.now(UTC),
    }
    record = {
        "registrationNumber": "J110105-20260520-0001",
        "registeredOn": "2026-05-20",
        "registrationOffice": "110105",
        "partyA": {"identityNumber": make_number("11010519900307", "131"), "name": "张伟"},
        "partyB": {"identityNumber": make_number("11010819920815", "242"), "name": "王芳"},
        "maritalStatus": "20",
    }
    message = {"MarriageRegistered": record}
    envelope: etree._Element = client.create_message(
        client.service, "Submit", header=header, message=message
    )
    return envelope


# The hub refuses SHA-1, zeep's default: every zeep Signature here signs with SHA-256.
SHA256: dict[str, Any] = {
    "signature_method": xmlsec.constants.TransformRsaSha256,
    "digest_method": xmlsec.constants.TransformSha256,
}


def signed_wire(envelope: etree._Element, *plugins: Any) -> etree._Element:
    """Apply zeep's wsse plugins, serialise, and parse back with the hub's hardened parser."""
    for plugin in plugins:
        envelope, _ = plugin.apply(envelope, {})
    return xmlparse.parse(etree.tostring(envelope, encoding="UTF-8", xml_declaration=True))


class HubSignature(Signature):  # type: ignore[misc]
    """zeep's Signature, checking the reply with the hub's certificate (as docs/security.md
    tells departments to): zeep 4.3 checks it with the client's own certificate."""

    def __init__(self, key_file: Path, cert_file: Path, hub_cert_file: Path) -> None:
        super().__init__(str(key_file), str(cert_file), **SHA256)
        self.hub_cert_file = str(hub_cert_file)

    def verify(self, envelope: etree._Element) -> etree._Element:
        verify_envelope(envelope, self.hub_cert_file)
        return envelope


class PasswordTextToken(UsernameToken):  # type: ignore[misc]
    """A UsernameToken carrying the secret itself (PasswordText) with a Nonce and a Created,
    as the hub requires; zeep's own PasswordText token has neither."""

    def __init__(self, username: str, password: str, **options: Any) -> None:
        super().__init__(username, password, use_digest=True, **options)

    def apply(self, envelope: etree._Element, headers: Any) -> tuple[etree._Element, Any]:
        envelope, headers = super().apply(envelope, headers)
        password = envelope.find(f".//{{{WSSE}}}UsernameToken/{{{WSSE}}}Password")
        password.set("Type", PASSWORD_TEXT)
        password.text = self.password
        return envelope, headers
