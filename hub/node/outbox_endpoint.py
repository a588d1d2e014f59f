"""The node's outbox over HTTP, for a system that would rather POST than write files.

Loopback only (127.0.0.1, a free port unless one is given): ``POST /outbox`` with the
canonical record as the body is written into the outbox folder as a finished file (a
temporary name, then renamed), exactly as a system dropping a file would, and answered 202
with the idempotency key the node will send it under. The node's loop sends it like any
other file: once, retried while the hub is down. The same body POSTed again, or the same
``Idempotency-Key`` header with the same body, is the same file and the same key: the hub
answers the second Submit as a duplicate.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from hub.node.outbox import OutboxFile

LOOPBACK = "127.0.0.1"
PATH = "/outbox"
MAX_BODY_BYTES = 10 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def posted_name(body: bytes, key_header: str | None) -> str:
    """The file a POST becomes: named by the caller's key, else by the content."""
    stem = _UNSAFE.sub("_", key_header.strip())[:80] if key_header and key_header.strip() else ""
    return f"posted-{stem or hashlib.sha256(body).hexdigest()[:32]}.xml"


def write_finished(folder: Path, name: str, body: bytes) -> OutboxFile:
    part = folder / f".{name}.part"  # the loop skips dot-names: never half a file
    part.write_bytes(body)
    part.replace(folder / name)
    return OutboxFile(folder / name, body)


class OutboxEndpoint:
    """A small HTTP server on the loopback address, on its own thread."""

    def __init__(self, folder: Path, port: int = 0) -> None:
        self.folder = folder
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                endpoint.answer(self)

            def log_message(self, *args: Any) -> None:  # the node logs what it sends
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="govhub-node-outbox", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_port}{PATH}"

    def start(self) -> OutboxEndpoint:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        if request.path.split("?", 1)[0] != PATH:
            _reply(request, 404, {"error": f"POST the document to {PATH}"})
            return
        length = int(request.headers.get("Content-Length") or 0)
        if not 0 < length <= MAX_BODY_BYTES:
            _reply(request, 400 if length == 0 else 413, {"error": "a document of 1 B to 10 MiB"})
            return
        body = request.rfile.read(length)
        if not body.lstrip().startswith(b"<"):
            _reply(request, 415, {"error": "the outbox takes a canonical XML record"})
            return
        name = posted_name(body, request.headers.get("Idempotency-Key"))
        file = write_finished(self.folder, name, body)
        _reply(request, 202, {"idempotencyKey": file.idempotency_key, "file": name})


def _reply(request: BaseHTTPRequestHandler, status: int, answer: dict[str, str]) -> None:
    content = json.dumps(answer).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(content)))
    request.end_headers()
    request.wfile.write(content)


__all__ = ["OutboxEndpoint", "posted_name"]
