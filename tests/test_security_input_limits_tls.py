"""Bounded input behind the hub's own TLS (cheroot): a huge declared body is answered with its
fault at once, without the server first reading the body it refuses. Raw TLS socket, real
server on a free port; the wait is bounded, no speed is asserted."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree
from test_mtls import CertificateAuthority

from hub.config import Settings
from hub.runtime import HubRuntime
from hub.security.tls import TlsFiles
from hub.waitress_limits import ServerLimits
from hub.webserver import Server, make_server

pytestmark = pytest.mark.slow

ANSWER_BOUND_SECONDS = 10.0
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass
class TlsHub:
    server: Server
    server_ca: Path


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsHub]:
    folder = tmp_path_factory.mktemp("tls-limits")
    server_ca = CertificateAuthority(folder, "server-ca")
    served = server_ca.issue("hub", server=True)
    settings = Settings(
        data_dir=folder / "hub",
        max_body_bytes=1_000_000,
        tls_cert_file=str(served.cert_file),
        tls_key_file=str(served.key_file),
    )
    runtime = HubRuntime(settings)
    tls = TlsFiles.from_settings(settings)
    limits = ServerLimits.from_settings(settings)
    server = make_server(runtime.wsgi_app(), "127.0.0.1", 0, tls, limits=limits).start()
    try:
        yield TlsHub(server, server_ca.cert_file)
    finally:
        server.stop()
        runtime.close()


def answer_to(hub: TlsHub, head: bytes) -> tuple[int, bytes]:
    context = ssl.create_default_context(cafile=str(hub.server_ca))
    with socket.create_connection(("127.0.0.1", hub.server.port)) as raw:
        raw.settimeout(ANSWER_BOUND_SECONDS)
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as connection:
            connection.sendall(head)
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
    head_part, _, body = data.partition(b"\r\n\r\n")
    return int(head_part.split(b" ", 2)[1]), body


def test_a_huge_declared_soap_body_gets_its_fault_without_being_read(hub: TlsHub) -> None:
    status, body = answer_to(
        hub,
        b"POST /soap HTTP/1.1\r\nHost: hub\r\nContent-Type: text/xml; charset=utf-8\r\n"
        b"Content-Length: 200000000\r\n\r\n",
    )

    assert status == 413
    fault = etree.fromstring(body).find(f".//{{{SOAP11}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode", "").endswith("Client.BodyTooLarge")


def test_a_huge_declared_native_body_gets_413_json_without_being_read(hub: TlsHub) -> None:
    status, body = answer_to(
        hub,
        b"POST /native/TAX/api/v1/address-changes HTTP/1.1\r\nHost: hub\r\n"
        b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n",
    )

    assert status == 413
    assert b'"error": "Client.BodyTooLarge"' in body
