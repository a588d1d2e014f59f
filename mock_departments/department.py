"""What every mock department shares: its store, fault plan, clerk outbox and WSGI dispatch.

A request goes through ``handle`` in this order:
  1 /_control/*            always answered (faults, what was received, the outbox)
  2 down?                  503 to everything else
  3 slow?                  wait
  4 a delivery route       fault verdict, then the department's own ``receive``
  5 a clerk or other route the department's own handlers
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Self

from hub.errors import ClientError, HubError, NotFound
from hub.identity import mask_in_text, verify
from hub.schemas import SchemaRegistry, default_registry
from mock_departments.faults import FaultPlan, Verdict
from mock_departments.http import (
    Environ,
    Request,
    Response,
    StartResponse,
    json_response,
    text_response,
)
from mock_departments.pusher import DEFAULT_HUB_URL, DEFAULT_RETRY_SECONDS, Pusher
from mock_departments.store import MockStore, store_path

log = logging.getLogger(__name__)

Handler = Callable[[Request], Response]


class MockDepartment:
    """Base of the mock departments; subclasses fill in the routes and the protocol."""

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    reference_prefix: ClassVar[str] = "R"

    def __init__(
        self,
        store: MockStore,
        *,
        hub_url: str = DEFAULT_HUB_URL,
        schemas: SchemaRegistry | None = None,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
    ) -> None:
        self.store = store
        self.hub_url = hub_url
        self.schemas = schemas or default_registry()
        self.faults = FaultPlan()
        self.pusher = Pusher(store, lambda: self.hub_url, retry_seconds=retry_seconds)

    @classmethod
    def open(cls, data_dir: Path, **options: Any) -> Self:
        """The department with its store under ``data_dir``."""
        store = MockStore(store_path(data_dir, cls.code), reference_prefix=cls.reference_prefix)
        return cls(store, **options)

    def start(self) -> None:
        """Start retrying the outbox in the background."""
        self.pusher.start()
        self.pusher.wake()

    def close(self) -> None:
        self.pusher.stop()
        self.store.close()

    # -- what subclasses provide ------------------------------------------------------------

    def delivery_routes(self) -> dict[tuple[str, str], Handler]:
        """(method, path) -> handler of the hub's deliveries (fault injection applies)."""
        return {}

    def other_routes(self) -> dict[tuple[str, str], Handler]:
        """(method, path) -> handler of clerk and metadata requests."""
        return {}

    def failure(self, request: Request, *, permanent: bool, reason: str) -> Response:
        """This department's way of refusing a delivery."""
        return json_response(400 if permanent else 500, {"status": "error", "error": reason})

    # -- WSGI -------------------------------------------------------------------------------

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            request = Request.from_environ(environ)
        except HubError as exc:
            return text_response(413, str(exc))(start_response)
        return self.handle(request)(start_response)

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_control/"):
            return self._guarded(request, self._control)
        if self.faults.is_down:
            return text_response(503, f"{self.code} is down (fault injection)")
        if self.faults.delay_seconds:
            time.sleep(self.faults.delay_seconds)
        route = (request.method, request.path)
        delivery = self.delivery_routes().get(route)
        if delivery is not None:
            return self._deliver(request, delivery)
        handler = self.other_routes().get(route)
        if handler is None:
            return text_response(404, f"no route {request.method} {request.path}")
        return self._guarded(request, handler)

    def _deliver(self, request: Request, receive: Handler) -> Response:
        verdict = self.faults.verdict()
        if verdict is Verdict.DOWN:
            return text_response(503, f"{self.code} is down (fault injection)")
        if verdict is not Verdict.ACCEPT:
            permanent = verdict is Verdict.REJECT
            reason = "rejected (fault injection)" if permanent else "failed (fault injection)"
            return self.failure(request, permanent=permanent, reason=reason)
        try:
            return receive(request)
        except ClientError as exc:
            return self.failure(request, permanent=True, reason=mask_in_text(str(exc)))
        except Exception as exc:
            log.exception("%s failed on a delivery", self.code)
            reason = mask_in_text(f"internal error: {exc}")
            return self.failure(request, permanent=False, reason=reason)

    def _guarded(self, request: Request, handler: Handler) -> Response:
        """Clerk and control requests: a JSON error for what the caller got wrong."""
        try:
            return handler(request)
        except NotFound as exc:
            return json_response(404, {"status": "error", "error": str(exc)})
        except ClientError as exc:
            return json_response(400, {"status": "error", "error": mask_in_text(str(exc))})

    # -- control ----------------------------------------------------------------------------

    def _control(self, request: Request) -> Response:
        if request.path == "/_control/faults" and request.method == "POST":
            document = request.json()
            if not isinstance(document, dict):
                raise ClientError("fault settings must be a JSON object")
            return json_response(200, self.faults.apply(document).as_dict())
        if request.path == "/_control/faults" and request.method == "GET":
            return json_response(200, self.faults.state.as_dict())
        if request.path == "/_control/received" and request.method == "GET":
            return json_response(200, self._received_summary(request))
        if request.path == "/_control/outbox" and request.method == "GET":
            return json_response(200, self._outbox_summary())
        return text_response(404, f"no route {request.method} {request.path}")

    def _received_summary(self, request: Request) -> dict[str, Any]:
        kind = request.query.get("kind", [""])[0] or None
        try:
            limit = int(request.query.get("limit", ["100"])[0])
        except ValueError as exc:
            raise ClientError("limit must be a whole number") from exc
        records = [asdict(r) for r in self.store.received(kind=kind, limit=limit)]
        return {
            "count": self.store.count(kind),
            "deliveries": self.store.deliveries().as_dict(),
            "by_kind": self.store.count_by_kind(),
            "records": records,
        }

    def _outbox_summary(self) -> dict[str, Any]:
        entries = [
            {
                "key": e.idempotency_key,
                "kind": e.kind,
                "status": e.status,
                "attempts": e.attempts,
                "last_error": e.last_error,
            }
            for e in self.store.outbox()
        ]
        return {"by_status": self.store.count_outbox(), "entries": entries}

    # -- helpers for subclasses -------------------------------------------------------------

    def keep(
        self,
        *,
        key: str | None,
        body: bytes,
        kind: str,
        payload: str,
        encoding: str,
        id_numbers: Iterable[str],
    ) -> tuple[str, bool]:
        """Store a validated delivery; return its reference and whether it is new."""
        numbers = list(id_numbers)
        for number in numbers:
            verify(number, where=kind)
        # Without a key, identical content is the same delivery.
        key = key or "sha256:" + hashlib.sha256(body).hexdigest()
        record, is_new = self.store.record(
            key=key, kind=kind, payload=payload, encoding=encoding, id_numbers=numbers
        )
        return record.reference, is_new

    def enter(self, *, key: str, kind: str, path: str, content_type: str, body: bytes) -> str:
        """Keep a clerk's record in the outbox and push it now; return its push status."""
        try:
            self.store.add_outbox(
                key=key, kind=kind, path=path, content_type=content_type, body=body
            )
        except sqlite3.IntegrityError as exc:
            raise ClientError(f"{key} is already registered") from exc
        return self.pusher.push(self.store.outbox_entry(key))
