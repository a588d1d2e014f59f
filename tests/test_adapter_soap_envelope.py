"""What a SOAP department relies on in the envelope the hub posts: the Body holds exactly the
native document, the SOAPAction / action parameter, the charset and bytes of the department's
encoding, the IdempotencyKey header, the UsernameToken and the signature. The envelope is
built without zeep's objects (adapters/soap_envelope.py); these pin what zeep sent before."""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from department_fakes import department_fake
from fixtures.adapters.samples import (
    ENDPOINT,
    HY,
    SI,
    ack,
    address_change,
    department,
    huizhi,
    residence_update,
)
from lxml import etree
from security_kit import KeyPair, make_key_pair

from adapters.base import OutboundDelivery
from adapters.soap import SoapAdapter
from hub import xmlparse
from hub.departments import DepartmentConfig
from hub.resources import HEADER_NAMESPACE
from hub.security.reply_signing import ReplySigner
from hub.security.signature import DS, WSU
from hub.security.wsse import WSSE, password_digest
from mock_departments.runner import MockDepartments, start_mock_departments

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
KEY = "J110105-20260520-0001"
SI_ACTION = "http://si.example.gov.cn/service/2024/UpdateResidence"
HY_ACTION = "urn:mz:hydj:2019/JieShouDiZhiBianGeng"


@pytest.fixture
def fake() -> Iterator[responses.RequestsMock]:
    with department_fake() as mock:
        mock.post(ENDPOINT, body=ack(), content_type="application/soap+xml")
        yield mock


def to_social(document: etree._Element | None = None, key: str = KEY) -> OutboundDelivery:
    return OutboundDelivery(
        "SOCIAL_SECURITY",
        "AddressChanged",
        "m-1",
        key,
        residence_update() if document is None else document,
    )


def to_marriage(document: etree._Element) -> OutboundDelivery:
    return OutboundDelivery("MARRIAGE_REGISTRY", "AddressChanged", "m-1", KEY, document)


def posted(fake: responses.RequestsMock, index: int = 0) -> tuple[bytes, dict[str, str]]:
    request = fake.calls[index].request
    assert isinstance(request.body, bytes)
    return request.body, dict(request.headers)


def part(envelope: etree._Element, name: str) -> etree._Element:
    found = envelope.find(f"{{{etree.QName(envelope).namespace}}}{name}")
    assert found is not None, f"no soap:{name}"
    return found


def elements(parent: etree._Element) -> list[etree._Element]:
    return [child for child in parent if isinstance(child.tag, str)]


def same_xml(first: etree._Element, second: etree._Element) -> bool:
    """Same names (with namespaces), attributes, text and children; prefixes and layout
    whitespace do not matter."""

    def shape(element: etree._Element) -> object:
        children = [shape(child) for child in elements(element)]
        return (element.tag, sorted(element.attrib.items()), (element.text or "").strip(), children)

    return shape(first) == shape(second)


def test_the_body_holds_exactly_the_native_document_with_its_namespace_and_values(
    fake: responses.RequestsMock,
) -> None:
    document = residence_update()
    expected = copy.deepcopy(document)
    social = SoapAdapter(department("SOCIAL_SECURITY"))
    social.deliver(to_social(document))
    social.close()

    body = part(xmlparse.parse(posted(fake)[0]), "Body")
    (payload,) = elements(body)
    assert payload.tag == f"{{{SI}}}ResidenceUpdate"
    assert same_xml(payload, expected)


def test_a_soap_11_department_gets_text_xml_and_the_wsdls_soapaction_quoted(
    fake: responses.RequestsMock,
) -> None:
    fake.replace(responses.POST, ENDPOINT, body=huizhi(), content_type="text/xml")
    marriage = SoapAdapter(department("MARRIAGE_REGISTRY"))
    marriage.deliver(to_marriage(address_change()))
    marriage.close()

    body, headers = posted(fake)
    assert headers["SOAPAction"] == f'"{HY_ACTION}"'
    assert headers["Content-Type"] == "text/xml; charset=GB18030"
    assert xmlparse.parse(body).tag == f"{{{SOAP11}}}Envelope"


def test_a_soap_12_department_gets_the_action_in_the_content_type_as_zeep_sends_it(
    fake: responses.RequestsMock,
) -> None:
    social = SoapAdapter(department("SOCIAL_SECURITY"))
    social.deliver(to_social())
    social.close()

    body, headers = posted(fake)
    assert headers["Content-Type"] == f'application/soap+xml; charset=UTF-8; action="{SI_ACTION}"'
    assert headers["SOAPAction"] == f'"{SI_ACTION}"'  # zeep sends it for 1.2 as well
    assert xmlparse.parse(body).tag == f"{{{SOAP12}}}Envelope"


def test_a_gb18030_department_gets_gb18030_bytes_that_declare_their_encoding(
    fake: responses.RequestsMock,
) -> None:
    fake.replace(responses.POST, ENDPOINT, body=huizhi(), content_type="text/xml")
    document = address_change()
    expected = copy.deepcopy(document)
    marriage = SoapAdapter(department("MARRIAGE_REGISTRY"))
    marriage.deliver(to_marriage(document))
    marriage.close()

    body, _ = posted(fake)
    assert body.startswith(b"<?xml version='1.0' encoding='GB18030'?>")
    text = body.decode("gb18030")  # every byte is GB18030: this would raise otherwise
    assert "北京市朝阳区建国路1号" in text and "张三" in text
    (payload,) = elements(part(xmlparse.parse(body), "Body"))
    assert payload.tag == f"{{{HY}}}DiZhiBianGeng"
    assert same_xml(payload, expected)


def test_the_idempotency_key_is_the_headers_only_entry_without_credentials(
    fake: responses.RequestsMock,
) -> None:
    social = SoapAdapter(department("SOCIAL_SECURITY"))
    social.deliver(to_social())
    social.close()

    (key,) = elements(part(xmlparse.parse(posted(fake)[0]), "Header"))
    assert key.tag == f"{{{HEADER_NAMESPACE}}}IdempotencyKey"
    assert key.text == KEY


def test_each_delivery_carries_its_own_key_in_a_fresh_envelope(
    fake: responses.RequestsMock,
) -> None:
    fake.post(ENDPOINT, body=ack(), content_type="application/soap+xml")
    social = SoapAdapter(department("SOCIAL_SECURITY"))
    social.deliver(to_social(key="first"))
    social.deliver(to_social(key="second"))
    social.close()

    keys = [
        xmlparse.parse(posted(fake, i)[0]).findtext(f".//{{{HEADER_NAMESPACE}}}IdempotencyKey")
        for i in (0, 1)
    ]
    assert keys == ["first", "second"]


def with_credentials(monkeypatch: pytest.MonkeyPatch, **changes: object) -> DepartmentConfig:
    monkeypatch.setenv("SI_HUB_CREDENTIALS", "govhub:s3cret")
    config = department("SOCIAL_SECURITY", **changes)
    return replace(config, credentials="env:SI_HUB_CREDENTIALS")


def username_token(envelope: etree._Element) -> etree._Element:
    token = part(envelope, "Header").find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
    assert token is not None, "no wsse:Security/wsse:UsernameToken in the soap:Header"
    return token


def test_credentials_add_a_username_token_a_department_can_check_with_the_secret(
    fake: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.post(ENDPOINT, body=ack(), content_type="application/soap+xml")
    social = SoapAdapter(with_credentials(monkeypatch))
    social.deliver(to_social(key="first"))
    social.deliver(to_social(key="second"))
    social.close()

    nonces = []
    for index in (0, 1):
        token = username_token(xmlparse.parse(posted(fake, index)[0]))
        nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "")
        created = token.findtext(f"{{{WSU}}}Created") or ""
        assert token.findtext(f"{{{WSSE}}}Username") == "govhub"
        assert token.findtext(f"{{{WSSE}}}Password") == password_digest(nonce, created, "s3cret")
        nonces.append(nonce)
    assert nonces[0] != nonces[1]  # a fresh nonce (and created) for every call


@pytest.fixture
def hub_keys(tmp_path: Path) -> KeyPair:
    return make_key_pair(tmp_path, "hub-signing")


def signing(config: DepartmentConfig, keys: KeyPair) -> SoapAdapter:
    signed = SoapAdapter(replace(config, options={**config.options, "sign_deliveries": True}))
    signed.use_signer(ReplySigner.from_files(keys.key_file, keys.cert_file))
    return signed


def test_a_signed_delivery_with_credentials_has_one_security_header_with_both(
    fake: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, hub_keys: KeyPair
) -> None:
    social = signing(with_credentials(monkeypatch), hub_keys)
    social.deliver(to_social())
    social.close()

    envelope = xmlparse.parse(posted(fake)[0])
    (security,) = part(envelope, "Header").findall(f"{{{WSSE}}}Security")
    assert security.find(f"{{{DS}}}Signature") is not None
    assert security.find(f"{{{WSU}}}Timestamp") is not None
    assert username_token(envelope).findtext(f"{{{WSSE}}}Username") == "govhub"


@pytest.fixture(scope="module")
def social_security(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockDepartments]:
    # Nothing listens on port 9: the mock's own pushes to a hub simply wait.
    with start_mock_departments(
        data_dir=tmp_path_factory.mktemp("mock"),
        ports={"SOCIAL_SECURITY": 0},
        codes=["SOCIAL_SECURITY"],
        hub_url="http://127.0.0.1:9",
    ) as mocks:
        yield mocks


def test_the_mock_department_accepts_a_signed_delivery_that_also_carries_a_token(
    social_security: MockDepartments, monkeypatch: pytest.MonkeyPatch, hub_keys: KeyPair
) -> None:
    mock = social_security.social_security
    mock.hub_certificate = hub_keys.certificate_pem.decode("ascii")
    endpoint = social_security.endpoints()["SOCIAL_SECURITY"]
    social = signing(with_credentials(monkeypatch, endpoint=endpoint), hub_keys)
    try:
        result = social.deliver(to_social(key=f"signed-{datetime.now(UTC).timestamp()}"))
    finally:
        social.close()
        mock.hub_certificate = None
    assert result.status == "accepted" and result.reference
