"""The TLS client certificate of the request being handled, when the hub terminates TLS.

    with presented(peer_fingerprint(environ)):   # hub/api/wsgi.py, around each request
        ...                                      # WsseVerifier.verify reads current()

The HTTP front sets it from the WSGI environ of a TLS server that required and verified the
certificate (cheroot puts it in ``SSL_CLIENT_CERT``); waitress and TLS proxies never set that
key, and an HTTP header cannot (headers arrive as ``HTTP_*``). A context variable carries it
to the checks, which run deep inside spyne, in the request's own thread.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

ENVIRON_KEY = "SSL_CLIENT_CERT"  # the PEM of the verified peer certificate (mod_ssl's name)

_current: ContextVar[str | None] = ContextVar("govhub_client_certificate", default=None)


def peer_fingerprint(environ: dict[str, Any]) -> str | None:
    """SHA-256 (hex) of the DER of the verified client certificate, or None."""
    pem = environ.get(ENVIRON_KEY)
    if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
        return None
    try:
        der = ssl.PEM_cert_to_DER_cert(pem.strip() + "\n")
    except ValueError:
        return None
    return hashlib.sha256(der).hexdigest()


@contextmanager
def presented(fingerprint: str | None) -> Iterator[None]:
    token = _current.set(fingerprint)
    try:
        yield
    finally:
        _current.reset(token)


def current() -> str | None:
    """The fingerprint of the client certificate of the request in hand, if any."""
    return _current.get()
