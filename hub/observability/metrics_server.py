"""/metrics for a process that serves no HTTP (``govhub worker --metrics-port P``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import start_http_server
from sqlalchemy import Engine

from hub.observability.metrics import hub_registry


@dataclass
class MetricsServer:
    url: str
    _server: Any

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_metrics(
    host: str, port: int, engine: Engine, departments: Callable[[], Iterable[str]]
) -> MetricsServer:
    """prometheus_client's own small server, in a thread; port 0 takes a free one."""
    server, _ = start_http_server(port, addr=host, registry=hub_registry(engine, departments))
    return MetricsServer(f"http://{host}:{server.server_port}/metrics", server)
