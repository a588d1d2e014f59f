"""The hub's own HTTP client for department calls (adapters/http_client.py), used the way
the adapters use it (``new_session`` and ``Poster``), against real local servers: kept
connections, the ways an answer can be framed, a department that closes, hangs or breaks
off, TLS with a client certificate, and the calls it leaves to urllib3 (through a proxy)."""

from __future__ import annotations

import contextlib
import gzip
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from test_mtls import CertificateAuthority

from adapters._http import Poster, new_session, translated_request_errors
from hub.errors import PermanentDeliveryError, RetryableDeliveryError

Answerer = Callable[["Connection"], None]


class Connection:
    """One accepted connection, read the way a department reads its calls."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def request(self) -> tuple[str, dict[str, str], bytes] | None:
        """The next request (its line, headers by lower-case name, body), None at the close."""
        line = self.reader.readline()
        if not line:
            return None
        headers: dict[str, str] = {}
        while (header := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.reader.read(int(headers.get("content-length", "0")))
        return line.decode("latin-1").strip(), headers, body

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def hang_up(self) -> None:
        """Close now (a FIN the client sees), whoever still holds the socket."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Department:
    """A TCP server that hands every connection to ``answer``; notes what it was sent."""

    answer: Answerer
    tls: ssl.SSLContext | None = None
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    connections: int = 0
    peer_names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/deliver"

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_side=True)
                peer = sock.getpeercert() or {}
                self.peer_names += [v for rdn in peer.get("subject", ()) for k, v in rdn]
            connection = _Noting(sock, self)
            self.answer(connection)
            connection.hang_up()
        except OSError:  # ssl.SSLError included: a client the department refused
            pass
        finally:
            sock.close()


class _Noting(Connection):
    def __init__(self, sock: socket.socket, department: Department) -> None:
        super().__init__(sock)
        self.department = department

    def request(self) -> tuple[str, dict[str, str], bytes] | None:
        found = super().request()
        if found is not None:
            self.department.requests.append(found)
        return found


def answered(body: bytes = b"ok", *, extra: str = "") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        extra.encode(),
        body,
    )


def keeps_answering(connection: Connection) -> None:
    while connection.request() is not None:
        connection.send(answered())


@pytest.fixture
def serve() -> Iterator[Callable[..., Department]]:
    started: list[Department] = []

    def start(answer: Answerer, tls: ssl.SSLContext | None = None) -> Department:
        started.append(Department(answer, tls))
        return started[-1]

    yield start
    for department in started:
        department.close()


def post(url: str, body: bytes = b"<x/>", timeout: float = 5, **headers: str) -> requests.Response:
    return Poster(new_session(url)).post(url, body, headers, timeout)


def as_tax_adapter(call: Callable[[], object]) -> object:
    """The call with requests' errors turned into delivery errors, as the adapters turn them."""
    with translated_request_errors("TAX"):
        return call()


def test_calls_share_one_kept_connection_and_arrive_as_sent(
    serve: Callable[..., Department],
) -> None:
    department = serve(keeps_answering)
    poster = Poster(new_session(department.url))
    for n in range(3):
        answer = poster.post(department.url, b"<n>%d</n>" % n, {"Idempotency-Key": f"k{n}"}, 5)
        assert (answer.status_code, answer.text) == (200, "ok")
    assert department.connections == 1
    line, headers, body = department.requests[2]
    assert line == "POST /deliver HTTP/1.1"
    assert headers["host"] == f"127.0.0.1:{department.port}"
    assert headers["idempotency-key"] == "k2"
    assert headers["content-length"] == str(len(b"<n>2</n>"))
    assert body == b"<n>2</n>"


def test_a_connection_the_department_closed_while_it_rested_is_not_written_to(
    serve: Callable[..., Department],
) -> None:
    hung_up = threading.Event()

    def answers_once(connection: Connection) -> None:  # keep-alive promised, then closed
        if connection.request() is not None:
            connection.send(answered())
            connection.hang_up()
            hung_up.set()

    department = serve(answers_once)
    poster = Poster(new_session(department.url))
    assert poster.post(department.url, b"<first/>", {}, 5).text == "ok"
    assert hung_up.wait(5)
    assert poster.post(department.url, b"<second/>", {}, 5).text == "ok"
    assert [body for _, _, body in department.requests] == [b"<first/>", b"<second/>"]
    assert department.connections == 2


def test_an_answer_that_says_close_is_not_kept(serve: Callable[..., Department]) -> None:
    done = threading.Event()

    def answers_and_lingers(connection: Connection) -> None:  # says close, closes late
        if connection.request() is not None:
            connection.send(answered(extra="Connection: close\r\n"))
            done.wait(10)

    department = serve(answers_and_lingers)
    poster = Poster(new_session(department.url))
    for _ in range(2):
        assert poster.post(department.url, b"<x/>", {}, 2).text == "ok"
    done.set()
    assert department.connections == 2


@pytest.mark.parametrize(
    "framed",
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\n<ok\r\n4;note=x\r\n tax\r\n2\r\n/>\r\n0\r\nX-Trailer: t\r\n\r\n",
            id="chunked",
        ),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
            % (len(gzip.compress(b"<ok tax/>")), gzip.compress(b"<ok tax/>")),
            id="gzip",
        ),
        pytest.param(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<ok tax/>",
            id="after 100 Continue",
        ),
        pytest.param(b"HTTP/1.0 200 OK\r\n\r\n<ok tax/>", id="up to the close"),
    ],
)
def test_every_framing_of_an_answer_is_read_whole(
    serve: Callable[..., Department], framed: bytes
) -> None:
    def answers(connection: Connection) -> None:
        if connection.request() is not None:
            connection.send(framed)
            if framed.startswith(b"HTTP/1.0"):
                connection.sock.shutdown(socket.SHUT_WR)
            keeps_answering(connection)

    department = serve(answers)
    poster = Poster(new_session(department.url))
    assert poster.post(department.url, b"<x/>", {}, 5).text == "<ok tax/>"
    # The framing was followed: the next answer on the same connection is read right (an
    # answer ended by the close comes on a new connection, framed the same way).
    up_to_the_close = framed.startswith(b"HTTP/1.0")
    second = poster.post(department.url, b"<y/>", {}, 5).text
    assert second == ("<ok tax/>" if up_to_the_close else "ok")
    assert department.connections == (2 if up_to_the_close else 1)


def test_headers_of_the_answer_are_read_and_a_cookie_is_sent_back(
    serve: Callable[..., Department],
) -> None:
    cookie = "Set-Cookie: route=b7; Path=/\r\nX-Seen: 1\r\nx-seen: 2\r\n"

    def answers(connection: Connection) -> None:
        connection.request()
        connection.send(answered(b"{}", extra=f"Content-Type: application/json\r\n{cookie}"))
        keeps_answering(connection)

    department = serve(answers)
    poster = Poster(new_session(department.url))
    first = poster.post(department.url, b"<x/>", {}, 5)
    assert first.headers["content-type"] == "application/json"
    assert first.headers["X-SEEN"] == "1, 2"
    assert first.json() == {}
    poster.post(department.url, b"<y/>", {}, 5)
    assert department.requests[1][1]["cookie"] == "route=b7"


def test_a_department_that_is_not_listening_is_retried_later() -> None:
    nobody = socket.create_server(("127.0.0.1", 0))  # a port nobody listens on once closed
    port = nobody.getsockname()[1]
    nobody.close()
    with (
        pytest.raises(RetryableDeliveryError, match="cannot connect to TAX"),
        translated_request_errors("TAX"),
    ):
        post(f"http://127.0.0.1:{port}/deliver")


def test_a_department_that_does_not_answer_in_time_times_out(
    serve: Callable[..., Department],
) -> None:
    hang = threading.Event()

    def hangs(connection: Connection) -> None:
        connection.request()
        hang.wait(10)

    department = serve(hangs)
    with (
        pytest.raises(RetryableDeliveryError, match="did not answer in time"),
        translated_request_errors("TAX"),
    ):
        post(department.url, timeout=0.3)
    hang.set()


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n<half", id="cut short"),
        pytest.param(b"", id="closed unanswered"),
        pytest.param(b"SMTP ready\r\n\r\n", id="not HTTP"),
    ],
)
def test_a_department_that_breaks_off_its_answer_is_retried_on_a_new_connection(
    serve: Callable[..., Department], broken: bytes
) -> None:
    calls: list[int] = []

    def breaks_first(connection: Connection) -> None:
        connection.request()
        calls.append(1)
        if len(calls) == 1:
            connection.send(broken)
            return
        connection.send(answered())

    department = serve(breaks_first)
    poster = Poster(new_session(department.url))
    with (
        pytest.raises(RetryableDeliveryError, match="cannot connect to TAX"),
        translated_request_errors("TAX"),
    ):
        poster.post(department.url, b"<x/>", {}, 5)
    assert poster.post(department.url, b"<x/>", {}, 5).text == "ok"
    assert department.connections == 2


def test_a_header_with_a_line_break_is_never_sent(serve: Callable[..., Department]) -> None:
    department = serve(keeps_answering)
    with (
        pytest.raises(PermanentDeliveryError, match="InvalidHeader"),
        translated_request_errors("TAX"),
    ):
        post(department.url, **{"SOAPAction": "x\r\nX-Injected: 1"})
    assert department.requests == []


def test_tls_verifies_the_department_and_presents_the_hubs_certificate(
    serve: Callable[..., Department], tmp_path: Path
) -> None:
    authority = CertificateAuthority(tmp_path, "departments-ca")
    served, hub = authority.issue("tax-office", server=True), authority.issue("govhub")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(*served.pair)
    tls.load_verify_locations(cafile=str(authority.cert_file))
    tls.verify_mode = ssl.CERT_REQUIRED  # the department wants to know who calls
    department = serve(keeps_answering, tls)

    session = new_session(department.url)
    session.verify, session.cert = str(authority.cert_file), hub.pair
    poster = Poster(session)
    for _ in range(2):
        assert poster.post(department.url, b"<x/>", {}, 5).text == "ok"
    assert department.connections == 1
    assert department.peer_names[0] == "govhub"

    stranger = CertificateAuthority(tmp_path, "someone-else")
    distrusting = new_session(department.url)
    distrusting.verify, distrusting.cert = str(stranger.cert_file), hub.pair
    with pytest.raises(requests.exceptions.SSLError):
        Poster(distrusting).post(department.url, b"<x/>", {}, 5)


def test_a_call_through_a_proxy_goes_to_the_proxy(serve: Callable[..., Department]) -> None:
    proxy = serve(keeps_answering)
    session = new_session("http://tax.invalid/deliver")
    session.proxies = {"http": f"http://127.0.0.1:{proxy.port}"}
    assert Poster(session).post("http://tax.invalid/deliver", b"<x/>", {}, 5).text == "ok"
    assert proxy.requests[0][0] == "POST http://tax.invalid/deliver HTTP/1.1"
