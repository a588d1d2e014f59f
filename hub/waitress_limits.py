"""waitress held to the hub's limits before the app sees a request.

waitress reads a whole request body before it calls the app, so the app's own size check
(hub/api/wsgi.py) came only after waitress had waited for, and spooled to a temporary file,
whatever a caller declared (its own cap is 1 GiB). Here:

- waitress's cap is the hub's ``max_body_bytes``: a larger Content-Length is refused as soon as
  the headers are in, before any of the body is read; a chunked body is counted as it arrives
  and cut at the limit (waitress counts the chunks' framing too). The answer is the app's own
  (``refuse_oversized``: a SOAP fault or a 413 JSON error), and the connection is closed.
- A request's line and headers must arrive within ``header_timeout_seconds`` of its first
  byte (a slow-loris sender trickling a byte at a time is cut off), and a connection silent
  that long is closed (waitress's ``channel_timeout``).

    server = create_server(app, **waitress_adjustments(limits))
    hold_to_limits(server, limits, refuse_oversized)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

from hub.config import DEFAULT_HEADER_TIMEOUT_SECONDS, DEFAULT_MAX_BODY_BYTES, Settings

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# waitress's own: connections open at once before it stops accepting.
CONNECTION_LIMIT = 100


@dataclass(frozen=True)
class ServerLimits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    header_timeout_seconds: float = DEFAULT_HEADER_TIMEOUT_SECONDS
    # Connections beyond waitress's own limit: one per mailbox Receive allowed to wait.
    waiting_connections: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        waiting = max(0, settings.mailbox_wait_slots)
        return cls(settings.max_body_bytes, settings.header_timeout_seconds, waiting)


def waitress_adjustments(limits: ServerLimits) -> dict[str, Any]:
    """waitress's own settings for ``limits``. It refuses a body of ``max_request_body_size``
    bytes or more, the hub one of more than ``max_body_bytes``: hence the + 1."""
    seconds = max(1, math.ceil(limits.header_timeout_seconds))
    return {
        "max_request_body_size": limits.max_body_bytes + 1,
        "connection_limit": CONNECTION_LIMIT + limits.waiting_connections,
        "channel_timeout": seconds,
        # How often waitress looks for silent connections: often enough to keep the timeout.
        "cleanup_interval": max(1, min(30, seconds // 2)),
    }


def hold_to_limits(server: Any, limits: ServerLimits, refuse_oversized: WsgiApp | None) -> None:
    """Make a waitress server's connections keep ``limits``; an oversized request is answered
    by ``refuse_oversized`` (a WSGI app that never reads the body), or by waitress's plain 413."""
    server.channel_class = _LimitedChannel
    server.header_timeout_seconds = limits.header_timeout_seconds
    server.refuse_oversized = refuse_oversized


class _RefusalTask(ErrorTask):
    """waitress's error answer, except that an oversized body is answered by the hub's app."""

    def execute(self) -> None:
        server: Any = self.channel.server  # its hub attributes are set by hold_to_limits
        refuse: WsgiApp | None = server.refuse_oversized
        request: Any = self.request
        if refuse is None or not isinstance(request.error, RequestEntityTooLarge):
            super().execute()
            return
        declared = request.content_length if not request.chunked else 0
        environ = {
            "REQUEST_METHOD": request.command,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query,
            "CONTENT_LENGTH": str(declared) if declared else "",
            # The SOAP version of the fault follows the request's (application/soap+xml: 1.2).
            "CONTENT_TYPE": request.headers.get("CONTENT_TYPE", ""),
        }
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answer.update(status=status, headers=headers)

        body = b"".join(refuse(environ, start_response))
        self.status = answer["status"]
        self.response_headers = [
            *self.response_headers,
            *(
                (name, value)
                for name, value in answer["headers"]
                if name.lower() != "content-length"
            ),
        ]
        self.set_close_on_finish()  # the unread body is still on its way: end the connection
        self.content_length = len(body)
        self.write(body)


class _LimitedChannel(HTTPChannel):
    error_task_class = _RefusalTask
    headers_since: float | None = None  # first byte of a request whose headers are not all in

    def received(self, data: bytes) -> bool:
        result: bool = super().received(data)
        request = self.request
        if request is None or request.headers_finished:
            self.headers_since = None
        elif self.headers_since is None:
            self.headers_since = time.monotonic()
        return result

    server: Any  # with the attributes hold_to_limits sets

    def readable(self) -> bool:
        since, server = self.headers_since, self.server
        if since is not None and time.monotonic() - since > server.header_timeout_seconds:
            self.headers_since = None
            self.will_close = True  # closed by the next pass of waitress's loop (writable)
            return False
        return bool(super().readable())
