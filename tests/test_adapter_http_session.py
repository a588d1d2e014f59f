"""A department's HTTP session reads the proxy and CA-bundle environment once, when it is
made, and applies it exactly as requests would on every call."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import responses

from adapters._http import USER_AGENT, Poster, new_session

ENDPOINT = "https://tax.example.gov.cn/api"


def test_a_proxy_from_the_environment_applies_to_the_department(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    session = new_session(ENDPOINT)

    assert session.proxies.get("https") == "http://proxy.internal:3128"


def test_no_proxy_exempts_the_department_from_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "tax.example.gov.cn")

    session = new_session(ENDPOINT)

    assert "https" not in session.proxies


def test_a_ca_bundle_from_the_environment_verifies_the_department(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/govhub/department-ca.pem")

    assert new_session(ENDPOINT).verify == "/etc/govhub/department-ca.pem"


@responses.activate
def test_each_post_carries_its_own_headers_and_body_and_the_sessions_auth() -> None:
    responses.post(ENDPOINT, body="ok")
    session = new_session(ENDPOINT)
    session.auth = ("hub", "s3cret")
    poster = Poster(session)

    poster.post(ENDPOINT, b"first", {"Idempotency-Key": "k1"}, timeout=5)
    poster.post(ENDPOINT, b"second, longer", {"Idempotency-Key": "k2"}, timeout=5)

    first, second = (call.request for call in responses.calls)
    assert (first.body, first.headers["Idempotency-Key"]) == (b"first", "k1")
    assert (second.body, second.headers["Idempotency-Key"]) == (b"second, longer", "k2")
    assert second.headers["Content-Length"] == str(len(b"second, longer"))
    assert first.headers["Authorization"] == second.headers["Authorization"]
    assert second.headers["Authorization"].startswith("Basic ")
    assert second.headers["User-Agent"] == USER_AGENT


@responses.activate
def test_a_cookie_the_department_sets_is_sent_back_on_the_next_post() -> None:
    responses.post(ENDPOINT, body="ok", headers={"Set-Cookie": "route=node-2; Path=/"})
    poster = Poster(new_session(ENDPOINT))

    poster.post(ENDPOINT, b"first", {}, timeout=5)
    poster.post(ENDPOINT, b"second", {}, timeout=5)

    assert "Cookie" not in responses.calls[0].request.headers
    assert responses.calls[1].request.headers["Cookie"] == "route=node-2"


@responses.activate
def test_a_redirect_is_not_followed() -> None:
    responses.post(ENDPOINT, status=307, headers={"Location": "https://elsewhere.example/x"})

    answer = Poster(new_session(ENDPOINT)).post(ENDPOINT, b"record", {}, timeout=5)

    assert answer.status_code == 307
    assert len(responses.calls) == 1


@responses.activate
def test_a_response_hook_on_the_session_still_runs() -> None:
    responses.post(ENDPOINT, body="ok")
    session = new_session(ENDPOINT)
    seen: list[int] = []
    session.hooks["response"].append(lambda response, **_: seen.append(response.status_code))

    Poster(session).post(ENDPOINT, b"record", {}, timeout=5)

    assert seen == [200]


class _Recording(BaseHTTPRequestHandler):
    """Answers 200 to every POST over kept-alive connections; notes bodies and connections."""

    protocol_version = "HTTP/1.1"
    bodies: ClassVar[list[bytes]] = []
    connections: ClassVar[list[int]] = []

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address[1])

    def do_POST(self) -> None:  # http.server's name
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def department_url() -> Iterator[str]:
    _Recording.bodies, _Recording.connections = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/deliver"
    server.shutdown()
    server.server_close()


def test_posts_reuse_one_kept_connection_and_a_closed_session_connects_afresh(
    department_url: str,
) -> None:
    session = new_session(department_url)
    poster = Poster(session)
    for body in (b"<first/>", b"<second/>"):
        assert poster.post(department_url, body, {}, timeout=5).text == "ok"
    assert len(_Recording.connections) == 1  # the pool found once kept the connection
    session.close()  # its pools close: the next post must find a new one, not fail
    assert poster.post(department_url, b"<third/>", {}, timeout=5).text == "ok"
    assert _Recording.bodies == [b"<first/>", b"<second/>", b"<third/>"]
    assert len(_Recording.connections) == 2
