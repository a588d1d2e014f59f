"""Submit's answer is written directly (hub/api/soap_service.py: submit_response), not by
spyne's generic serializer: the bytes a department's client reads must not change."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from spyne.server.wsgi import WsgiApplication

from hub.api.soap_service import build_soap_application
from hub.config import Settings
from hub.runtime import HubRuntime

RECORD = (
    Path(__file__).resolve().parent.parent / "examples" / "canonical" / "MarriageRegistered.xml"
)


def submit_body(message_type: str = "MarriageRegistered") -> bytes:
    """A Submit of the example marriage, with a fresh message id and key."""
    record = RECORD.read_text(encoding="utf-8").split("?>", 1)[-1]
    message_id = str(uuid.uuid4())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:h="urn:govhub:hub:1">'
        "<s:Body><h:Submit><h:header>"
        f"<h:messageId>{message_id}</h:messageId><h:sender>MARRIAGE_REGISTRY</h:sender>"
        f"<h:messageType>{message_type}</h:messageType><h:schemaVersion>1.0</h:schemaVersion>"
        f"<h:idempotencyKey>{message_id}</h:idempotencyKey><h:purpose>registration</h:purpose>"
        "<h:sentAt>2026-05-20T09:00:00+08:00</h:sentAt>"
        f"</h:header><h:message>{record}</h:message></h:Submit></s:Body></s:Envelope>"
    ).encode()


@pytest.fixture
def hubs(tmp_path: Path) -> Iterator[tuple[WsgiApplication, WsgiApplication]]:
    """Two hubs with databases of their own: one answers Submit directly, one via spyne."""
    runtimes = [HubRuntime(Settings(data_dir=tmp_path / name)) for name in ("fast", "spyne")]
    try:
        yield tuple(
            WsgiApplication(
                build_soap_application(
                    runtime.ingress,
                    runtime.store,
                    runtime.settings.max_body_bytes,
                    fast_responses=fast,
                )
            )
            for runtime, fast in zip(runtimes, (True, False), strict=True)
        )
    finally:
        for runtime in runtimes:
            runtime.close()


def _submit(app: WsgiApplication, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "hub",
        "SERVER_PORT": "8700",
        "wsgi.url_scheme": "http",
        "QUERY_STRING": "",
    }
    started: list[tuple[str, list[tuple[str, str]]]] = []
    answer = b"".join(app(environ, lambda status, headers: started.append((status, headers))))
    return started[0][0], started[0][1], answer


def test_an_accepted_submit_is_answered_byte_for_byte_as_spyne_answers_it(
    hubs: tuple[WsgiApplication, WsgiApplication],
) -> None:
    fast, generic = hubs
    body = submit_body()

    direct, by_spyne = _submit(fast, body), _submit(generic, body)

    assert direct == by_spyne
    assert b"<tns:state>accepted</tns:state>" in direct[2]
    assert direct[2].count(b"<tns:receivers>") == 2


def test_a_repeated_submit_is_answered_byte_for_byte_as_spyne_answers_it(
    hubs: tuple[WsgiApplication, WsgiApplication],
) -> None:
    fast, generic = hubs
    body = submit_body()
    _submit(fast, body), _submit(generic, body)

    direct, by_spyne = _submit(fast, body), _submit(generic, body)

    assert direct == by_spyne
    assert b"<tns:duplicate>true</tns:duplicate>" in direct[2]


def test_a_refused_submit_is_still_a_fault_written_by_spyne(
    hubs: tuple[WsgiApplication, WsgiApplication],
) -> None:
    fast, generic = hubs
    body = submit_body(message_type="MarriageUnknown")

    direct, by_spyne = _submit(fast, body), _submit(generic, body)

    assert direct == by_spyne
    assert direct[0].startswith("500") and b"faultcode" in direct[2]
