"""SOAP 1.2 beside 1.1 at /soap, and a WSDL that states the whole contract: what a
department's developer generates a client from, through the running hub."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
import zeep
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from zeep.exceptions import Fault

from hub.api.soap_faults import OPERATION_FAULTS
from hub.resources import XSD_ROOT

pytestmark = pytest.mark.slow

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
HUB = "urn:govhub:hub:1"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
API_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_ROOT / "hub" / "soap-api.xsd")))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("soap12")) as running:
        yield running


def soap12_service(stack: HubStack) -> zeep.proxy.ServiceProxy:
    return stack.client().bind("GovHub", "GovHubSoap12")


def test_a_soap12_client_submits_and_reads_the_status(stack: HubStack) -> None:
    service = soap12_service(stack)

    receipt = service.Submit(header=header(), message=marriage())
    status = service.GetStatus(receipt.messageId)

    assert receipt.state == "accepted" and receipt.duplicate is False
    assert sorted(receipt.receivers) == ["SOCIAL_SECURITY", "TAX"]
    assert status.messageId == receipt.messageId
    assert status.sender == "MARRIAGE_REGISTRY"


def test_a_soap12_duplicate_gets_the_first_receipt(stack: HubStack) -> None:
    service = soap12_service(stack)
    key = f"k-{uuid.uuid4()}"
    first = service.Submit(header=header(idempotencyKey=key), message=marriage())

    again = service.Submit(header=header(idempotencyKey=key), message=marriage())

    assert (again.messageId, again.duplicate) == (first.messageId, True)


def soap12_submit(stack: HubStack, **changes: str) -> requests.Response:
    client = stack.client()
    service = client.bind("GovHub", "GovHubSoap12")
    envelope = client.create_message(
        service, "Submit", header=header(), message=marriage(**changes)
    )
    return requests.post(
        stack.soap_url,
        data=etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        timeout=30,
    )


def test_a_soap12_refusal_is_a_soap12_sender_fault_with_http_400_and_the_typed_detail(
    stack: HubStack,
) -> None:
    answer = soap12_submit(stack, registrationOffice="ABC")

    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/soap+xml")
    fault = etree.fromstring(answer.content).find(f".//{{{SOAP12}}}Fault")
    assert fault is not None
    code = fault.find(f"{{{SOAP12}}}Code")
    assert code is not None
    assert (code.findtext(f"{{{SOAP12}}}Value") or "").endswith(":Sender")
    subcode = code.find(f"{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    assert subcode is not None
    prefix, _, local = (subcode.text or "").partition(":")
    assert (subcode.nsmap[prefix], local) == (HUB, "SchemaInvalid")
    assert "registrationOffice" in (fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text") or "")
    detail = fault.find(f"{{{SOAP12}}}Detail/{{{HUB}}}HubFault")
    assert detail is not None and API_SCHEMA.validate(detail)
    assert detail.findtext(f"{{{HUB}}}code") == "Client.SchemaInvalid"


def test_zeep_reads_a_soap12_fault_code_and_subcode(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        soap12_service(stack).Submit(header=header(sender="NOBODY_KNOWN"), message=marriage())

    assert refused.value.code.endswith(":Sender")
    assert [etree.QName(code).localname for code in refused.value.subcodes] == ["UnknownSender"]
    assert refused.value.detail.findtext(f".//{{{HUB}}}code") == "Client.UnknownSender"


def test_an_unknown_message_id_is_a_not_found_fault_with_its_detail(stack: HubStack) -> None:
    with pytest.raises(Fault) as refused:
        stack.client().service.GetStatus(str(uuid.uuid4()))

    detail = refused.value.detail.find(f"{{{HUB}}}HubFault")
    assert detail is not None and API_SCHEMA.validate(detail)
    assert detail.findtext(f"{{{HUB}}}code") == "Client.NotFound"
    assert detail.findtext(f"{{{HUB}}}path") == "GetStatus/messageId"


def test_the_answers_match_the_schema_the_wsdl_declares(stack: HubStack) -> None:
    client = stack.client()
    receipt = client.service.Submit(header=header(), message=marriage())
    stack.wait_settled(receipt.messageId)
    for operation, arguments in (
        ("Submit", {"header": header(), "message": marriage()}),
        ("GetStatus", {"messageId": receipt.messageId}),
    ):
        envelope = client.create_message(client.service, operation, **arguments)
        answer = requests.post(
            stack.soap_url,
            data=etree.tostring(envelope),
            headers={"Content-Type": "text/xml; charset=utf-8"},
            timeout=30,
        )
        body = etree.fromstring(answer.content)[-1]
        assert API_SCHEMA.validate(body[0]), (operation, API_SCHEMA.error_log)


@pytest.fixture(scope="module")
def wsdl(stack: HubStack) -> etree._Element:
    return etree.fromstring(requests.get(f"{stack.soap_url}?wsdl", timeout=30).content)


def test_the_wsdl_offers_a_soap11_and_a_soap12_port_at_the_same_address(
    stack: HubStack, wsdl: etree._Element
) -> None:
    ports = wsdl.findall(f"{{{WSDL}}}service/{{{WSDL}}}port")

    assert [port.get("name") for port in ports] == ["GovHubSoap11", "GovHubSoap12"]
    assert {port[0].get("location") for port in ports} == {stack.soap_url}
    assert {etree.QName(port[0]).namespace for port in ports} == {
        "http://schemas.xmlsoap.org/wsdl/soap/",
        "http://schemas.xmlsoap.org/wsdl/soap12/",
    }


def test_every_operation_declares_its_fault_with_the_typed_detail(wsdl: etree._Element) -> None:
    operations = wsdl.findall(f"{{{WSDL}}}portType/{{{WSDL}}}operation")
    fault_part = wsdl.find(f"{{{WSDL}}}message[@name='HubFault']/{{{WSDL}}}part")

    assert {op.get("name") for op in operations} == set(OPERATION_FAULTS)
    assert {"Submit", "GetStatus", "ListServices", "Receive", "Ack"} <= set(OPERATION_FAULTS)
    assert all(op.find(f"{{{WSDL}}}fault") is not None for op in operations)
    assert fault_part is not None and fault_part.get("element") == "h:HubFault"


def test_the_wsdl_keeps_the_canonical_facets_and_makes_nothing_nillable(
    wsdl: etree._Element,
) -> None:
    patterns = {
        simple.get("name"): simple.find(f".//{{{XS}}}pattern")
        for simple in wsdl.iter(f"{{{XS}}}simpleType")
    }
    sexes = wsdl.findall(f".//{{{XS}}}simpleType[@name='SexCode']//{{{XS}}}enumeration")

    identity = patterns["IdentityNumber"]
    assert identity is not None and identity.get("value") == "[0-9]{17}[0-9X]"
    assert [e.get("value") for e in sexes] == ["0", "1", "2", "9"]
    assert wsdl.find(f".//{{{XS}}}simpleType[@name='Text']//{{{XS}}}maxLength") is not None
    assert not [e for e in wsdl.iter(f"{{{XS}}}element") if e.get("nillable") == "true"]
    submit = wsdl.find(f".//{{{XS}}}element[@name='Submit']")
    assert submit is not None
    assert all(e.get("minOccurs") is None for e in submit.iter(f"{{{XS}}}element"))


def test_every_import_in_the_wsdl_resolves_to_a_schema_placed_before_it(
    wsdl: etree._Element,
) -> None:
    schemas = wsdl.findall(f"{{{WSDL}}}types/{{{XS}}}schema")
    seen: set[str] = set()
    for schema in schemas:
        for imported in schema.findall(f"{{{XS}}}import"):
            assert imported.get("schemaLocation") or imported.get("namespace") in seen
        seen.add(schema.get("targetNamespace") or "")
    # canonical 1.0 and 2.0 (hub/versions: every active version), then the API
    assert seen == {"urn:govhub:canonical:1", "urn:govhub:canonical:2", HUB}
