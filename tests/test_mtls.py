"""Mutual TLS in the hub itself: `govhub serve` with a certificate, key and client CA runs
cheroot; a client certificate registered to a department authenticates that department, and
only that one. Real TLS server on a free port, real zeep and requests clients."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import zeep
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hubstack import header, marriage
from zeep.exceptions import Fault
from zeep.transports import Transport

from hub.config import Settings
from hub.errors import ConfigurationError
from hub.runtime import HubRuntime
from hub.security.credentials import CredentialStore
from hub.security.tls import TlsFiles
from hub.webserver import Server, make_server


@dataclass(frozen=True)
class Issued:
    cert_file: Path
    key_file: Path

    @property
    def pair(self) -> tuple[str, str]:
        return str(self.cert_file), str(self.key_file)


class CertificateAuthority:
    """A certificate authority made in the test: it issues the server's and clients' certs."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        self.cert = (
            _builder(self.name, self.name, self.key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_CA_KEY_USAGE, critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.cert_file = folder / f"{name}.pem"
        self.cert_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, *, server: bool = False) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        # Python 3.13 verifies strictly (RFC 5280): an issued certificate names its issuer's key.
        builder = _builder(subject, self.name, key.public_key(), datetime.now(UTC)).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
            critical=False,
        )
        if server:
            address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
            builder = builder.add_extension(x509.SubjectAlternativeName([address]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        issued = Issued(self.folder / f"{common_name}.pem", self.folder / f"{common_name}.key")
        issued.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return issued


_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
    )


@dataclass
class TlsHub:
    runtime: HubRuntime
    server: Server
    server_ca: Path
    clients: dict[str, Issued]

    def session(self, client: str | None) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would override session.verify
        session.verify = str(self.server_ca)
        if client is not None:
            session.cert = self.clients[client].pair
        return session

    def zeep_client(self, client: str) -> zeep.Client:
        transport = Transport(session=self.session(client))
        return zeep.Client(f"{self.server.url}/soap?wsdl", transport=transport)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsHub]:
    folder = tmp_path_factory.mktemp("mtls")
    server_ca = CertificateAuthority(folder, "server-ca")
    client_ca = CertificateAuthority(folder, "department-ca")
    served = server_ca.issue("hub", server=True)
    clients = {name: client_ca.issue(name) for name in ("registry", "tax", "stranger")}
    settings = Settings(
        data_dir=folder / "hub",
        tls_cert_file=str(served.cert_file),
        tls_key_file=str(served.key_file),
        tls_client_ca_file=str(client_ca.cert_file),
    )
    runtime = HubRuntime(settings)
    credentials = CredentialStore(runtime.store.engine)
    for department, client in (("MARRIAGE_REGISTRY", "registry"), ("TAX", "tax")):
        pem = clients[client].cert_file.read_bytes()
        credentials.set_certificate(department, pem, actor="test")
    server = make_server(runtime.wsgi_app(), "127.0.0.1", 0, TlsFiles.from_settings(settings))
    server.start()
    try:
        yield TlsHub(runtime, server, server_ca.cert_file, clients)
    finally:
        server.stop()
        runtime.close()


def test_a_client_without_a_certificate_is_refused_in_the_tls_handshake(hub: TlsHub) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        hub.session(None).get(f"{hub.server.url}/health", timeout=10)


def test_a_department_certificate_submits_as_that_department(hub: TlsHub) -> None:
    client = hub.zeep_client("registry")
    receipt = client.service.Submit(header=header(), message=marriage())
    assert receipt.state == "accepted" and receipt.receivers == ["SOCIAL_SECURITY", "TAX"]
    status = client.service.GetStatus(receipt.messageId)
    assert status.sender == "MARRIAGE_REGISTRY"


def test_a_department_certificate_may_not_submit_as_another_department(hub: TlsHub) -> None:
    client = hub.zeep_client("tax")
    with pytest.raises(Fault) as refused:
        client.service.Submit(header=header(sender="MARRIAGE_REGISTRY"), message=marriage())
    assert refused.value.code.endswith("Client.NotAuthorized")
    assert "registered to TAX" in refused.value.message


def test_a_certificate_registered_to_nobody_still_needs_ws_security(hub: TlsHub) -> None:
    client = hub.zeep_client("stranger")
    with pytest.raises(Fault) as refused:
        client.service.Submit(header=header(), message=marriage())
    assert refused.value.code.endswith("Client.NotAuthenticated")


def test_getstatus_answers_a_receivers_certificate(hub: TlsHub) -> None:
    receipt = hub.zeep_client("registry").service.Submit(header=header(), message=marriage())
    status = hub.zeep_client("tax").service.GetStatus(receipt.messageId)
    assert status.messageId == receipt.messageId


def test_a_native_push_with_another_departments_certificate_is_forbidden(hub: TlsHub) -> None:
    answer = hub.session("registry").post(
        f"{hub.server.url}/native/TAX/api/v1/address-changes",
        data=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "Client.NotAuthorized"


def test_tls_needs_both_a_certificate_and_a_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="both"):
        TlsFiles.from_settings(Settings(tls_cert_file=str(tmp_path / "hub.pem")))
    assert TlsFiles.from_settings(Settings()) is None
