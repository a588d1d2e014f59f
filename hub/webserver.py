"""Serving a WSGI app, in the foreground or in a background thread: waitress for plain HTTP
(the default), cheroot when the hub terminates TLS itself (waitress has no TLS).

    server = make_server(app, host, port, TlsFiles.from_settings(settings),
                         limits=ServerLimits.from_settings(settings))

Either server keeps the hub's limits on a request before the app sees it
(hub/waitress_limits.py): its body size, and how long its headers may take.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any, Protocol

from waitress.server import create_server

from hub.errors import ConfigurationError
from hub.security.tls import TlsFiles
from hub.waitress_limits import ServerLimits, hold_to_limits, waitress_adjustments

DEFAULT_THREADS = 8


class Server(Protocol):
    host: str
    port: int

    @property
    def url(self) -> str: ...

    def start(self) -> Server: ...

    def serve_forever(self) -> None: ...

    def stop(self) -> None: ...


def check_can_listen(host: str, port: int) -> None:
    """Raise ConfigurationError, in one line, if ``host:port`` cannot be listened on: called
    before anything else starts, so a port in use stops nothing half-started."""
    if port == 0:
        return
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
            probe.bind((host, port))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {reason.lower()} "
            "(is another govhub running? choose another with --port or GOVHUB_PORT)"
        ) from exc


def make_server(
    app: Any,
    host: str,
    port: int,
    tls: TlsFiles | None = None,
    threads: int = DEFAULT_THREADS,
    limits: ServerLimits | None = None,
) -> Server:
    """waitress without TLS, cheroot with it; either listens on ``port`` (0: a free one)."""
    if tls is None:
        return BackgroundServer(app, host, port, threads, limits)
    return TlsServer(app, host, port, tls, threads, limits)


class BackgroundServer:
    """A waitress server on its own thread; ``port`` is the bound port (0 picks a free one).
    An oversized request is answered by the app's ``refuse_oversized`` if it has one."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        threads: int = DEFAULT_THREADS,
        limits: ServerLimits | None = None,
    ) -> None:
        limits = limits or ServerLimits()
        server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="govhub",
            clear_untrusted_proxy_headers=True,
            **waitress_adjustments(limits),
        )
        hold_to_limits(server, limits, getattr(app, "refuse_oversized", None))
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
            # OSError: the loop already closed its trigger, so it is on its way out.
            with contextlib.suppress(OSError):
                server.trigger.pull_trigger(close_all_channels)
            self._thread.join(timeout=5)
        else:
            close_all_channels()
        server.task_dispatcher.shutdown()


class TlsServer:
    """A cheroot server with the hub's TLS on its own thread. When client certificates are
    required, the verified one reaches the app as the environ's ``SSL_CLIENT_CERT``
    (hub/security/client_certificates.py)."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        tls: TlsFiles,
        threads: int,
        limits: ServerLimits | None = None,
    ) -> None:
        from cheroot import wsgi  # imported only when TLS is configured
        from cheroot.ssl.builtin import BuiltinSSLAdapter

        limits = limits or ServerLimits()
        # cheroot streams the body to the app, which refuses an oversized one before reading
        # it; its timeout bounds each wait for bytes from the client (headers and body).
        server: Any = wsgi.Server(
            (host, port),
            app,
            numthreads=threads,
            server_name="govhub",
            timeout=max(1, round(limits.header_timeout_seconds)),
        )
        adapter: Any = BuiltinSSLAdapter(tls.cert_file, tls.key_file)
        adapter.context = tls.context()  # ours: TLS 1.2 at least, the client CA, CERT_REQUIRED
        server.ssl_adapter = adapter
        server.prepare()  # binds now, so port 0 becomes a real port before start()
        self._server = server
        self.host = host
        self.port: int = server.bind_addr[1]
        self._thread = threading.Thread(target=server.serve, name=f"https-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> TlsServer:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve()

    def stop(self) -> None:
        self._server.stop()
        self._thread.join(timeout=5)
