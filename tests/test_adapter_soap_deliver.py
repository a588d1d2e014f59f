from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
import responses
from department_fakes import department_fake
from fixtures.adapters.samples import (
    ENDPOINT,
    HY,
    ID_NUMBER,
    SI,
    ack,
    address_change,
    department,
    fault11,
    fault12,
    huizhi,
    residence_update,
)
from lxml import etree

from adapters.base import OutboundDelivery
from adapters.soap import SoapAdapter
from hub import xmlparse
from hub.errors import (
    ConfigurationError,
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from hub.identity import mask
from hub.security.wsse import WSSE

KEY = "9f1c2d34-0000-4000-8000-000000000001"


@pytest.fixture
def fake() -> Iterator[responses.RequestsMock]:
    with department_fake() as mock:
        yield mock


@pytest.fixture
def marriage() -> Iterator[SoapAdapter]:
    adapter = SoapAdapter(department("MARRIAGE_REGISTRY"))
    yield adapter
    adapter.close()


@pytest.fixture
def social() -> Iterator[SoapAdapter]:
    adapter = SoapAdapter(department("SOCIAL_SECURITY"))
    yield adapter
    adapter.close()


def to_marriage(key: str = KEY) -> OutboundDelivery:
    return OutboundDelivery("MARRIAGE_REGISTRY", "AddressChanged", "m-1", key, address_change())


def to_social() -> OutboundDelivery:
    return OutboundDelivery("SOCIAL_SECURITY", "AddressChanged", "m-2", KEY, residence_update())


def gb18030(body: str) -> bytes:
    return body.replace(
        "<s:Envelope", '<?xml version="1.0" encoding="GB18030"?><s:Envelope', 1
    ).encode("gb18030")


def sent_envelope(fake: responses.RequestsMock) -> etree._Element:
    body = fake.calls[0].request.body
    assert isinstance(body, bytes)
    return xmlparse.parse(body)


def test_marriage_registry_receipt_jieshou_is_accepted_with_its_reference(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    fake.post(
        ENDPOINT, body=gb18030(huizhi("JIESHOU", "HZ-7")), content_type="text/xml; charset=GB18030"
    )
    result = marriage.deliver(to_marriage())
    assert (result.status, result.reference) == ("accepted", "HZ-7")


def test_marriage_registry_receipt_chongfu_is_a_duplicate(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body=gb18030(huizhi("CHONGFU")), content_type="text/xml")
    assert marriage.deliver(to_marriage()).status == "duplicate"


def test_social_security_ack_statuses_are_read_from_attributes(
    fake: responses.RequestsMock, social: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body=ack("accepted", "SI-1"), content_type="application/soap+xml")
    fake.post(ENDPOINT, body=ack("duplicate", "SI-1"), content_type="application/soap+xml")
    first, second = social.deliver(to_social()), social.deliver(to_social())
    assert (first.status, first.reference) == ("accepted", "SI-1")
    assert second.status == "duplicate"


def test_the_idempotency_key_travels_as_a_soap_header(
    fake: responses.RequestsMock, social: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body=ack(), content_type="application/soap+xml")
    social.deliver(to_social())
    key = sent_envelope(fake).find(".//{urn:govhub:hub:1}IdempotencyKey")
    assert key is not None and key.text == KEY
    assert etree.QName(key.getparent()).localname == "Header"


def test_soap_12_requests_use_the_soap_12_envelope_and_content_type(
    fake: responses.RequestsMock, social: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body=ack(), content_type="application/soap+xml")
    social.deliver(to_social())
    assert sent_envelope(fake).tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    content_type = fake.calls[0].request.headers["Content-Type"]
    assert content_type.startswith("application/soap+xml; charset=UTF-8")
    assert 'action="http://si.example.gov.cn/service/2024/UpdateResidence"' in content_type


def test_the_sent_body_is_the_document_the_hub_validated(
    fake: responses.RequestsMock, social: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body=ack(), content_type="application/soap+xml")
    social.deliver(to_social())
    payload = sent_envelope(fake).find(f".//{{{SI}}}ResidenceUpdate")
    assert payload is not None
    assert canonical_xml(payload) == canonical_xml(residence_update())


def test_marriage_registry_requests_go_out_in_gb18030_with_a_matching_declaration(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body=gb18030(huizhi()), content_type="text/xml")
    marriage.deliver(to_marriage())
    request = fake.calls[0].request
    body = request.body
    assert isinstance(body, bytes)
    assert body.startswith(b"<?xml version='1.0' encoding='GB18030'?>")
    assert "北京市朝阳区建国路1号".encode("gb18030") in body
    assert "北京市朝阳区".encode() not in body  # not UTF-8
    assert request.headers["Content-Type"] == "text/xml; charset=GB18030"
    assert request.headers["SOAPAction"] == '"urn:mz:hydj:2019/JieShouDiZhiBianGeng"'


def test_duplicate_detection_follows_the_departments_options(fake: responses.RequestsMock) -> None:
    options = {"result_field": "JieGuo", "duplicate_value": "JIESHOU", "reference_field": "JieGuo"}
    adapter = SoapAdapter(department("MARRIAGE_REGISTRY", options=options))
    fake.post(ENDPOINT, body=huizhi("JIESHOU"), content_type="text/xml")
    result = adapter.deliver(to_marriage())
    assert (result.status, result.reference) == ("duplicate", "JIESHOU")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (requests.ConnectionError("Connection refused"), RetryableDeliveryError),
        (requests.ConnectTimeout("connect timed out"), RetryableDeliveryError),
        (requests.ReadTimeout("read timed out"), RetryableDeliveryError),
    ],
    ids=["connection refused", "connect timeout", "read timeout"],
)
def test_an_unreachable_or_slow_department_is_retryable(
    fake: responses.RequestsMock,
    marriage: SoapAdapter,
    answer: Exception,
    expected: type[DeliveryError],
) -> None:
    fake.post(ENDPOINT, body=answer)
    with pytest.raises(expected) as caught:
        marriage.deliver(to_marriage())
    assert caught.value.__cause__ is answer


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, RetryableDeliveryError),
        (502, RetryableDeliveryError),
        (503, RetryableDeliveryError),
        (408, RetryableDeliveryError),
        (429, RetryableDeliveryError),
        (400, PermanentDeliveryError),
        (404, PermanentDeliveryError),
        (415, PermanentDeliveryError),
    ],
)
def test_http_statuses_without_a_fault_are_classified_by_status(
    fake: responses.RequestsMock, marriage: SoapAdapter, status: int, expected: type[DeliveryError]
) -> None:
    fake.post(
        ENDPOINT, body="<html>gateway says no</html>", status=status, content_type="text/html"
    )
    with pytest.raises(expected, match=f"HTTP {status}"):
        marriage.deliver(to_marriage())


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (fault11("Server", "database down"), 500, RetryableDeliveryError),
        (fault11("Server.Busy", "try later"), 500, RetryableDeliveryError),
        (fault11("Client", "bad record"), 500, PermanentDeliveryError),
        (fault11("Client.SchemaInvalid", "bad record"), 500, PermanentDeliveryError),
        (fault12("Receiver", "database down"), 500, RetryableDeliveryError),
        (fault12("Sender", "bad record"), 400, PermanentDeliveryError),
        (fault12("VersionMismatch", "wrong envelope"), 500, PermanentDeliveryError),
    ],
    ids=[
        "1.1 Server",
        "1.1 Server.Busy",
        "1.1 Client",
        "1.1 Client.x",
        "1.2 Receiver",
        "1.2 Sender",
        "1.2 VersionMismatch",
    ],
)
def test_soap_faults_are_classified_by_their_code_whatever_the_http_status(
    fake: responses.RequestsMock,
    marriage: SoapAdapter,
    body: str,
    status: int,
    expected: type[DeliveryError],
) -> None:
    fake.post(ENDPOINT, body=body, status=status, content_type="text/xml")
    with pytest.raises(expected, match="SOAP fault"):
        marriage.deliver(to_marriage())


def test_errors_keep_a_short_excerpt_of_the_answer_with_identity_numbers_masked(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    reason = f"record for {ID_NUMBER} refused " + "x" * 800
    fake.post(ENDPOINT, body=fault11("Client", reason), status=500, content_type="text/xml")
    with pytest.raises(PermanentDeliveryError) as caught:
        marriage.deliver(to_marriage())
    detail = caught.value.detail or ""
    assert 0 < len(detail) <= 500
    assert mask(ID_NUMBER) in detail
    assert ID_NUMBER not in str(caught.value)


def test_a_success_status_without_a_soap_receipt_is_retryable(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    fake.post(ENDPOINT, body="OK", status=200, content_type="text/plain")
    with pytest.raises(RetryableDeliveryError, match="without a SOAP receipt"):
        marriage.deliver(to_marriage())


def test_a_document_of_the_wrong_element_is_refused_before_sending(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    delivery = OutboundDelivery("MARRIAGE_REGISTRY", "AddressChanged", "m", KEY, residence_update())
    with pytest.raises(PermanentDeliveryError, match=f"takes {{{HY}}}DiZhiBianGeng"):
        marriage.deliver(delivery)


def test_a_message_type_without_an_operation_is_permanent(marriage: SoapAdapter) -> None:
    delivery = OutboundDelivery("MARRIAGE_REGISTRY", "TaxReturn", "m", KEY, address_change())
    with pytest.raises(PermanentDeliveryError, match="no operation for TaxReturn"):
        marriage.deliver(delivery)


def test_an_operation_missing_from_the_wsdl_fails_when_the_adapter_is_built() -> None:
    config = department("MARRIAGE_REGISTRY", operations={"AddressChanged": "JieShouDiZhi"})
    with pytest.raises(ConfigurationError, match="has no operation JieShouDiZhi"):
        SoapAdapter(config)


def test_a_soap_version_the_wsdl_does_not_bind_fails_when_the_adapter_is_built() -> None:
    with pytest.raises(ConfigurationError, match=r"has no SOAP 1\.2 binding"):
        SoapAdapter(department("MARRIAGE_REGISTRY", soap_version="1.2"))


def test_a_missing_wsdl_file_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        SoapAdapter(department("MARRIAGE_REGISTRY", wsdl="departments/NOPE/nope.wsdl"))


def test_an_unknown_encoding_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown encoding"):
        SoapAdapter(department("MARRIAGE_REGISTRY", encoding="GB-NOPE"))


def canonical_xml(element: etree._Element) -> object:
    """Names, attributes, text and children; namespace prefixes do not matter."""
    text = (element.text or "").strip()
    children = [canonical_xml(child) for child in element]
    return (element.tag, sorted(element.attrib.items()), text, children)


def test_a_wsdl_that_imports_from_the_network_is_refused_without_fetching() -> None:
    wsdl = Path(__file__).parent / "fixtures" / "adapters" / "remote-import.wsdl"
    with pytest.raises(ConfigurationError, match=r"ExternalReferenceForbidden|local files only"):
        SoapAdapter(department("MARRIAGE_REGISTRY", wsdl=str(wsdl)))


def test_a_gb18030_fault_without_an_http_charset_keeps_a_readable_excerpt(
    fake: responses.RequestsMock, marriage: SoapAdapter
) -> None:
    answer = gb18030(fault11("Client", "身份证号码格式错误"))
    fake.post(ENDPOINT, body=answer, status=500, content_type="text/xml")
    with pytest.raises(PermanentDeliveryError, match="身份证号码格式错误") as caught:
        marriage.deliver(to_marriage())
    assert "身份证号码格式错误" in (caught.value.detail or "")


def test_the_hub_signs_in_with_a_username_token_when_the_department_references_credentials(
    fake: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SI_HUB_CREDENTIALS", "govhub:s3cret")
    config = replace(department("SOCIAL_SECURITY"), credentials="env:SI_HUB_CREDENTIALS")
    adapter = SoapAdapter(config)
    fake.post(ENDPOINT, body=ack("accepted", "SI-1"), content_type="application/soap+xml")
    try:
        adapter.deliver(to_social())
    finally:
        adapter.close()

    token = sent_envelope(fake).find(f".//{{{WSSE}}}UsernameToken")
    assert token is not None
    assert token.findtext(f"{{{WSSE}}}Username") == "govhub"
    password = token.find(f"{{{WSSE}}}Password")
    assert password is not None and password.get("Type", "").endswith("#PasswordDigest")
    assert b"s3cret" not in (fake.calls[0].request.body or b"")
