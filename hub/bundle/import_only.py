"""The web front of ``govhub serve --import-only``: a hub on the receiving side of a one-way
gateway takes bundles from the command line (``govhub bundle import``), so its listener
answers GET and HEAD of /health, /ready and /metrics, and nothing else: no /soap, no /admin,
no /console, no native pushes; any other path is 404, any other method 405."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from hub.observability.probes import Environ, StartResponse, probe_app

if TYPE_CHECKING:
    from hub.runtime import HubRuntime

SERVED_PATHS = ("/health", "/ready", "/metrics")
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]


class ImportOnlyApp:
    def __init__(self, probes: WsgiApp) -> None:
        self.probes = probes

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") not in SERVED_PATHS:
            return _refused(start_response, "404 Not Found", "NotFound")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _refused(start_response, "405 Method Not Allowed", "MethodNotAllowed")
        return self.probes(environ, start_response)


def import_only_app(runtime: HubRuntime) -> ImportOnlyApp:
    """The probes of this hub, behind the import-only gate."""
    return ImportOnlyApp(probe_app(runtime.settings, runtime.store.engine, runtime.config))


def _refused(start_response: StartResponse, status: str, error: str) -> list[bytes]:
    reason = "this hub imports bundles only; it serves GET " + ", ".join(SERVED_PATHS)
    body = json.dumps({"error": error, "reason": reason}).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(status, headers)
    return [body]
