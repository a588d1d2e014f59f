"""Limits inside a request: attributes per element (the hardened parser), and the length of
every header field, from the SOAP header or from a native push's HTTP headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import requests
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from sqlalchemy import text

from hub import xmlparse
from hub.errors import MalformedXML
from hub.identity import make_number
from mock_departments.people import Person

pytestmark = pytest.mark.slow

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
TAX_PATH = "/native/TAX/api/v1/address-changes"
ZHANG = Person("Zhang San", make_number("11010519900307", "123"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("xml-limits")) as running:
        yield running


def envelope(stack: HubStack, **header_fields: str) -> bytes:
    client = stack.client()
    message = client.create_message(
        client.service, "Submit", header=header(**header_fields), message=marriage()
    )
    return etree.tostring(message, encoding="UTF-8", xml_declaration=True)


def post(stack: HubStack, body: bytes) -> etree._Element:
    answer = requests.post(
        stack.soap_url, data=body, headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=60
    )
    return etree.fromstring(answer.content)


def fault(answer: etree._Element) -> tuple[str, str]:
    found = answer.find(f".//{{{SOAP11}}}Fault")
    assert found is not None, etree.tostring(answer)[:300]
    reason = found.findtext("faultstring", "") + " " + "".join(found.find("detail").itertext())
    return found.findtext("faultcode", "").split(":")[-1], reason


def stored_messages(stack: HubStack) -> int:
    with stack.runtime.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM messages")).scalar_one())


def with_attributes(body: bytes, count: int) -> bytes:
    """The envelope's root element carrying ``count`` extra attributes (no schema sees it)."""
    extra = b" ".join(b'a%d="1"' % n for n in range(count))
    changed = re.sub(rb"<([\w-]+):Envelope ", b"<\\1:Envelope " + extra + b" ", body, count=1)
    assert changed != body
    return changed


def test_a_submit_with_200000_attributes_on_its_envelope_is_refused_and_not_stored(
    stack: HubStack,
) -> None:
    before = stored_messages(stack)

    code, reason = fault(post(stack, with_attributes(envelope(stack), 200_000)))

    assert code == "Client.MalformedXML"
    assert "more than 100 attributes" in reason
    assert "element Envelope" in reason
    assert stored_messages(stack) == before


def test_a_submit_with_a_few_extra_attributes_is_still_accepted(stack: HubStack) -> None:
    answer = post(stack, with_attributes(envelope(stack), 20))

    assert answer.find(f".//{{{SOAP11}}}Fault") is None
    assert answer.findtext(".//{urn:govhub:hub:1}state") == "accepted"


def test_an_element_with_exactly_the_limit_of_attributes_parses() -> None:
    attributes = b" ".join(b'a%d="1"' % n for n in range(xmlparse.MAX_ATTRIBUTES))

    assert xmlparse.parse(b"<e " + attributes + b"/>").tag == "e"
    with pytest.raises(MalformedXML):
        xmlparse.parse(b"<e " + attributes + b' z="1"/>')


@pytest.mark.parametrize("field", ["purpose", "idempotencyKey", "correlationId"])
def test_an_over_long_soap_header_field_is_refused_naming_the_field(
    stack: HubStack, field: str
) -> None:
    code, reason = fault(post(stack, envelope(stack, **{field: "p" * 201})))

    assert code == "Client.SchemaInvalid"
    assert field in reason


def a_tax_push(stack: HubStack, day: int) -> bytes:
    """The JSON a tax clerk's entry pushes (kept in the mock's outbox)."""
    key = stack.mocks.tax.record_address_change(
        ZHANG, region_code="110105", line="朝阳路1号", effective=date(2024, 5, day)
    )
    return stack.mocks.tax.store.outbox_entry(key).body


@pytest.mark.parametrize(
    ("http_header", "field"),
    [
        ("Idempotency-Key", "idempotencyKey"),
        ("X-Purpose", "purpose"),
        ("X-Correlation-Id", "correlationId"),
    ],
)
def test_an_over_long_native_header_is_refused_naming_the_field(
    stack: HubStack, http_header: str, field: str
) -> None:
    body = a_tax_push(stack, day=3)

    answer = requests.post(
        stack.server.url + TAX_PATH,
        data=body,
        headers={"Content-Type": "application/json; charset=utf-8", http_header: "k" * 100_000},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "Client.SchemaInvalid"
    assert answer.json()["message"].startswith(f"{field} is 100000 characters long")
