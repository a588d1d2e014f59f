"""Freshness of requests signed without a UsernameToken: a signed wsu:Timestamp (required
with ``signature_timestamp = required``) and each signature accepted once within the window.
Requests built and signed by zeep, checked against certificates in a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import zeep
from hubstack import header, marriage, running_hub
from lxml import etree
from security_kit import (
    SHA256,
    HubSignature,
    KeyPair,
    make_key_pair,
    signed_wire,
    submit_envelope,
    write_hub_wsdl,
)
from zeep.exceptions import Fault
from zeep.wsse import Compose
from zeep.wsse.signature import Signature
from zeep.wsse.utils import WSU, get_security_header

from hub import xmlparse
from hub.errors import NotAuthenticated
from hub.security.credentials import CredentialStore
from hub.security.nonces import MemoryNonceCache
from hub.security.wsse import Authenticated, WsseVerifier
from hub.store import Store

SENDER = "MARRIAGE_REGISTRY"


class Timestamp:
    """A zeep wsse plugin adding a wsu:Timestamp for the Signature after it to sign (zeep's
    Signature signs one if present but adds none); as docs/security.md shows departments."""

    def __init__(self, seconds: float = 300, created: datetime | None = None, expires: bool = True):
        self.seconds, self.created, self.expires = seconds, created, expires

    def apply(self, envelope: etree._Element, headers: dict[str, Any]) -> tuple[Any, Any]:
        created = self.created or datetime.now(UTC)
        stamp = WSU.Timestamp(WSU.Created(_time(created)))
        if self.expires:
            stamp.append(WSU.Expires(_time(created + timedelta(seconds=self.seconds))))
        get_security_header(envelope).append(stamp)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> etree._Element:
        return envelope


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> zeep.Client:
    return zeep.Client(str(write_hub_wsdl(tmp_path_factory.mktemp("wsdl") / "hub.wsdl")))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"), "registry")


@pytest.fixture
def credentials(tmp_path: Path, registry: KeyPair) -> Iterator[CredentialStore]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    credentials = CredentialStore(store.engine)
    credentials.set_certificate(SENDER, registry.certificate_pem, actor="admin")
    yield credentials
    store.dispose()


def verifier(credentials: CredentialStore, rule: str = "required") -> WsseVerifier:
    return WsseVerifier(credentials, MemoryNonceCache(), signature_timestamp=rule)


def signed(client: zeep.Client, registry: KeyPair, *plugins: Any) -> etree._Element:
    signature = Signature(str(registry.key_file), str(registry.cert_file), **SHA256)
    return signed_wire(submit_envelope(client), *plugins, signature)


def refusal(check: WsseVerifier, envelope: etree._Element) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        check.verify(envelope, SENDER)
    return caught.value.message


def test_a_signature_with_a_signed_fresh_timestamp_authenticates(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    envelope = signed(client, registry, Timestamp())
    assert verifier(credentials).verify(envelope, SENDER) == Authenticated(
        SENDER, SENDER, None, True
    )


def test_a_signature_without_a_timestamp_is_refused_when_timestamps_are_required(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    message = refusal(verifier(credentials), signed(client, registry))
    assert "needs a signed wsu:Timestamp" in message


def test_a_timestamp_without_expires_is_refused_when_timestamps_are_required(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    envelope = signed(client, registry, Timestamp(expires=False))
    assert "wsu:Expires" in refusal(verifier(credentials), envelope)


def test_a_timestamp_created_too_long_ago_is_stale(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    old = datetime.now(UTC) - timedelta(seconds=600)
    envelope = signed(client, registry, Timestamp(seconds=3600, created=old))
    assert "stale timestamp" in refusal(verifier(credentials), envelope)


def test_a_replayed_signed_request_is_refused_while_its_timestamp_is_fresh(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    check = verifier(credentials, "optional")  # timestamped signatures are spent either way
    wire = etree.tostring(signed(client, registry, Timestamp()))
    check.verify(xmlparse.parse(wire), SENDER)
    assert "replayed signature" in refusal(check, xmlparse.parse(wire))


def test_a_timestamp_added_after_signing_is_refused_as_unsigned(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    envelope = signed(client, registry)
    Timestamp().apply(envelope, {})
    assert "wsu:Timestamp is not signed" in refusal(verifier(credentials), envelope)


def test_optional_timestamps_still_accept_zeeps_plain_signature(
    client: zeep.Client, registry: KeyPair, credentials: CredentialStore
) -> None:
    envelope = signed(client, registry)
    assert verifier(credentials, "optional").verify(envelope, SENDER) is not None


def test_the_setting_reaches_a_running_hub(tmp_path: Path, registry: KeyPair) -> None:
    hub_keys = make_key_pair(tmp_path, "hub")
    settings = {"signing_key_file": str(hub_keys.key_file)}
    settings |= {"signing_cert_file": str(hub_keys.cert_file), "signature_timestamp": "required"}
    with running_hub(tmp_path, **settings) as stack:
        engine = stack.runtime.store.engine
        CredentialStore(engine).set_certificate(SENDER, registry.certificate_pem, actor="admin")
        signature = HubSignature(registry.key_file, registry.cert_file, hub_keys.cert_file)
        plain = zeep.Client(f"{stack.soap_url}?wsdl", wsse=signature)
        with pytest.raises(Fault) as refused:
            plain.service.Submit(header=header(), message=marriage())
        assert "needs a signed wsu:Timestamp" in refused.value.message
        stamped = zeep.Client(f"{stack.soap_url}?wsdl", wsse=Compose([Timestamp(), signature]))
        assert stamped.service.Submit(header=header(), message=marriage()).state == "accepted"
