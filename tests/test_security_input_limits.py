"""Bounded input at the HTTP edge, against a running hub over raw sockets: an oversized body
is refused before it is read (declared) or cut where it crosses the limit (chunked), and a
request whose headers trickle in is dropped. Waits are bounded; no speed is asserted."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import pytest
import requests
import zeep
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from sqlalchemy import text

pytestmark = pytest.mark.slow

MAX_BODY_BYTES = 1_000_000
HEADER_TIMEOUT_SECONDS = 1.0
ANSWER_BOUND_SECONDS = 10.0  # a bound on a hung answer, far below waitress's old 120 s wait
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(
        tmp_path_factory.mktemp("limits"),
        max_body_bytes=MAX_BODY_BYTES,
        header_timeout_seconds=HEADER_TIMEOUT_SECONDS,
    ) as running:
        yield running


@pytest.fixture(scope="module")
def client(stack: HubStack) -> zeep.Client:
    return stack.client()


@pytest.fixture
def envelope(client: zeep.Client) -> bytes:
    """A new Submit for each test (its own message id)."""
    message = client.create_message(client.service, "Submit", header=header(), message=marriage())
    return etree.tostring(message, encoding="UTF-8", xml_declaration=True)


def stored_messages(stack: HubStack) -> int:
    with stack.runtime.store.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM messages")).scalar_one())


def connect(stack: HubStack) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", stack.server.port))
    connection.settimeout(ANSWER_BOUND_SECONDS)
    return connection


def read_answer(connection: socket.socket) -> tuple[int, bytes]:
    """The status code and body of the answer, read until the server closes the connection."""
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def request_head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: hub", *headers, "", ""]
    return "\r\n".join(lines).encode()


def fault_code(body: bytes) -> str:
    fault = etree.fromstring(body).find(f".//{{{SOAP11}}}Fault")
    return "" if fault is None else (fault.findtext("faultcode") or "").split(":")[-1]


def test_a_huge_declared_body_gets_its_fault_before_any_of_it_is_sent(stack: HubStack) -> None:
    before = stored_messages(stack)
    with connect(stack) as connection:
        connection.sendall(
            request_head(
                "/soap", "Content-Type: text/xml; charset=utf-8", "Content-Length: 200000000"
            )
        )
        status, body = read_answer(connection)

    assert status == 413
    assert fault_code(body) == "Client.BodyTooLarge"
    assert b"200000000" in body
    assert stored_messages(stack) == before


def test_a_native_push_with_a_huge_declared_body_gets_413_json(stack: HubStack) -> None:
    with connect(stack) as connection:
        connection.sendall(
            request_head(
                "/native/MARRIAGE_REGISTRY",
                "Content-Type: application/json",
                "Content-Length: 50000000",
            )
        )
        status, body = read_answer(connection)

    assert status == 413
    assert b'"error": "Client.BodyTooLarge"' in body


def test_a_chunked_body_over_the_limit_is_cut_where_it_crosses_it(
    stack: HubStack, envelope: bytes
) -> None:
    before = stored_messages(stack)
    padded = envelope + b" " * (MAX_BODY_BYTES + 1 - len(envelope))
    chunks = [padded[at : at + 65536] for at in range(0, len(padded), 65536)]
    with connect(stack) as connection:
        connection.sendall(
            request_head(
                "/soap", "Content-Type: text/xml; charset=utf-8", "Transfer-Encoding: chunked"
            )
        )
        for chunk in chunks:  # the last chunk and the end marker are never needed
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        status, body = read_answer(connection)

    assert status == 413
    assert fault_code(body) == "Client.BodyTooLarge"
    assert stored_messages(stack) == before


def test_a_body_of_exactly_the_limit_is_still_accepted(stack: HubStack, envelope: bytes) -> None:
    padded = envelope + b" " * (MAX_BODY_BYTES - len(envelope))

    answer = requests.post(
        stack.soap_url,
        data=padded,
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=ANSWER_BOUND_SECONDS,
    )

    assert fault_code(answer.content) == "", answer.content[:300]
    assert b"accepted" in answer.content


def test_headers_that_trickle_in_are_dropped_after_the_header_timeout(stack: HubStack) -> None:
    trickle = request_head("/soap", "Content-Type: text/xml", "X-Slow: " + "s" * 200)
    closed_by_server = False
    with connect(stack) as connection:
        give_up = time.monotonic() + ANSWER_BOUND_SECONDS
        for byte in trickle:  # one byte every 0.1 s: the connection is never idle for long
            if time.monotonic() > give_up:
                break
            try:
                connection.sendall(bytes([byte]))
            except OSError:  # the server closed the connection (reset)
                closed_by_server = True
                break
            readable, _, _ = select.select([connection], [], [], 0.1)
            if readable:
                try:
                    closed_by_server = connection.recv(1024) == b""
                except OSError:
                    closed_by_server = True
                break

    assert closed_by_server


def test_a_slow_body_whose_headers_came_at_once_is_still_accepted(
    stack: HubStack, envelope: bytes
) -> None:
    pieces = [
        envelope[at : at + len(envelope) // 5 + 1]
        for at in range(0, len(envelope), len(envelope) // 5 + 1)
    ]
    with connect(stack) as connection:
        connection.sendall(
            request_head(
                "/soap",
                "Content-Type: text/xml; charset=utf-8",
                f"Content-Length: {len(envelope)}",
                "Connection: close",
            )
        )
        for piece in pieces:  # well over the header timeout in all, never that long silent
            time.sleep(HEADER_TIMEOUT_SECONDS / 2)
            connection.sendall(piece)
        status, body = read_answer(connection)

    assert status == 200, body[:300]
    assert b"accepted" in body
