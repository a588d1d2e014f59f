"""Signature algorithms: SHA-1 (zeep's default) is refused, and a refusal for an algorithm or a
canonicalization the hub does not accept names it and says what to use instead. Requests
signed by zeep and by xmlsec for the hub's own WSDL, checked with a real credential store;
one through a running hub."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import xmlsec
import zeep
from hubstack import header, marriage, running_hub
from lxml import etree
from security_kit import (
    SHA256,
    KeyPair,
    make_key_pair,
    signed_wire,
    submit_envelope,
    write_hub_wsdl,
)
from zeep.wsse.signature import BinarySignature, Signature

from hub import xmlparse
from hub.errors import NotAuthenticated
from hub.security.credentials import CredentialStore
from hub.security.nonces import MemoryNonceCache
from hub.security.wsse import WSSE, Authenticated, WsseVerifier
from hub.store import Store

SENDER = "MARRIAGE_REGISTRY"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
C14N11 = "http://www.w3.org/2006/12/xml-c14n11"
ZEEP_HINT = "signature_method=xmlsec.constants.TransformRsaSha256"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> zeep.Client:
    return zeep.Client(str(write_hub_wsdl(tmp_path_factory.mktemp("wsdl") / "hub.wsdl")))


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_key_pair(tmp_path_factory.mktemp("keys"), "registry")


@pytest.fixture
def verifier(tmp_path: Path, registry: KeyPair) -> Iterator[WsseVerifier]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    credentials = CredentialStore(store.engine, iterations=1000)
    credentials.set_certificate(SENDER, registry.certificate_pem, actor="admin")
    yield WsseVerifier(credentials, MemoryNonceCache())
    store.dispose()


def refusal(verifier: WsseVerifier, envelope: etree._Element) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        verifier.verify(envelope, SENDER)
    assert caught.value.code == "Client.NotAuthenticated"
    return caught.value.message


def zeep_signed(client: zeep.Client, registry: KeyPair, **methods: Any) -> etree._Element:
    plugin = Signature(str(registry.key_file), str(registry.cert_file), **methods)
    return signed_wire(submit_envelope(client), plugin)


def xmlsec_signed(client: zeep.Client, registry: KeyPair, canonicalization: Any) -> etree._Element:
    """The Body signed with RSA-SHA256 and a SHA-256 digest, its SignedInfo canonicalized with
    ``canonicalization``: a correct signature the hub may still refuse for its algorithm."""
    envelope = submit_envelope(client)
    namespace = etree.QName(envelope).namespace
    body = envelope.find(f"{{{namespace}}}Body")
    assert body is not None
    body.set(f"{{{WSU}}}Id", f"id-{uuid.uuid4()}")
    header_element = envelope.find(f"{{{namespace}}}Header")
    if header_element is None:
        header_element = etree.Element(f"{{{namespace}}}Header")
        envelope.insert(0, header_element)
    security = etree.SubElement(header_element, f"{{{WSSE}}}Security")
    signature = xmlsec.template.create(
        envelope, canonicalization, xmlsec.constants.TransformRsaSha256
    )
    security.append(signature)
    reference = xmlsec.template.add_reference(
        signature, xmlsec.constants.TransformSha256, uri=f"#{body.get(f'{{{WSU}}}Id')}"
    )
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    context = xmlsec.SignatureContext()
    context.register_id(body, "Id", WSU)
    context.key = xmlsec.Key.from_file(str(registry.key_file), xmlsec.constants.KeyDataFormatPem)
    context.sign(signature)
    return xmlparse.parse(etree.tostring(envelope, encoding="UTF-8"))


@pytest.mark.parametrize("plugin", [Signature, BinarySignature])
def test_zeeps_default_rsa_sha1_signature_is_refused_and_told_how_to_sign_with_sha256(
    client: zeep.Client, verifier: WsseVerifier, registry: KeyPair, plugin: type[Signature]
) -> None:
    envelope = signed_wire(
        submit_envelope(client), plugin(str(registry.key_file), str(registry.cert_file))
    )
    message = refusal(verifier, envelope)
    assert "signature method http://www.w3.org/2000/09/xmldsig#rsa-sha1 uses SHA-1" in message
    assert ZEEP_HINT in message and "digest_method=xmlsec.constants.TransformSha256" in message


def test_a_sha1_digest_is_refused_even_under_an_rsa_sha256_signature(
    client: zeep.Client, verifier: WsseVerifier, registry: KeyPair
) -> None:
    envelope = zeep_signed(
        client,
        registry,
        signature_method=xmlsec.constants.TransformRsaSha256,
        digest_method=xmlsec.constants.TransformSha1,
    )
    message = refusal(verifier, envelope)
    assert "digest method http://www.w3.org/2000/09/xmldsig#sha1 uses SHA-1" in message


def test_a_c14n_11_signature_is_refused_naming_its_canonicalization(
    client: zeep.Client, verifier: WsseVerifier, registry: KeyPair
) -> None:
    envelope = xmlsec_signed(client, registry, xmlsec.constants.TransformInclC14N11)
    message = refusal(verifier, envelope)
    assert f"canonicalization {C14N11} is not accepted" in message
    assert "use exclusive C14N (http://www.w3.org/2001/10/xml-exc-c14n#)" in message


def test_sha256_signatures_with_either_canonicalization_are_accepted(
    client: zeep.Client, verifier: WsseVerifier, registry: KeyPair
) -> None:
    accepted = Authenticated(SENDER, SENDER, None, True)
    assert verifier.verify(zeep_signed(client, registry, **SHA256), SENDER) == accepted
    inclusive = xmlsec_signed(client, registry, xmlsec.constants.TransformInclC14N)
    assert verifier.verify(inclusive, SENDER) == accepted


@pytest.mark.slow
def test_a_running_hub_answers_a_zeep_sha1_submit_with_a_fault_naming_sha1(
    tmp_path: Path, registry: KeyPair
) -> None:
    with running_hub(tmp_path) as stack:
        credentials = CredentialStore(stack.runtime.store.engine)
        credentials.set_certificate(SENDER, registry.certificate_pem, actor="admin")
        hub = stack.client()
        envelope = hub.create_message(hub.service, "Submit", header=header(), message=marriage())
        envelope, _ = Signature(str(registry.key_file), str(registry.cert_file)).apply(envelope, {})
        answer = requests.post(
            stack.soap_url,
            data=etree.tostring(envelope),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=10,
        )
    fault = xmlparse.parse(answer.content)
    assert (fault.findtext(".//faultcode") or "").endswith("Client.NotAuthenticated")
    text = fault.findtext(".//faultstring") or ""
    assert "rsa-sha1 uses SHA-1" in text and ZEEP_HINT in text
