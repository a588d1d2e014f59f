"""The request side of a Submit alone, in one process: CPU per Submit through the hub's WSGI
app with the commit replaced by a fixed receipt (no database write, no publish), against the
spyne echo's WSGI app, over the same pre-built bodies. No server, no sockets, one thread: far
steadier on shared cores than the ingest benchmark, which measures the whole API process.
Not part of the runner; to compare trees, run it with ``PYTHONPATH`` set to each
(docs/performance.md, "Goal 2").

    python -m bench.request_side --size 10000 --count 1500 --rounds 5
"""

from __future__ import annotations

import argparse
import io
import logging
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from spyne.server.wsgi import WsgiApplication

from bench import messages
from bench.echo import echo_application
from hub.config import Settings
from hub.ingress import PreparedMessage
from hub.runtime import HubRuntime
from hub.store import Receipt

App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _answered(app: App, body: bytes) -> None:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/soap",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "hub",
        "SERVER_PORT": "8700",
        "wsgi.url_scheme": "http",
        "QUERY_STRING": "",
    }
    status: list[str] = []
    result = app(environ, lambda answer, headers: status.append(answer))
    answer = b"".join(result)
    getattr(result, "close", lambda: None)()
    if not status[0].startswith("200") or b"Fault>" in answer:
        raise RuntimeError(f"not accepted: {status[0]} {answer[:300]!r}")


def _receipt(prepared: PreparedMessage) -> Receipt:
    message = prepared.message
    return Receipt(
        message_id=message.message_id,
        state="accepted",
        receivers=prepared.receivers,
        duplicate=False,
    )


def _us_per_request(app: App, bodies: list[bytes]) -> float:
    started = time.process_time()
    for body in bodies:
        _answered(app, body)
    return (time.process_time() - started) / len(bodies) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU per Submit on the request side alone")
    parser.add_argument("--size", type=int, default=10_000, help="body bytes")
    parser.add_argument("--count", type=int, default=1500, help="Submits per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the accepted line per message is the commit's, not ours
    runtime = HubRuntime(Settings(data_dir=Path(tempfile.mkdtemp())))
    runtime.ingress.commit = _receipt  # type: ignore[method-assign]
    hub: App = runtime.wsgi_app()
    echo: App = WsgiApplication(echo_application(), max_content_length=10 * 1024 * 1024 + 1)
    bodies = [messages.submit(args.size, n) for n in range(args.count)]
    for app in (hub, echo):  # warm: caches, the reply template, lazy imports
        _us_per_request(app, bodies[:200])
    hub_us, echo_us = [], []
    for _ in range(args.rounds):  # alternated, so a busy moment of the machine hits both
        hub_us.append(_us_per_request(hub, bodies))
        echo_us.append(_us_per_request(echo, bodies))
    runtime.close()
    print(f"size {args.size} B, {args.count} Submits x {args.rounds} rounds, CPU us per Submit")
    print("hub  (commit stubbed):", " ".join(f"{us:.0f}" for us in hub_us))
    print("echo:                 ", " ".join(f"{us:.0f}" for us in echo_us))
    middle = args.rounds // 2
    print(f"median hub/echo: {sorted(hub_us)[middle] / sorted(echo_us)[middle]:.3f}")


if __name__ == "__main__":
    main()
