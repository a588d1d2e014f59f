"""Serving a WSGI app with waitress, in the foreground or in a background thread."""

from __future__ import annotations

import threading
from typing import Any

from waitress.server import create_server

DEFAULT_THREADS = 8


class BackgroundServer:
    """A waitress server on its own thread; ``port`` is the bound port (0 picks a free one)."""

    def __init__(self, app: Any, host: str, port: int, threads: int = DEFAULT_THREADS) -> None:
        server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="govhub",
            clear_untrusted_proxy_headers=True,
        )
        self._server = server
        server.asyncore_loop_timeout = 0.2  # how soon the loop notices stop()
        self.host = host
        self.port: int = self._server.effective_port
        self._thread = threading.Thread(
            target=self._server.run, name=f"http-{self.port}", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.run()

    def stop(self) -> None:
        # waitress's loop runs while any channel is open (its listener, a wake-up trigger,
        # client connections). Close them all from inside the loop's own thread, so the loop
        # never polls a closed socket, then let the request threads finish.
        server = self._server

        def close_all_channels() -> None:
            for channel in list(server._map.values()):
                channel.close()

        if self._thread.is_alive():
            server.trigger.pull_trigger(close_all_channels)
            self._thread.join(timeout=5)
        else:
            close_all_channels()
        server.task_dispatcher.shutdown()
