from __future__ import annotations

import pytest
from fixtures.adapters.samples import HY, SI, department, envelope
from lxml import etree

from adapters.soap import SoapAdapter
from hub.errors import BodyTooLarge, MalformedXML, UnknownMessageType

MARRIAGE = (
    f'<hy:JieHunDengJi xmlns:hy="{HY}"><hy:DengJiBianHao>J2024-1</hy:DengJiBianHao>'
    "<hy:BeiZhu>新婚</hy:BeiZhu></hy:JieHunDengJi>"
)
ENROLLMENT = (
    f'<si:EnrollmentNotice xmlns:si="{SI}">'
    "<si:EnrolledOn>2024-03-01</si:EnrolledOn></si:EnrollmentNotice>"
)


@pytest.fixture(scope="module")
def marriage() -> SoapAdapter:
    return SoapAdapter(department("MARRIAGE_REGISTRY"))


@pytest.fixture(scope="module")
def social() -> SoapAdapter:
    return SoapAdapter(department("SOCIAL_SECURITY"))


def gb18030_envelope(payload: str) -> bytes:
    text = '<?xml version="1.0" encoding="GB18030"?>' + envelope(payload)
    return text.encode("gb18030")


def test_a_gb18030_push_decodes_to_its_payload_and_message_type(marriage: SoapAdapter) -> None:
    body = gb18030_envelope(MARRIAGE)
    record = marriage.decode_inbound(body, {"Idempotency-Key": "k-1"}, "/soap")
    assert record.message_type == "MarriageRegistered"
    assert isinstance(record.document, etree._Element)
    assert record.document.tag == f"{{{HY}}}JieHunDengJi"
    assert record.document.findtext(f"{{{HY}}}BeiZhu") == "新婚"
    assert record.document.getparent() is None  # its own document, ready to validate
    assert (record.idempotency_key, record.raw) == ("k-1", body)


def test_a_soap_12_push_to_a_soap_12_department_is_decoded(social: SoapAdapter) -> None:
    record = social.decode_inbound(envelope(ENROLLMENT, "1.2").encode(), {}, "/soap")
    assert record.message_type == "InsuredPersonEnrolled"
    assert record.idempotency_key is None


def test_the_idempotency_header_is_found_whatever_its_case(social: SoapAdapter) -> None:
    body = envelope(ENROLLMENT, "1.2").encode()
    assert social.decode_inbound(body, {"idempotency-key": "k-2"}).idempotency_key == "k-2"


def test_without_the_http_header_the_soap_header_key_is_used(social: SoapAdapter) -> None:
    header = '<h:IdempotencyKey xmlns:h="urn:govhub:hub:1">k-3</h:IdempotencyKey>'
    body = envelope(ENROLLMENT, "1.2", header=header).encode()
    assert social.decode_inbound(body, {}).idempotency_key == "k-3"


def test_a_soap_12_envelope_sent_to_a_soap_11_department_is_malformed(
    marriage: SoapAdapter,
) -> None:
    with pytest.raises(MalformedXML, match=r"SOAP 1\.2 envelope was sent to .* SOAP 1\.1"):
        marriage.decode_inbound(envelope(MARRIAGE, "1.2").encode(), {})


def test_a_soap_11_envelope_sent_to_a_soap_12_department_is_malformed(
    social: SoapAdapter,
) -> None:
    with pytest.raises(MalformedXML, match=r"SOAP 1\.1 envelope was sent to .* SOAP 1\.2"):
        social.decode_inbound(envelope(ENROLLMENT, "1.1").encode(), {})


def test_a_payload_the_department_does_not_send_is_an_unknown_message_type(
    marriage: SoapAdapter,
) -> None:
    payload = f'<hy:DiZhiBianGeng xmlns:hy="{HY}"/>'
    with pytest.raises(UnknownMessageType, match="does not send") as caught:
        marriage.decode_inbound(envelope(payload).encode(), {})
    assert "JieHunDengJi" in (caught.value.detail or "")


def test_a_body_that_is_not_an_envelope_is_malformed(marriage: SoapAdapter) -> None:
    with pytest.raises(MalformedXML, match=r"expected a SOAP 1\.1 Envelope"):
        marriage.decode_inbound(MARRIAGE.encode(), {})


def test_an_empty_soap_body_is_malformed(marriage: SoapAdapter) -> None:
    with pytest.raises(MalformedXML, match="Body is missing or empty"):
        marriage.decode_inbound(envelope("").encode(), {})


def test_a_push_with_a_doctype_is_refused_by_the_hardened_parser(marriage: SoapAdapter) -> None:
    body = b'<!DOCTYPE x [<!ENTITY e "boom">]>' + envelope(MARRIAGE).encode()
    with pytest.raises(MalformedXML):
        marriage.decode_inbound(body, {})


def test_a_push_that_does_not_decode_in_its_declared_encoding_is_malformed(
    marriage: SoapAdapter,
) -> None:
    body = ('<?xml version="1.0" encoding="UTF-8"?>' + envelope(MARRIAGE)).encode("gb18030")
    with pytest.raises(MalformedXML):
        marriage.decode_inbound(body, {})


def test_a_push_over_the_size_limit_is_refused(marriage: SoapAdapter) -> None:
    body = envelope(MARRIAGE.replace("新婚", "x" * (11 * 1024 * 1024))).encode()
    with pytest.raises(BodyTooLarge):
        marriage.decode_inbound(body, {})
