"""A plain Submit is answered without spyne (hub/api/submit_fast_path.py), its reply written
directly (hub/api/soap_service.py: submit_reply), not by spyne's generic serializer: the bytes
a department's client reads must not change, nor the faults spyne answers for it."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
from lxml import etree
from spyne.server.wsgi import WsgiApplication

from hub.api.reply_template import reply_envelope
from hub.api.soap_protocol import HubSoap12
from hub.api.soap_service import (
    ReceiptModel,
    build_soap_application,
    submit_reply,
    submit_response,
)
from hub.api.submit_fast_path import HubWsgiApplication
from hub.config import Settings
from hub.runtime import HubRuntime
from hub.security import audit
from hub.store import Store

RECORD = (
    Path(__file__).resolve().parent.parent / "examples" / "canonical" / "MarriageRegistered.xml"
)


SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


def submit_body(message_type: str = "MarriageRegistered", soap_env: str = SOAP11) -> bytes:
    """A Submit of the example marriage, with a fresh message id and key."""
    record = RECORD.read_text(encoding="utf-8").split("?>", 1)[-1]
    message_id = str(uuid.uuid4())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{soap_env}" '
        'xmlns:h="urn:govhub:hub:1">'
        "<s:Body><h:Submit><h:header>"
        f"<h:messageId>{message_id}</h:messageId><h:sender>MARRIAGE_REGISTRY</h:sender>"
        f"<h:messageType>{message_type}</h:messageType><h:schemaVersion>1.0</h:schemaVersion>"
        f"<h:idempotencyKey>{message_id}</h:idempotencyKey><h:purpose>registration</h:purpose>"
        "<h:sentAt>2026-05-20T09:00:00+08:00</h:sentAt>"
        f"</h:header><h:message>{record}</h:message></h:Submit></s:Body></s:Envelope>"
    ).encode()


class Hub(NamedTuple):
    app: WsgiApplication
    store: Store


@pytest.fixture(params=[False, True], ids=["soap11", "soap12"])
def hubs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[Hub, Hub]]:
    """Two hubs with databases of their own: one answers Submit itself, one via spyne; both
    in SOAP 1.1, then both in 1.2."""
    runtimes = [HubRuntime(Settings(data_dir=tmp_path / name)) for name in ("fast", "spyne")]
    try:
        fast, generic = (
            Hub(
                HubWsgiApplication(
                    build_soap_application(
                        runtime.ingress,
                        runtime.store,
                        runtime.settings.max_body_bytes,
                        fast_responses=fast,
                        soap12=request.param,
                    )
                ),
                runtime.store,
            )
            for runtime, fast in zip(runtimes, (True, False), strict=True)
        )
        yield fast, generic
    finally:
        for runtime in runtimes:
            runtime.close()


def _submit(hub: Hub, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    soap12 = isinstance(hub.app.app.in_protocol, HubSoap12)
    if soap12:
        body = body.replace(SOAP11.encode(), SOAP12.encode(), 1)
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "CONTENT_TYPE": f"{'application/soap+xml' if soap12 else 'text/xml'}; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "hub",
        "SERVER_PORT": "8700",
        "wsgi.url_scheme": "http",
        "QUERY_STRING": "",
    }
    started: list[tuple[str, list[tuple[str, str]]]] = []
    answer = b"".join(hub.app(environ, lambda status, headers: started.append((status, headers))))
    return started[0][0], started[0][1], answer


def test_an_accepted_submit_is_answered_byte_for_byte_as_spyne_answers_it(
    hubs: tuple[Hub, Hub],
) -> None:
    fast, generic = hubs
    body = submit_body()

    direct, by_spyne = _submit(fast, body), _submit(generic, body)

    assert direct == by_spyne
    assert b"<tns:state>accepted</tns:state>" in direct[2]
    assert direct[2].count(b"<tns:receivers>") == 2


def test_a_repeated_submit_is_answered_byte_for_byte_as_spyne_answers_it(
    hubs: tuple[Hub, Hub],
) -> None:
    fast, generic = hubs
    body = submit_body()
    _submit(fast, body), _submit(generic, body)

    direct, by_spyne = _submit(fast, body), _submit(generic, body)

    assert direct == by_spyne
    assert b"<tns:duplicate>true</tns:duplicate>" in direct[2]


def test_a_refused_submit_is_still_a_fault_written_by_spyne(
    hubs: tuple[Hub, Hub],
) -> None:
    fast, generic = hubs
    body = submit_body(message_type="MarriageUnknown")

    direct, by_spyne = _submit(fast, body), _submit(generic, body)

    assert direct == by_spyne
    assert direct[0][:3] in ("400", "500") and b"Fault>" in direct[2]
    assert _refusals(fast) == _refusals(generic) == ["Client.UnknownMessageType"]


def test_a_submit_refused_at_its_commit_is_answered_and_audited_as_spyne_does_it(
    hubs: tuple[Hub, Hub],
) -> None:
    fast, generic = hubs
    first = submit_body()
    _submit(fast, first), _submit(generic, first)
    # The same idempotency key with another record: refused when it is stored.
    other = first.replace(b"J110105", b"J110106", 1)

    direct, by_spyne = _submit(fast, other), _submit(generic, other)

    assert direct == by_spyne
    assert b"Client.IdempotencyConflict" in direct[2]
    assert _refusals(fast) == _refusals(generic) == ["Client.IdempotencyConflict"]


def _refusals(hub: Hub) -> list[str]:
    with hub.store.engine.connect() as connection:
        entries = [e for e in audit.entries(connection) if e.action == audit.REFUSED]
    return [json.loads(e.details)["code"] for e in entries]


@pytest.mark.parametrize("soap_env", [SOAP11, SOAP12])
def test_a_receipts_text_is_escaped_in_its_reply_as_lxml_escapes_it(soap_env: str) -> None:
    receipt = ReceiptModel(
        messageId="0d6f3b3e-1c1a-4c55-9b1e-5b0b3f6a0c01",
        state="accepted",
        duplicate=True,
        receivers=["TAX", "SOCIAL_SECURITY"],
        warning="move to 2.0 & <soon> \"now\",\r\n\t婚姻登记 'ok'",
    )
    nsmap = {"env": soap_env, "tns": "urn:govhub:hub:1", "xs": "http://www.w3.org/2001/XMLSchema"}
    envelope = etree.Element(f"{{{soap_env}}}Envelope", nsmap=nsmap)
    etree.SubElement(envelope, f"{{{soap_env}}}Body").append(submit_response(receipt))
    etree.cleanup_namespaces(envelope)
    template = reply_envelope(soap_env, nsmap, "urn:govhub:hub:1", "UTF-8", True)

    assert template is not None
    written = template.around(submit_reply(receipt, template.prefix))
    assert written == etree.tostring(envelope, encoding="UTF-8", xml_declaration=True)


def test_a_control_character_in_a_receipt_is_refused_as_lxml_refuses_it() -> None:
    receipt = ReceiptModel(messageId="x", state="accepted", duplicate=False, warning="a\x01b")

    with pytest.raises(ValueError):
        submit_response(receipt)
    with pytest.raises(ValueError):
        submit_reply(receipt, "tns")
