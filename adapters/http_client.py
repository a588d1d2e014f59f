"""A small HTTP/1.1 client for calls to departments: one request and its whole answer over a
kept connection, answered as a ``requests.Response``.

requests over urllib3 and http.client costs about 0.2 ms of CPU for a 2 kB POST on these
machines (a quarter to a third of a delivering worker), most of it in layers a department
call does not use (retry bookkeeping, streaming, ``email``'s header parser, an answer object
built twice). This client writes the prepared request in one write and reads the answer
through a buffered reader: about a quarter of that (docs/performance.md).
``PoolPerEndpoint.send`` (adapters/_http.py) uses it for requests without a proxy whose body
is in memory; everything else still goes through urllib3.

What it keeps of urllib3's behaviour: a kept connection is checked before it is used again
(one the department has closed is dropped, not written to), answers are read whole
(Content-Length, chunked, or up to the close), gzip and deflate are decoded, TLS verifies the
department's certificate against the CA bundle requests would use, a client certificate is
presented when the session has one, and failures are requests' own exceptions
(``ConnectTimeout``, ``ReadTimeout``, ``SSLError``, ``ConnectionError``), so callers translate
them as before. A request is never sent twice: a connection that fails mid-call is closed and
the error raised.
"""

from __future__ import annotations

import http.client
import os
import select
import socket
import ssl
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any, NoReturn
from urllib.parse import urlsplit

import requests
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import DEFAULT_CA_BUNDLE_PATH, get_encoding_from_headers

Timeout = float | tuple[float | None, float | None] | None
Verify = bool | str
Cert = str | tuple[str, str] | None

MAX_LINE = 65536  # bytes in a status or header line (http.client's limit)
MAX_HEADERS = 100  # header lines in one answer (http.client's limit)
ONE_WRITE_LIMIT = 64 * 1024  # a larger body is written after the head, not copied onto it
_DEFAULT_PORTS = {"http": 80, "https": 443}


class KeptConnections:
    """Connections to departments' origins, kept open between calls; safe for many threads
    (a connection serves one call at a time)."""

    def __init__(self, max_idle_per_origin: int = 10) -> None:
        self.max_idle_per_origin = max_idle_per_origin
        self._idle: dict[tuple[Any, ...], list[_Connection]] = {}
        self._tls: dict[tuple[Any, ...], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def exchange(
        self,
        request: requests.PreparedRequest,
        *,
        timeout: Timeout,
        verify: Verify = True,
        cert: Cert = None,
    ) -> requests.Response:
        """Send the request and read its answer whole."""
        parts = urlsplit(request.url or "")
        scheme, host = parts.scheme, parts.hostname or ""
        port = parts.port or _DEFAULT_PORTS[scheme]
        connect_timeout, read_timeout = _timeouts(timeout)
        tls = self._tls_context(verify, cert) if scheme == "https" else None
        origin = (scheme, host, port, verify, cert)
        head = _request_head(request, parts.netloc.rpartition("@")[2])
        body = _body_bytes(request.body)
        connection = self._take(origin) or _Connection.open(host, port, connect_timeout, tls)
        try:
            connection.sock.settimeout(read_timeout)
            if len(body) <= ONE_WRITE_LIMIT:
                connection.sock.sendall(head + body)
            else:
                connection.sock.sendall(head)
                connection.sock.sendall(body)
            answer = _read_answer(connection.reader, request.method or "")
        except BaseException as exc:
            connection.close()
            _raise_as_requests_error(exc, request, "reading")
        if answer.keep_alive:
            self._give_back(origin, connection)
        else:
            connection.close()
        return answer.response(request)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def _take(self, origin: tuple[Any, ...]) -> _Connection | None:
        while True:
            with self._lock:
                waiting = self._idle.get(origin)
                connection = waiting.pop() if waiting else None
            if connection is None or connection.still_open():
                return connection
            connection.close()  # the department closed it while it rested

    def _give_back(self, origin: tuple[Any, ...], connection: _Connection) -> None:
        with self._lock:
            waiting = self._idle.setdefault(origin, [])
            if len(waiting) < self.max_idle_per_origin:
                waiting.append(connection)
                return
        connection.close()

    def _tls_context(self, verify: Verify, cert: Cert) -> ssl.SSLContext:
        key = (verify, cert)
        with self._lock:
            context = self._tls.get(key)
        if context is None:
            context = _tls_context(verify, cert)
            with self._lock:
                self._tls[key] = context
        return context


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader: IO[bytes] = sock.makefile("rb")

    @classmethod
    def open(
        cls, host: str, port: int, timeout: float | None, tls: ssl.SSLContext | None
    ) -> _Connection:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except BaseException as exc:
            _raise_as_requests_error(exc, None, "connecting")
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
        except BaseException as exc:
            sock.close()
            _raise_as_requests_error(exc, None, "connecting")
        return cls(sock)

    def still_open(self) -> bool:
        """Nothing to read on a resting connection: anything readable is the department's
        close (or garbage), and the connection cannot carry another call."""
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(self.sock, select.POLLIN)
                return not poller.poll(0)
            readable, _, _ = select.select([self.sock], [], [], 0)
            return not readable
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    fields: list[tuple[str, str]]
    content: bytes
    keep_alive: bool

    def response(self, request: requests.PreparedRequest) -> requests.Response:
        response = requests.Response()
        response.status_code = self.status
        response.reason = self.reason
        response.headers = CaseInsensitiveDict(_joined(self.fields))
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = self.content
        response._content_consumed = True  # type: ignore[attr-defined]
        response.url = request.url or ""
        response.request = request
        response.raw = _RawAnswer(self.fields)
        if response.raw._original_response is not None:
            extract_cookies_to_jar(response.cookies, request, response.raw)  # type: ignore[no-untyped-call]
        return response


class _RawAnswer:
    """What requests' cookie handling reads of urllib3's answer: the header fields as
    http.client's message, present only when the department sets a cookie."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._original_response: _Original | None = None
        cookies = [value for name, value in fields if name.lower() == "set-cookie"]
        if cookies:
            message = http.client.HTTPMessage()
            for value in cookies:
                message["Set-Cookie"] = value
            self._original_response = _Original(message)

    def close(self) -> None:
        """Nothing to release: the answer was read whole."""


class _Original:
    def __init__(self, message: http.client.HTTPMessage) -> None:
        self.msg = message


def _request_head(request: requests.PreparedRequest, authority: str) -> bytes:
    lines = [f"{request.method} {request.path_url} HTTP/1.1"]
    headers: Mapping[str, str | bytes] = request.headers
    if "Host" not in headers:
        lines.append(f"Host: {authority}")
    for name, value in headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        if "\r" in text or "\n" in text or "\r" in name or "\n" in name:
            raise requests.exceptions.InvalidHeader(f"header {name!r} holds a line break")
        lines.append(f"{name}: {text}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _body_bytes(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    raise TypeError("only bodies held in memory as bytes are sent by this client")


def _read_answer(reader: IO[bytes], method: str) -> _Answer:
    version, status, reason = _status_line(reader)
    fields = _fields(reader)
    while 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
        version, status, reason = _status_line(reader)
        fields = _fields(reader)
    named = {name.lower(): value for name, value in fields}
    tokens = {token.strip().lower() for token in named.get("connection", "").split(",")}
    keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
    if method == "HEAD" or status in (204, 304):
        content = b""
    elif "chunked" in named.get("transfer-encoding", "").lower():
        content = _chunked(reader)
    elif "content-length" in named:
        content = _exactly(reader, _length(named["content-length"]))
    else:  # the answer ends with the connection
        content, keep_alive = reader.read(), False
    encoding = named.get("content-encoding", "").strip().lower()
    return _Answer(status, reason, fields, _decoded(content, encoding), keep_alive)


def _status_line(reader: IO[bytes]) -> tuple[str, int, str]:
    line = reader.readline(MAX_LINE + 1)
    if not line:
        raise http.client.RemoteDisconnected("the department closed the connection unanswered")
    if len(line) > MAX_LINE:
        raise http.client.LineTooLong("status line")
    version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
        raise http.client.BadStatusLine(line.decode("latin-1", "replace"))
    return version, int(code), reason.strip()


def _fields(reader: IO[bytes]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    while True:
        line = reader.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise http.client.LineTooLong("header line")
        if line in (b"\r\n", b"\n"):
            return fields
        if not line:
            raise http.client.IncompleteRead(b"", None)
        if len(fields) >= MAX_HEADERS:
            raise http.client.HTTPException(f"more than {MAX_HEADERS} header lines")
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise http.client.HTTPException("a header line without a colon")
        fields.append((name.strip(), value.strip()))


def _length(value: str) -> int:
    lengths = {part.strip() for part in value.split(",")}  # repeated, they must agree
    if len(lengths) != 1 or not next(iter(lengths)).isdigit():
        raise http.client.HTTPException(f"a Content-Length of {value!r}")
    return int(lengths.pop())


def _exactly(reader: IO[bytes], length: int) -> bytes:
    data = reader.read(length)
    if len(data) != length:
        raise http.client.IncompleteRead(data, length - len(data))
    return data


def _chunked(reader: IO[bytes]) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = reader.readline(MAX_LINE + 1)
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise http.client.IncompleteRead(b"".join(chunks)) from None
        if size == 0:
            _fields(reader)  # trailers, if any, end with an empty line
            return b"".join(chunks)
        chunks.append(_exactly(reader, size))
        if reader.readline(3) not in (b"\r\n", b"\n"):
            raise http.client.IncompleteRead(b"".join(chunks))


def _decoded(content: bytes, encoding: str) -> bytes:
    """gzip and deflate undone, as urllib3 does; any other coding is left as sent."""
    if not content or encoding not in ("gzip", "x-gzip", "deflate"):
        return content
    try:
        if encoding == "deflate":
            try:
                return zlib.decompress(content)
            except zlib.error:  # deflate sent without its zlib wrapper
                return zlib.decompress(content, -zlib.MAX_WBITS)
        return zlib.decompress(content, 16 + zlib.MAX_WBITS)
    except zlib.error as exc:
        raise requests.exceptions.ContentDecodingError(
            f"the answer's {encoding} coding does not decode: {exc}"
        ) from exc


def _joined(fields: list[tuple[str, str]]) -> dict[str, str]:
    """Header fields by name, repeated ones joined by commas (urllib3's way)."""
    joined: dict[str, str] = {}
    lowered: dict[str, str] = {}
    for name, value in fields:
        first = lowered.setdefault(name.lower(), name)
        joined[first] = f"{joined[first]}, {value}" if first in joined else value
    return joined


def _timeouts(timeout: Timeout) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout
    return timeout, timeout


def _tls_context(verify: Verify, cert: Cert) -> ssl.SSLContext:
    """Verification as requests configures urllib3: its CA bundle (or the one named), the
    department's host name checked; no system store unless requests' bundle is it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        location = DEFAULT_CA_BUNDLE_PATH if verify is True else verify
        if os.path.isdir(location):
            context.load_verify_locations(capath=location)
        else:
            context.load_verify_locations(cafile=location)
    if isinstance(cert, str):
        context.load_cert_chain(cert)
    elif cert:
        context.load_cert_chain(cert[0], cert[1])
    return context


def _raise_as_requests_error(
    exc: BaseException, request: requests.PreparedRequest | None, doing: str
) -> NoReturn:
    """requests' exception for a failure while connecting or reading, as urllib3's would
    have been translated; anything else (a bug, KeyboardInterrupt) raised as it is."""
    translated: BaseException = exc
    if isinstance(exc, requests.RequestException):
        pass
    elif isinstance(exc, socket.timeout):
        timed_out = requests.exceptions.ConnectTimeout if doing == "connecting" else None
        translated = (timed_out or requests.exceptions.ReadTimeout)(exc, request=request)
    elif isinstance(exc, ssl.SSLError):
        translated = requests.exceptions.SSLError(exc, request=request)
    elif isinstance(exc, OSError | http.client.HTTPException):
        translated = requests.exceptions.ConnectionError(exc, request=request)
    if translated is exc:
        raise exc
    raise translated from exc
