"""Serve a WSGI app from a background thread: stdlib wsgiref, one thread per request.

Port 0 binds a free port (see ``port`` after ``start``). ``stop`` really closes the listener;
``start`` again re-binds the same port, so a test can take a department down and back up.
"""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from hub.errors import ConfigurationError


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow request must not keep the process alive
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops connections under a burst of deliveries


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Per-request lines are noise; the mocks' stores say what arrived."""


class MockServer:
    """One WSGI app on one host and port, served until ``stop``."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: _ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> MockServer:
        if self._server is not None:
            return self
        try:
            server = make_server(
                self.host,
                self.port,
                self.app,
                server_class=_ThreadingWSGIServer,
                handler_class=_QuietHandler,
            )
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = server.server_port
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"mock-server-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
