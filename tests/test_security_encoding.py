"""Text whose declared encoding does not match its bytes, or whose two declarations (HTTP
charset, XML declaration) disagree, is refused and never stored as mojibake; text honestly
declared in either place is read in the encoding declared."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
import requests
from hubstack import HUSBAND_ID, WIFE_ID, HubStack, header, marriage, running_hub
from lxml import etree
from sqlalchemy import text

from mock_departments.people import Person

pytestmark = pytest.mark.slow

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
HUB = "urn:govhub:hub:1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("encoding")) as running:
        yield running


def submit(stack: HubStack, encoding: str, *, declaration: str | None = None) -> bytes:
    """A Submit serialised in ``encoding``, its XML declaration naming ``declaration``
    (the same by default; "" for none)."""
    client = stack.client()
    message = client.create_message(client.service, "Submit", header=header(), message=marriage())
    body = etree.tostring(message, encoding=encoding, xml_declaration=True)
    named = encoding if declaration is None else declaration
    body = re.sub(rb"^<\?xml[^>]*\?>", b"", body)
    if named:
        body = b"<?xml version='1.0' encoding='%s'?>" % named.encode() + body
    return body


def post(stack: HubStack, body: bytes, content_type: str) -> etree._Element:
    answer = requests.post(
        stack.soap_url, data=body, headers={"Content-Type": content_type}, timeout=30
    )
    return etree.fromstring(answer.content)


def fault(answer: etree._Element) -> tuple[str, str]:
    found = answer.find(f".//{{{SOAP11}}}Fault")
    assert found is not None, etree.tostring(answer)[:300]
    return found.findtext("faultcode", "").split(":")[-1], found.findtext("faultstring", "")


def stored_messages(stack: HubStack) -> int:
    with stack.runtime.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM messages")).scalar_one())


def stored_canonical(stack: HubStack, message_id: str) -> str:
    with stack.runtime.store.engine.connect() as connection:
        row = connection.execute(
            text("SELECT canonical FROM messages WHERE id = :id"), {"id": message_id}
        ).scalar_one()
    return bytes(row).decode("utf-8")


@pytest.mark.parametrize(
    ("case", "encoding", "declaration", "content_type"),
    [
        ("charset GB18030, declaration ISO-8859-1", "UTF-8", "ISO-8859-1", "GB18030"),
        ("charset UTF-8, declaration GB18030, bytes UTF-8", "UTF-8", "GB18030", "utf-8"),
        ("declared ISO-8859-1, bytes UTF-8", "UTF-8", "ISO-8859-1", None),
        ("charset ISO-8859-1, no declaration, bytes UTF-8", "UTF-8", "", "ISO-8859-1"),
        ("charset UTF-8, no declaration, bytes GB18030", "GB18030", "", "utf-8"),
    ],
)
def test_a_submit_whose_declared_encoding_does_not_match_is_refused_and_not_stored(
    stack: HubStack, case: str, encoding: str, declaration: str, content_type: str | None
) -> None:
    before = stored_messages(stack)
    media = "text/xml" + (f"; charset={content_type}" if content_type else "")

    code, reason = fault(post(stack, submit(stack, encoding, declaration=declaration), media))

    assert code == "Client.MalformedXML", case
    assert reason
    assert stored_messages(stack) == before


def test_a_disagreement_names_both_declarations(stack: HubStack) -> None:
    body = submit(stack, "UTF-8", declaration="ISO-8859-1")

    _, reason = fault(post(stack, body, "text/xml; charset=GB18030"))

    assert "charset=GB18030" in reason
    assert "ISO-8859-1" in reason


@pytest.mark.parametrize(
    ("case", "declaration", "content_type"),
    [
        ("declared GB18030 in both", "GB18030", "text/xml; charset=GB18030"),
        ("declared GB18030 by the XML declaration only", "GB18030", "text/xml"),
        ("declared GB18030 by the charset only", "", "text/xml; charset=GB18030"),
    ],
)
def test_gb18030_declared_honestly_is_read_as_gb18030(
    stack: HubStack, case: str, declaration: str, content_type: str
) -> None:
    answer = post(stack, submit(stack, "GB18030", declaration=declaration), content_type)

    assert answer.find(f".//{{{SOAP11}}}Fault") is None, etree.tostring(answer)[:300]
    message_id = answer.findtext(f".//{{{HUB}}}messageId")
    assert message_id
    canonical = stored_canonical(stack, message_id)
    assert "张伟" in canonical and "王芳" in canonical, case


def a_marriage_push(stack: HubStack, day: int) -> bytes:
    """The GB18030 SOAP envelope the marriage registry pushes (kept in its outbox)."""
    registry = stack.mocks.running["MARRIAGE_REGISTRY"].department
    husband = Person("张伟", HUSBAND_ID)
    wife = Person("王芳", WIFE_ID)
    number = registry.register_marriage(husband, wife, day=date(2026, 5, day), office="110105")
    body: bytes = registry.store.outbox_entry(number).body
    return body


def test_a_native_xml_push_whose_charset_disagrees_is_refused(stack: HubStack) -> None:
    body = a_marriage_push(stack, day=11)
    assert body.startswith(b"<?xml") and b"GB18030" in body[:100]

    answer = requests.post(
        f"{stack.server.url}/native/MARRIAGE_REGISTRY",
        data=body,
        headers={"Content-Type": "text/xml; charset=ISO-8859-1"},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "Client.MalformedXML"
    assert "charset=ISO-8859-1" in answer.json()["message"]


def test_a_native_json_push_declaring_another_charset_than_utf8_is_refused(
    stack: HubStack,
) -> None:
    key = stack.mocks.tax.record_address_change(
        Person("张伟", HUSBAND_ID),
        region_code="110105",
        line="朝阳路1号",
        effective=date(2024, 5, 9),
    )
    body = stack.mocks.tax.store.outbox_entry(key).body

    answer = requests.post(
        f"{stack.server.url}/native/TAX/api/v1/address-changes",
        data=body,
        headers={"Content-Type": "application/json; charset=GB18030", "Idempotency-Key": "gb-1"},
        timeout=30,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "Client.MalformedJSON"
    assert "charset=GB18030" in answer.json()["message"]
