"""A department server for tests: a real HTTP server on a free local port that answers every
request with a function of yours and records what it was sent. Runs outside pytest too.

    with FakeDepartment(lambda request: FakeResponse(503)) as department:
        config = dataclasses.replace(config, endpoint=department.url + "/soap")
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


@dataclass(frozen=True)
class FakeRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class FakeResponse:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


Handler = Callable[[FakeRequest], FakeResponse]


class FakeDepartment:
    """Answers every request with ``handler``; ``requests`` lists what it received."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1") -> None:
        self.handler = handler
        self.requests: list[FakeRequest] = []
        self._server = ThreadingHTTPServer((host, 0), _request_handler(self))
        # A short poll interval lets shutdown() return promptly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeDepartment:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def _request_handler(department: FakeDepartment) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = FakeRequest("POST", self.path, dict(self.headers), self.rfile.read(length))
            department.requests.append(request)
            answer = department.handler(request)
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: test output should not fill with access lines."""

    return _Handler
