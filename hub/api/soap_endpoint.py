"""/soap: one address, two SOAP versions. The Content-Type chooses: application/soap+xml is
SOAP 1.2, anything else SOAP 1.1 (text/xml); each version has its own spyne application, so
a 1.2 request gets a 1.2 answer and a 1.2 fault. GET /soap?wsdl is hub/api/wsdl.py's WSDL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from wsgiref.util import request_uri

from spyne.server.wsgi import WsgiApplication

from hub.api.batch_service import BatchApi, batch_service
from hub.api.catalogue_service import CatalogueSource
from hub.api.mailbox_service import MailboxApi, mailbox_service
from hub.api.soap_faults import SOAP12_CONTENT_TYPE
from hub.api.soap_service import build_soap_application
from hub.api.submit_fast_path import HubWsgiApplication
from hub.api.wsdl import wsdl_document
from hub.ingress import Ingress
from hub.query.service import QueryService
from hub.security.reply_signing import ReplySigner
from hub.store import Store
from hub.tracker.soap import WRITERS as TRACKER_WRITERS
from hub.tracker.soap import TrackerApi, tracker_service

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


def speaks_soap12(environ: Environ) -> bool:
    content_type = str(environ.get("CONTENT_TYPE") or "")
    return content_type.split(";", 1)[0].strip().lower() == SOAP12_CONTENT_TYPE


class SoapEndpoint:
    def __init__(self, soap11: WsgiApplication, soap12: WsgiApplication) -> None:
        self.soap11 = soap11
        self.soap12 = soap12

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "GET" and environ.get("QUERY_STRING", "").lower().startswith("wsdl"):
            body = _wsdl_at(request_uri(environ, include_query=False))
            headers = [("Content-Type", "text/xml; charset=utf-8")]
            start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
            return [body]
        application = self.soap12 if speaks_soap12(environ) else self.soap11
        answer: Iterable[bytes] = application(environ, start_response)
        return answer


@lru_cache(maxsize=8)  # an address per Host header a client used; few in practice
def _wsdl_at(address: str) -> bytes:
    return wsdl_document(address)


def soap_endpoint(
    ingress: Ingress,
    store: Store,
    max_body_bytes: int,
    signer: ReplySigner | None = None,
    catalogue: CatalogueSource | None = None,
    mailbox: MailboxApi | None = None,
    queries: QueryService | None = None,
    batches: BatchApi | None = None,
    tracker: TrackerApi | None = None,
) -> SoapEndpoint:
    """The department-facing API in both SOAP versions (with ``mailbox``: Receive, Ack and
    Nack too; with ``batches``: SubmitBatch; with ``tracker``: GetDataUsage)."""
    services = (
        *(() if mailbox is None else (mailbox_service(mailbox),)),
        *(() if batches is None else (batch_service(batches),)),
        *(() if tracker is None else (tracker_service(tracker),)),
    )
    soap11, soap12 = (
        HubWsgiApplication(
            build_soap_application(
                ingress,
                store,
                max_body_bytes,
                signer,
                soap12=version_12,
                catalogue=catalogue,
                services=services,
                queries=queries,
                writers=None if tracker is None else TRACKER_WRITERS,
            ),
            max_content_length=max_body_bytes,
            # The whole body in one read: the bytes hub/api/wsgi.py already holds, uncopied.
            block_length=max_body_bytes + 1,
        )
        for version_12 in (False, True)
    )
    return SoapEndpoint(soap11, soap12)


__all__ = ["SoapEndpoint", "soap_endpoint", "speaks_soap12"]
