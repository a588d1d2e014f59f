"""Bad input of every kind gets a clear fault; nothing is stored; the server keeps serving."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from sqlalchemy import text

pytestmark = pytest.mark.slow

MAX_BODY_BYTES = 100_000
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CANONICAL = "urn:govhub:canonical:1"
HUB = "urn:govhub:hub:1"
Edit = Callable[[etree._Element], None]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("bad"), max_body_bytes=MAX_BODY_BYTES) as running:
        yield running


def submit_envelope(stack: HubStack, edit: Edit | None = None, **header_fields: str) -> bytes:
    """A valid Submit request as zeep builds it, then changed by ``edit``."""
    client = stack.client()
    envelope = client.create_message(
        client.service, "Submit", header=header(**header_fields), message=marriage()
    )
    if edit is not None:
        edit(envelope)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def post(stack: HubStack, body: bytes, content_type: str = "text/xml; charset=utf-8") -> str:
    """POST a raw body to /soap; return the fault code (without prefix), or "" if none."""
    answer = requests.post(stack.soap_url, data=body, headers={"Content-Type": content_type})
    fault = etree.fromstring(answer.content).find(f".//{{{SOAP11}}}Fault")
    return "" if fault is None else (fault.findtext("faultcode") or "").split(":")[-1]


def set_text(local_name: str, value: str) -> Edit:
    def edit(envelope: etree._Element) -> None:
        next(envelope.iter(f"{{{CANONICAL}}}{local_name}")).text = value

    return edit


def rename_record(envelope: etree._Element) -> None:
    record = next(envelope.iter(f"{{{CANONICAL}}}MarriageRegistered"))
    record.tag = "{urn:somebody:else}MarriageRegistered"


def stored_messages(stack: HubStack) -> int:
    with stack.runtime.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM messages")).scalar_one())


def wrong_check_character(envelope: etree._Element) -> None:
    number = next(envelope.iter(f"{{{CANONICAL}}}identityNumber"))
    last = number.text[-1] if number.text else "0"
    number.text = (number.text or "")[:-1] + ("1" if last != "1" else "2")


CASES: dict[str, tuple[Callable[[HubStack], bytes], str]] = {
    "malformed XML": (lambda s: submit_envelope(s)[:-40], "Client.MalformedXML"),
    "a DOCTYPE with an external entity": (
        lambda s: (
            b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + submit_envelope(s).split(b"?>", 1)[1]
        ),
        "Client.MalformedXML",
    ),
    "a record in the wrong namespace": (
        lambda s: submit_envelope(s, rename_record),
        "Client.SchemaInvalid",
    ),
    "a schema violation": (
        lambda s: submit_envelope(s, set_text("registrationOffice", "ABC")),
        "Client.SchemaInvalid",
    ),
    "an identity number with a wrong check character": (
        lambda s: submit_envelope(s, wrong_check_character),
        "Client.InvalidIdentityNumber",
    ),
    "an unknown message type": (
        lambda s: submit_envelope(s, messageType="BirthRegistered"),
        "Client.UnknownMessageType",
    ),
    "an unknown sender": (
        lambda s: submit_envelope(s, sender="HOUSEHOLD_REGISTRY"),
        "Client.UnknownSender",
    ),
    "a sender not allowed to send this type": (
        lambda s: submit_envelope(s, sender="TAX"),
        "Client.NotAuthorized",
    ),
    "a schema version this hub does not speak": (
        lambda s: submit_envelope(s, schemaVersion="9.9"),
        "Client.SchemaInvalid",
    ),
    "a sent-at time of 24:00 (valid XSD, no real time)": (
        lambda s: submit_envelope(s, sentAt="2026-05-20T24:00:00Z"),
        "Client.SchemaInvalid",
    ),
    "a body over the size limit": (
        lambda s: (
            submit_envelope(s).replace(b"</soap-env:Envelope>", b"")
            + b"<!--"
            + b"x" * MAX_BODY_BYTES
            + b"--></soap-env:Envelope>"
        ),
        "Client.BodyTooLarge",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_a_clear_fault_and_nothing_is_stored(stack: HubStack, case: str) -> None:
    build, expected_code = CASES[case]
    before = stored_messages(stack)

    assert post(stack, build(stack)) == expected_code
    assert stored_messages(stack) == before


# The field each refusal names in its detail, by element names from the Body down.
PATHS = {
    "a record in the wrong namespace": "Submit/message/MarriageRegistered",
    "a schema violation": "Submit/message/MarriageRegistered/registrationOffice",
    "an identity number with a wrong check character": (
        "Submit/message/MarriageRegistered/partyA/identityNumber"
    ),
    "an unknown message type": "Submit/header/messageType",
    "an unknown sender": "Submit/header/sender",
    "a sender not allowed to send this type": "Submit/header/messageType",
    "a schema version this hub does not speak": "Submit/header/schemaVersion",
    "a sent-at time of 24:00 (valid XSD, no real time)": "Submit/header/sentAt",
}


@pytest.mark.parametrize("case", list(PATHS))
def test_a_refusal_names_the_field_it_is_about(stack: HubStack, case: str) -> None:
    build, _ = CASES[case]

    answer = requests.post(stack.soap_url, data=build(stack), headers={"Content-Type": "text/xml"})

    assert fault_detail(answer).get("path") == PATHS[case]


def test_an_idempotency_conflict_names_the_key_field(stack: HubStack) -> None:
    service = stack.client().service
    service.Submit(header=header(idempotencyKey="same-key"), message=marriage())
    body = submit_envelope(
        stack, set_text("registrationOffice", "110106"), idempotencyKey="same-key"
    )

    answer = requests.post(stack.soap_url, data=body, headers={"Content-Type": "text/xml"})

    detail = fault_detail(answer)
    assert (detail["code"], detail["path"]) == (
        "Client.IdempotencyConflict",
        "Submit/header/idempotencyKey",
    )


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_in_soap12_gets_the_same_code_as_a_sender_fault_with_the_typed_detail(
    stack: HubStack, case: str
) -> None:
    build, expected_code = CASES[case]
    body = build(stack).replace(SOAP11.encode(), SOAP12.encode())

    answer = requests.post(
        stack.soap_url, data=body, headers={"Content-Type": "application/soap+xml"}
    )

    assert answer.status_code == (413 if expected_code == "Client.BodyTooLarge" else 400)
    subcode = etree.fromstring(answer.content).findtext(f".//{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    assert subcode == "h:" + expected_code.removeprefix("Client.")
    assert fault_detail(answer)["code"] == expected_code


def test_the_server_keeps_serving_after_bad_input(stack: HubStack) -> None:
    for build, _ in CASES.values():
        post(stack, build(stack))

    receipt = stack.client().service.Submit(header=header(), message=marriage())

    assert receipt.state == "accepted"


def fault_detail(answer: requests.Response) -> dict[str, str]:
    detail = etree.fromstring(answer.content).find(f".//{{{HUB}}}HubFault")
    assert detail is not None
    return {etree.QName(child).localname: child.text or "" for child in detail}


def test_a_schema_fault_names_the_field_by_its_path_and_no_line_for_a_one_line_request(
    stack: HubStack,
) -> None:
    body = submit_envelope(stack, set_text("registrationOffice", "ABC"))
    answer = requests.post(stack.soap_url, data=body, headers={"Content-Type": "text/xml"})

    detail = fault_detail(answer)
    assert detail["code"] == "Client.SchemaInvalid"
    assert detail["path"] == "Submit/message/MarriageRegistered/registrationOffice"
    assert "line" not in detail
    assert "registrationOffice" in detail["reason"]


def test_a_schema_fault_gives_the_line_of_a_request_written_on_several_lines(
    stack: HubStack,
) -> None:
    body = submit_envelope(stack, set_text("sex", "7"))
    pretty = etree.tostring(etree.fromstring(body), pretty_print=True)
    answer = requests.post(stack.soap_url, data=pretty, headers={"Content-Type": "text/xml"})

    detail = fault_detail(answer)
    assert detail["path"] == "Submit/message/MarriageRegistered/partyA/sex"
    line = int(detail["line"])
    assert b"<ns1:sex>7<" in pretty.splitlines()[line - 1]


def test_a_bad_identity_number_is_named_by_its_path_not_its_position(stack: HubStack) -> None:
    body = submit_envelope(stack, set_text("identityNumber", "110105199003070131"))
    answer = requests.post(stack.soap_url, data=body, headers={"Content-Type": "text/xml"})

    detail = fault_detail(answer)
    assert detail["code"] == "Client.InvalidIdentityNumber"
    assert detail["path"] == "Submit/message/MarriageRegistered/partyA/identityNumber"


def test_a_soap_12_envelope_sent_as_soap_11_is_a_version_mismatch(stack: HubStack) -> None:
    body = submit_envelope(stack).replace(SOAP11.encode(), SOAP12.encode())
    answer = requests.post(stack.soap_url, data=body, headers={"Content-Type": "text/xml"})

    assert post(stack, body) == "VersionMismatch"
    assert "application/soap+xml" in fault_detail(answer)["reason"]


def test_a_soap_11_envelope_sent_as_soap_12_is_a_version_mismatch(stack: HubStack) -> None:
    answer = requests.post(
        stack.soap_url,
        data=submit_envelope(stack),
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
    )

    code = etree.fromstring(answer.content).findtext(f".//{{{SOAP12}}}Code/{{{SOAP12}}}Value")
    assert code is not None and code.endswith(":VersionMismatch")
    assert "text/xml" in fault_detail(answer)["reason"]


def test_a_native_push_from_an_unknown_department_is_refused_with_a_json_error(
    stack: HubStack,
) -> None:
    answer = requests.post(f"{stack.server.url}/native/POLICE", data=b"{}")

    assert answer.status_code == 400
    assert answer.json()["error"] == "Client.UnknownSender"


def test_a_malformed_native_push_is_refused_and_nothing_is_stored(stack: HubStack) -> None:
    before = stored_messages(stack)
    answer = requests.post(
        f"{stack.server.url}/native/MARRIAGE_REGISTRY",
        data=b"<soap:Envelope xmlns:soap='" + SOAP11.encode() + b"'><soap:Body>",
        headers={"Content-Type": "text/xml; charset=GB18030"},
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "Client.MalformedXML"
    assert stored_messages(stack) == before


def test_a_soap12_body_over_the_limit_gets_a_soap12_fault_before_it_is_read(
    stack: HubStack,
) -> None:
    body = submit_envelope(stack).replace(SOAP11.encode(), SOAP12.encode())
    oversized = body + b"<!--" + b"x" * MAX_BODY_BYTES + b"-->"

    answer = requests.post(
        stack.soap_url, data=oversized, headers={"Content-Type": "application/soap+xml"}
    )

    assert answer.status_code == 413
    assert answer.headers["Content-Type"].startswith("application/soap+xml")
    subcode = etree.fromstring(answer.content).findtext(f".//{{{SOAP12}}}Subcode/{{{SOAP12}}}Value")
    assert subcode == "h:BodyTooLarge"
    assert fault_detail(answer)["code"] == "Client.BodyTooLarge"


def test_spynes_own_refusals_carry_the_typed_detail_too(stack: HubStack) -> None:
    envelope = (
        f'<e:Envelope xmlns:e="{SOAP11}"><e:Body><h:Nothing xmlns:h="{HUB}"/></e:Body></e:Envelope>'
    )

    not_soap = requests.post(stack.soap_url, data=b"<a/>", headers={"Content-Type": "text/xml"})
    no_such_operation = requests.post(
        stack.soap_url, data=envelope.encode(), headers={"Content-Type": "text/xml"}
    )

    assert fault_detail(not_soap)["code"] == "Client.SoapError"
    assert fault_detail(no_such_operation)["code"] == "Client.ResourceNotFound"
