"""Serve a WSGI app from a background thread with waitress (the hub's own server).

Port 0 binds a free port (see ``port`` after ``start``). ``stop`` really closes the listener;
``start`` again re-binds the same port, so a test can take a department down and back up.
"""

from __future__ import annotations

from typing import Any

from hub.errors import ConfigurationError
from hub.webserver import BackgroundServer

# A "slow" fault holds a thread per request; the hub delivers on a few threads per department.
THREADS = 16


class MockServer:
    """One WSGI app on one host and port, served until ``stop``."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: BackgroundServer | None = None

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
            server = BackgroundServer(self.app, self.host, self.port, threads=THREADS)
        except OSError as exc:
            raise ConfigurationError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = server.port
        self._server = server.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
