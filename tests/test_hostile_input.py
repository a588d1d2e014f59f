"""Hostile XML sent to the hub's endpoints: each gets a fault in bounded time, nothing is
stored, and the server keeps serving. Also a bounded fuzz run over the SOAP ingress."""

from __future__ import annotations

import re
import resource
from collections.abc import Iterator

import pytest
import requests
from hubstack import HubStack, header, marriage, running_hub
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import text

pytestmark = pytest.mark.slow

MAX_BODY_BYTES = 1_000_000
TIME_BOUND_SECONDS = 30  # a hung request fails the test; this is a bound, not a speed check
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("hostile"), max_body_bytes=MAX_BODY_BYTES) as s:
        yield s


@pytest.fixture(scope="module")
def envelope(stack: HubStack) -> bytes:
    client = stack.client()
    message = client.create_message(client.service, "Submit", header=header(), message=marriage())
    return etree.tostring(message, encoding="UTF-8", xml_declaration=True)


def _body(envelope: bytes) -> bytes:
    """The envelope without its XML declaration, to put a DOCTYPE in front."""
    return envelope.split(b"?>", 1)[1]


def hostile_documents(envelope: bytes) -> dict[str, bytes]:
    laughs = b"".join(
        b'<!ENTITY l%d "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;">'
        % ((n,) + (n - 1,) * 10)
        for n in range(1, 10)
    )
    return {
        "XXE with a file entity": b'<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        + _body(envelope).replace(b"J110105-20260520-0001", b"&x;"),
        "XXE with a network entity": b'<!DOCTYPE e [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]>'
        + _body(envelope).replace(b"J110105-20260520-0001", b"&x;"),
        "billion laughs": b'<!DOCTYPE e [<!ENTITY l0 "ha">'
        + laughs
        + b"]>"
        + _body(envelope).replace(b"J110105-20260520-0001", b"&l9;"),
        "quadratic blow-up": b'<!DOCTYPE e [<!ENTITY a "'
        + b"x" * 50_000
        + b'">]>'
        + _body(envelope).replace(b"J110105-20260520-0001", b"&a;" * 15),
        "an external DTD": b'<!DOCTYPE e SYSTEM "http://127.0.0.1:9/e.dtd">' + _body(envelope),
        "any DOCTYPE at all": b"<!DOCTYPE e>" + _body(envelope),
        "XInclude": envelope.replace(
            b"J110105-20260520-0001",
            b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="/etc/passwd"'
            b' parse="text"/>',
        ),
        "10,000-deep nesting": envelope.replace(
            b"J110105-20260520-0001", b"<a>" * 10_000 + b"</a>" * 10_000
        ),
        "a body over the size limit": envelope + b"<!--" + b"x" * MAX_BODY_BYTES + b"-->",
        "invalid UTF-8": envelope.replace("张伟".encode(), b"\xff\xfe\xc3\x28"),
        "declared GB18030 but is not": envelope.replace(
            b"encoding='UTF-8'", b"encoding='GB18030'"
        ).replace("张伟".encode(), b"\x81\x20\xff"),
        "a SOAP 1.2 envelope to the SOAP 1.1 binding": envelope.replace(
            SOAP11.encode(), SOAP12.encode()
        ),
        "a huge number of attributes": re.sub(
            rb"<(\w+):registrationNumber>",
            lambda m: (
                b"<%s:registrationNumber %s>"
                % (m.group(1), b" ".join(b'a%d="1"' % n for n in range(60_000)))
            ),
            envelope,
            count=1,
        ),
    }


def stored_messages(stack: HubStack) -> int:
    with stack.runtime.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM messages")).scalar_one())


SOAP11_FAULT_CODES = ("Client", "Server", "VersionMismatch", "MustUnderstand")


def fault_code(answer: requests.Response) -> str:
    fault = etree.fromstring(answer.content).find(f".//{{{SOAP11}}}Fault")
    return "" if fault is None else (fault.findtext("faultcode") or "").split(":")[-1]


CASE_NAMES = list(hostile_documents(b"<?xml version='1.0'?><x/>"))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_hostile_xml_gets_a_client_fault_and_nothing_is_stored(
    stack: HubStack, envelope: bytes, case: str
) -> None:
    hostile = hostile_documents(envelope)[case]
    assert hostile != envelope  # the case really changed the document
    before = stored_messages(stack)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    answer = requests.post(
        stack.soap_url,
        data=hostile,
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=TIME_BOUND_SECONDS,
    )

    assert fault_code(answer).startswith(("Client.", "VersionMismatch")), answer.content[:300]
    assert stored_messages(stack) == before
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert grown_kib < 300_000, f"peak memory grew by {grown_kib} KiB"


@pytest.mark.parametrize("case", CASE_NAMES)
def test_hostile_xml_pushed_natively_is_refused_with_a_json_error(
    stack: HubStack, envelope: bytes, case: str
) -> None:
    answer = requests.post(
        f"{stack.server.url}/native/MARRIAGE_REGISTRY",
        data=hostile_documents(envelope)[case],
        headers={"Content-Type": "text/xml; charset=GB18030"},
        timeout=TIME_BOUND_SECONDS,
    )

    # 413 for the body over the limit, 400 for the rest of what the caller got wrong
    assert answer.status_code == (413 if case == "a body over the size limit" else 400)
    assert answer.json()["error"].startswith("Client.")


def test_the_hub_still_accepts_good_messages_after_hostile_ones(stack: HubStack) -> None:
    receipt = stack.client().service.Submit(header=header(), message=marriage())

    assert receipt.state == "accepted"


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_fuzzed_requests_get_a_receipt_or_a_structured_fault(
    stack: HubStack, envelope: bytes, data: st.DataObject
) -> None:
    body = bytearray(envelope)
    for _ in range(data.draw(st.integers(1, 8))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(body) - 1))
        if action == "flip":
            body[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del body[at : at + data.draw(st.integers(1, 40))]
        else:
            body[at:at] = data.draw(st.binary(min_size=1, max_size=40))

    answer = requests.post(
        stack.soap_url,
        data=bytes(body),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=TIME_BOUND_SECONDS,
    )

    document = etree.fromstring(answer.content)  # always an XML answer, never a broken one
    receipt = document.find(".//{urn:govhub:hub:1}messageId")
    assert receipt is not None or fault_code(answer), answer.content[:300]
    # SOAP 1.1's four fault codes: a damaged envelope namespace is a VersionMismatch.
    assert fault_code(answer) == "" or fault_code(answer).split(".")[0] in SOAP11_FAULT_CODES


def test_the_fuzz_run_left_the_server_serving(stack: HubStack) -> None:
    assert requests.get(f"{stack.server.url}/health", timeout=5).ok
