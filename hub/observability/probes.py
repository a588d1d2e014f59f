"""/health, /ready and /metrics: a small WSGI handler the HTTP front hands those paths to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from sqlalchemy import Engine

from hub.config import Settings
from hub.configuration.live import LiveConfiguration
from hub.observability import checks
from hub.observability.metrics import exposition, hub_registry
from hub.observability.readiness import Readiness

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

PROBE_PATHS = frozenset({"/health", "/ready", "/metrics"})


class ProbeApp:
    def __init__(self, readiness: Readiness, registry: CollectorRegistry) -> None:
        self.readiness = readiness
        self.registry = registry

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"error": "MethodNotAllowed"})
        if path == "/health":
            return _json(start_response, "200 OK", {"status": "ok"})
        if path == "/metrics":
            return _metrics(start_response, self.registry)
        verdict = self.readiness.verdict()
        body = {"ready": verdict.ready, "failing": verdict.failing(), "checks": verdict.checks}
        status = "200 OK" if verdict.ready else "503 Service Unavailable"
        return _json(start_response, status, body)


def probe_app(settings: Settings, engine: Engine, live: LiveConfiguration) -> ProbeApp:
    """The probes of a hub process with this database and configuration."""
    bound = settings.ready_check_seconds
    readiness = Readiness(
        [
            checks.database(engine),
            checks.bus_connection(settings.bus_url, bound),
            checks.configuration(live),
        ],
        timeout_seconds=bound,
        cache_seconds=settings.ready_cache_seconds,
    )
    return ProbeApp(readiness, hub_registry(engine, live.departments.codes))


def _metrics(start_response: StartResponse, registry: CollectorRegistry) -> list[bytes]:
    data = exposition(registry)
    headers = [("Content-Type", CONTENT_TYPE_LATEST), ("Content-Length", str(len(data)))]
    start_response("200 OK", headers)
    return [data]


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    headers = [
        ("Content-Type", "application/json; charset=utf-8"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"),
    ]
    start_response(status, headers)
    return [data]
