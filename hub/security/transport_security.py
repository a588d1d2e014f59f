"""Whether the request in hand arrived over TLS that the hub itself terminated.

    with over_tls(arrived_over_tls(environ)):   # hub/api/wsgi.py, around each request
        ...                                     # WsseVerifier reads current()

Only cheroot, the hub's TLS server, says so (``wsgi.url_scheme`` https); waitress always says
http and is told by no proxy header otherwise. A TLS proxy in front is trusted only through an
explicit setting (GOVHUB_ALLOW_PASSWORD_TEXT_OVER_HTTP). A context variable carries the answer
to the checks, which run deep inside spyne, in the request's own thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar[bool] = ContextVar("govhub_over_tls", default=False)


def arrived_over_tls(environ: dict[str, Any]) -> bool:
    return environ.get("wsgi.url_scheme") == "https"


@contextmanager
def over_tls(tls: bool) -> Iterator[None]:
    token = _current.set(tls)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> bool:
    """True: the request in hand came over the hub's own TLS."""
    return _current.get()
