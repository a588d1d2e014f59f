"""The hub's HTTP front: one WSGI app routing to the SOAP API and native ingress.

  /soap                     SOAP 1.1 and 1.2 API (Submit, GetStatus); WSDL at /soap?wsdl
  /admin                    SOAP 1.1 operators' API (hub/api/admin_service.py); /admin?wsdl
  /native/<DEPT>[/<path>]   a department pushes a record in its own format (authenticated:
                            hub/security/native_auth.py)
  /health, /ready, /metrics liveness, readiness, Prometheus (hub/observability)
  /console[/...]            the operators' web console (hub/console/), when given one

Request bodies are read with a hard limit before anything parses them, and only once their
size fits in the budget of bytes in flight (hub/api/admission.py). Behind a TLS server
that verified a client certificate, the certificate is known to the checks for the whole request
(hub/security/client_certificates.py), as is the TLS itself (hub/security/transport_security.py).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from spyne.server.wsgi import WsgiApplication

from hub.api import freed_memory
from hub.api.admission import ByteBudget, Permit, released_on_close
from hub.api.soap_endpoint import speaks_soap12
from hub.api.soap_faults import fault_envelope, fault_from
from hub.api.soap_protocol import DATABASE_AWAY
from hub.errors import (
    BodyTooLarge,
    Busy,
    ClientError,
    HubError,
    IdempotencyConflict,
    NotAuthenticated,
    NotAuthorized,
    StoreUnavailable,
)
from hub.federation.status import STATUS_PATH as FEDERATION_STATUS_PATH
from hub.ingress import Ingress
from hub.observability import PROBE_PATHS, ProbeApp, log_refusal, outages
from hub.security import client_certificates, transport_security
from hub.security.native_auth import SCHEME, NativeAuthenticator, NativeRequest
from hub.store import Receipt
from hub.untrusted import shown

log = logging.getLogger(__name__)
_RETRY_AFTER = [("Retry-After", str(outages.RETRY_AFTER_SECONDS))]

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


class HubWsgiApp:
    def __init__(
        self,
        soap: Callable[[Environ, StartResponse], Iterable[bytes]],
        ingress: Ingress,
        max_body_bytes: int,
        admin: WsgiApplication | None = None,
        native_auth: NativeAuthenticator | None = None,
        admission: ByteBudget | None = None,
        console: Callable[[Environ, StartResponse], Iterable[bytes]] | None = None,
        probes: ProbeApp | None = None,
        federation: Callable[[Environ, StartResponse], Iterable[bytes]] | None = None,
    ) -> None:
        self.soap = soap
        # Neighbour hubs asking about their forwards (hub/federation/status.py).
        self.federation = federation
        self.admin = admin
        self.native_auth = native_auth
        self.ingress = ingress
        self.max_body_bytes = max_body_bytes
        self.admission = admission
        self.console = console
        self.probes = probes

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        fingerprint = client_certificates.peer_fingerprint(environ)
        tls = transport_security.arrived_over_tls(environ)
        if fingerprint is None and not tls:
            return self._route(environ, start_response)
        with client_certificates.presented(fingerprint), transport_security.over_tls(tls):
            # Drained here: the checks must see the TLS facts however lazily spyne answers.
            return _drained(self._route(environ, start_response))

    def _route(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if self.probes is not None and path in PROBE_PATHS:
            return self.probes(environ, start_response)
        if path.startswith("/native/"):
            return self._native(environ, start_response, path)
        if path.rstrip("/") == "/soap":
            return self._soap(environ, start_response)
        if path.rstrip("/") == "/admin" and self.admin is not None:
            return self._soap(environ, start_response, self.admin)
        if self.federation is not None and path == FEDERATION_STATUS_PATH:
            return _answered_while_database_away(self.federation, environ, start_response)
        if self.console is not None and (path == "/console" or path.startswith("/console/")):
            return self.console(environ, start_response)
        return _json(start_response, "404 Not Found", {"error": "NotFound", "message": path})

    def refuse_oversized(self, environ: Environ, start_response: StartResponse) -> list[bytes]:
        """The answer to a request the server found over the body limit before reading it
        (hub/waitress_limits.py): in its route's own format, the body never touched."""
        declared = environ.get("CONTENT_LENGTH") or ""
        error = BodyTooLarge(
            f"body of {declared} bytes is over the limit of {self.max_body_bytes}"
            if declared.isdigit()
            else f"body is over the limit of {self.max_body_bytes} bytes"
        )
        path = environ.get("PATH_INFO", "") or "/"
        if not path.startswith("/native/"):
            return _soap_fault(environ, start_response, error)
        department, _, rest = path[len("/native/") :].partition("/")
        log_refusal(path, error.code, department, error.message)
        self.ingress.record_refusal(department, "/" + rest, error)
        return _refusal(start_response, error)

    def _soap(
        self,
        environ: Environ,
        start_response: StartResponse,
        app: Callable[[Environ, StartResponse], Iterable[bytes]] | None = None,
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            result: Iterable[bytes] = (app or self.soap)(environ, start_response)
            return result
        try:
            permit = self._admit(environ)
        except BodyTooLarge as error:
            return _soap_fault(environ, start_response, error)
        except Busy as error:
            return _soap_fault(environ, start_response, error)
        try:
            body = self._read_body(environ)
            # spyne reads it back in one block (soap_endpoint): the same bytes, not a copy
            # (BytesIO.getbuffer, or spyne's 8 kB pieces joined again, each made one).
            environ["wsgi.input"] = io.BytesIO(body)
            size = len(body)
            environ["CONTENT_LENGTH"] = str(size)
            del body
            result = (app or self.soap)(environ, start_response)
        except BodyTooLarge as error:
            permit.release()
            return _soap_fault(environ, start_response, error)
        except BaseException:
            permit.release()
            raise
        large = size >= freed_memory.LARGE_BODY_BYTES
        return released_on_close(result, permit, partial(_let_go, environ, size) if large else None)

    def _native(
        self, environ: Environ, start_response: StartResponse, path: str
    ) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, "405 Method Not Allowed", {"error": "MethodNotAllowed"})
        department, _, rest = path[len("/native/") :].partition("/")
        try:
            permit = self._admit(environ)
            try:
                receipt = self._accept_native(environ, department, rest)
            finally:
                permit.release()
                declared = environ.get("CONTENT_LENGTH") or ""
                freed_memory.give_back(int(declared) if declared.isdigit() else 0)
        except ClientError as error:
            log_refusal(path, error.code, department, error.message)
            self.ingress.record_refusal(department, "/" + rest, error)
            return _refusal(start_response, error)
        except HubError as error:
            log_refusal(path, error.code, department, error.message)
            later = _RETRY_AFTER if isinstance(error, StoreUnavailable) else []
            return _json(start_response, "503 Service Unavailable", _error_body(error), later)
        except Exception as error:
            if outages.database_away(error):
                return _database_away(start_response)
            # A bug: still a structured answer, and the caller may retry.
            log.exception("native push from %s failed unexpectedly", department)
            unexpected = HubError("the hub could not take the record now; try again")
            return _json(start_response, "503 Service Unavailable", _error_body(unexpected))
        status = "200 OK" if receipt.duplicate else "202 Accepted"
        return _json(
            start_response,
            status,
            {
                "messageId": receipt.message_id,
                "state": receipt.state,
                "receivers": list(receipt.receivers),
                "duplicate": receipt.duplicate,
            },
        )

    def _accept_native(self, environ: Environ, department: str, rest: str) -> Receipt:
        body, headers = self._read_body(environ), _headers(environ)
        if self.native_auth is not None:
            request = NativeRequest(department, "POST", _signed_path(environ), headers, body)
            self.native_auth.verify(request)
        prepared = self.ingress.prepare_native(department, body, headers, "/" + rest)
        return self.ingress.commit(prepared)

    def _admit(self, environ: Environ) -> Permit:
        """The request's bytes from the budget, before its body is read. Without a
        Content-Length it counts as the largest body allowed: what it may turn out to be."""
        declared = environ.get("CONTENT_LENGTH") or ""
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise BodyTooLarge(
                f"body of {declared} bytes is over the limit of {self.max_body_bytes}"
            )
        if self.admission is None:
            return Permit(None, 0)
        return self.admission.acquire(int(declared) if declared.isdigit() else self.max_body_bytes)

    def _read_body(self, environ: Environ) -> bytes:
        declared = environ.get("CONTENT_LENGTH") or ""
        stream = environ["wsgi.input"]
        limit = int(declared) if declared.isdigit() else self.max_body_bytes + 1
        body: bytes = stream.read(min(limit, self.max_body_bytes + 1))
        if len(body) > self.max_body_bytes:
            raise BodyTooLarge(f"body is over the limit of {self.max_body_bytes} bytes")
        return body


def _let_go(environ: Environ, size: int) -> None:
    """A large request answered: its body dropped, and the memory it took given back."""
    environ["wsgi.input"] = io.BytesIO()
    freed_memory.give_back(size)


def _answered_while_database_away(
    app: Callable[[Environ, StartResponse], Iterable[bytes]],
    environ: Environ,
    start_response: StartResponse,
) -> Iterable[bytes]:
    """``app``'s answer, or 503 with Retry-After if the database went away under it."""
    try:
        return app(environ, start_response)
    except Exception as error:
        if outages.database_away(error):
            return _database_away(start_response)
        raise


def _database_away(start_response: StartResponse) -> list[bytes]:
    body = _error_body(DATABASE_AWAY)
    return _json(start_response, "503 Service Unavailable", body, _RETRY_AFTER)


def _drained(result: Iterable[bytes]) -> list[bytes]:
    try:
        return list(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _signed_path(environ: Environ) -> str:
    """The path an HMAC signs: the request path, with its query string if there is one."""
    query = environ.get("QUERY_STRING", "")
    return str(environ.get("PATH_INFO", "")) + (f"?{query}" if query else "")


def _refusal(start_response: StartResponse, error: ClientError) -> list[bytes]:
    """401 for who-are-you, 403 for not-allowed, 409 for a key already used for another
    record, 413 for too large, 400 for everything else the caller got wrong; the body carries
    the same code as the SOAP API's fault."""
    if isinstance(error, NotAuthenticated):
        challenge = [("WWW-Authenticate", SCHEME)]
        return _json(start_response, "401 Unauthorized", _error_body(error), challenge)
    if isinstance(error, NotAuthorized):
        return _json(start_response, "403 Forbidden", _error_body(error))
    if isinstance(error, IdempotencyConflict):
        conflict = {
            "idempotencyKey": error.idempotency_key,
            "firstMessageId": error.first_message_id,
        }
        return _json(start_response, "409 Conflict", _error_body(error) | conflict)
    if isinstance(error, BodyTooLarge):
        return _json(start_response, "413 Content Too Large", _error_body(error))
    return _json(start_response, "400 Bad Request", _error_body(error))


def _headers(environ: Environ) -> dict[str, str]:
    headers = {"Content-Type": environ["CONTENT_TYPE"]} if environ.get("CONTENT_TYPE") else {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    return headers


def _error_body(error: HubError) -> dict[str, Any]:
    detail = shown(error.detail) if error.detail else None
    return {"error": error.code, "message": shown(error.message), "detail": detail}


def _json(
    start_response: StartResponse,
    status: str,
    body: dict[str, Any],
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(data))),
            *(extra or []),
        ],
    )
    return [data]


def _soap_fault(environ: Environ, start_response: StartResponse, error: HubError) -> list[bytes]:
    """A fault in the request's SOAP version, used before spyne sees the request. A body too
    large is answered 413 (the envelope was never read; zeep reads the fault all the same):
    with it, the server closes the connection instead of first reading the body it refused
    (cheroot drains an unread body after any other status)."""
    soap12 = speaks_soap12(environ)
    body = fault_envelope(fault_from(error), soap12=soap12)
    log_refusal("SOAP (before reading the request)", error.code, None, error.message)
    status = (
        "413 Content Too Large" if isinstance(error, BodyTooLarge) else "500 Internal Server Error"
    )
    content_type = "application/soap+xml" if soap12 else "text/xml"
    headers = [
        ("Content-Type", f"{content_type}; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    start_response(status, headers)
    return [body]
