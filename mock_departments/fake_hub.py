"""A stand-in for the hub's native intake, for trying the clerks without a hub: it records
every request and answers with a status you choose (202 by default)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from mock_departments.http import Environ, Request, StartResponse, json_response
from mock_departments.server import MockServer


@dataclass(frozen=True)
class Pushed:
    path: str
    headers: dict[str, str]
    body: bytes


class FakeHub:
    """A WSGI app; serve it with ``serve()`` and read ``received``."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self._received: list[Pushed] = []
        self._lock = threading.Lock()

    @property
    def received(self) -> list[Pushed]:
        with self._lock:
            return list(self._received)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        with self._lock:
            self._received.append(Pushed(request.path, request.headers, request.body))
        document = {"status": "accepted" if self.status < 300 else "refused"}
        return json_response(self.status, document)(start_response)

    def serve(self, *, host: str = "127.0.0.1", port: int = 0) -> MockServer:
        return MockServer(self, host=host, port=port).start()
