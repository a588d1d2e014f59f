"""docs/api.md cannot go stale: every raw request in it is sent to a running hub and the
answer compared with the one the page shows, and every zeep example is run against it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from hubstack import HubStack, running_hub
from lxml import etree

pytestmark = pytest.mark.slow

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text("utf-8")
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
_MARKED = re.compile(r"<!-- (request|answer): ([\w-]+) ?([^>]*?) ?-->\n(?:```xml\n(.*?)```)?", re.S)
_BLANKLESS = etree.XMLParser(remove_blank_text=True)


def examples() -> dict[tuple[str, str], tuple[str, str]]:
    """(request|answer, name) -> (edit, XML or "" when the XML follows the next marker)."""
    found = {}
    for match in _MARKED.finditer(PAGE):
        found[(match.group(1), match.group(2))] = (match.group(3), match.group(4) or "")
    for name in ("fault-11", "fault-12"):  # the answer's XML follows its request's marker
        if not found[("answer", name)][1]:
            found[("answer", name)] = ("", _block_after(f"<!-- answer: {name} -->"))
    return found


def _block_after(marker: str) -> str:
    rest = PAGE[PAGE.index(marker) :]
    return rest[rest.index("```xml\n") + 7 : rest.index("```", rest.index("```xml\n") + 7)]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("apidoc")) as running:
        yield running


def send(stack: HubStack, body: bytes, soap12: bool = False) -> bytes:
    content_type = "application/soap+xml" if soap12 else "text/xml"
    answer = requests.post(
        stack.soap_url,
        data=body,
        headers={"Content-Type": f"{content_type}; charset=utf-8"},
        timeout=30,
    )
    return answer.content


def assert_same(shown: etree._Element, got: etree._Element) -> None:
    """Same elements, in order, with the same text; ``*`` in the page matches any text, and
    a QName text (``soapenv:Client.X``) is compared by namespace and name, not prefix."""
    assert got.tag == shown.tag, (got.tag, shown.tag)
    assert _value(got) == _value(shown) or (shown.text or "") == "*", (got.tag, got.text)
    assert [c.tag for c in got] == [c.tag for c in shown], got.tag
    for shown_child, got_child in zip(shown, got, strict=True):
        assert_same(shown_child, got_child)


def _value(element: etree._Element) -> str:
    text = (element.text or "").strip()
    prefix, colon, local = text.partition(":")
    if colon and prefix in (element.nsmap or {}) and " " not in text:
        return f"{{{element.nsmap[prefix]}}}{local}"
    return text


def test_every_raw_example_gets_the_answer_the_page_shows(stack: HubStack) -> None:
    found = examples()
    submit = found[("request", "submit")][1].encode()
    got = etree.fromstring(send(stack, submit), _BLANKLESS)
    assert_same(etree.fromstring(found[("answer", "submit")][1].encode(), _BLANKLESS), got)

    message_id = got.findtext(".//{urn:govhub:hub:1}messageId")
    assert message_id is not None
    stack.wait_settled(message_id)
    status = etree.fromstring(send(stack, found[("request", "getstatus")][1].encode()), _BLANKLESS)
    assert_same(etree.fromstring(found[("answer", "getstatus")][1].encode(), _BLANKLESS), status)

    for name, soap12 in (("fault-11", False), ("fault-12", True)):
        field, _, value = found[("request", name)][0].partition("=")
        request = etree.fromstring(submit, _BLANKLESS)  # sent on one line
        next(request.iter(f"{{urn:govhub:canonical:1}}{field}")).text = value
        body = etree.tostring(request)
        if soap12:
            body = body.replace(SOAP11.encode(), SOAP12.encode())
        shown = etree.fromstring(found[("answer", name)][1].encode(), _BLANKLESS)
        assert_same(shown, etree.fromstring(send(stack, body, soap12), _BLANKLESS))


def test_every_zeep_example_runs_against_the_hub(stack: HubStack) -> None:
    found = examples()
    send(stack, found[("request", "submit")][1].encode())  # GetStatus's example asks for it
    blocks = re.findall(r"<!-- zeep -->\n```python\n(.*?)```", PAGE, re.S)

    assert len(blocks) == 5
    for block in blocks:
        exec(block.replace("http://localhost:8700", stack.server.url), {"uuid": uuid})


def test_every_fault_code_the_wsdl_declares_is_in_the_page() -> None:
    from hub.api.soap_faults import OPERATION_FAULTS

    for codes in OPERATION_FAULTS.values():
        for code in codes:
            assert f"`{code}`" in PAGE, code
