"""Query, QueryAsync and GetQueryResult on /soap: the request read from the envelope's XML
(the header as in Submit, the DossierRequest), the answers written as xsd/hub/soap-api.xsd
declares them. hub/api/soap_service.py calls ``prepare`` from its request check."""

from __future__ import annotations

from typing import Any, Protocol

from lxml import etree

from hub.errors import HubError, SchemaInvalid
from hub.query.dossier import Dossier, dossier_element
from hub.query.service import QueryRequest, QueryService
from hub.resources import HEADER_NAMESPACE

_H = f"{{{HEADER_NAMESPACE}}}"
_ASKING = {f"{_H}Query": "Query", f"{_H}QueryAsync": "QueryAsync"}
# The request field a refusal is about.
_FIELDS = {
    "Client.InvalidIdentityNumber": "request/subject",
    "Client.UnknownPart": "request/part",
    "Client.NotAuthorized": "request/part",
    "Client.UnknownSender": "header/sender",
    "Client.NotAuthenticated": "Header/Security",
}


class Caller(Protocol):
    def __call__(self, envelope: etree._Element, named: str | None) -> str | None: ...


class QueryOperations:
    def __init__(self, service: QueryService, caller: Caller) -> None:
        self.service = service
        self._caller = caller  # who the request proves it is (as ListServices checks it)

    def prepare(self, ctx: Any) -> bool:
        """For Query and QueryAsync: read and check the request into ``ctx.udc["query"]``
        (True: spyne reads nothing more); False for any other operation."""
        body = ctx.in_body_doc
        operation = None if body is None else _ASKING.get(body.tag)
        if operation is None:
            return False
        header, request = body.find(f"{_H}header"), body.find(f"{_H}request")
        if header is None or request is None:
            raise SchemaInvalid(f"{operation} needs a header and a request", path=operation)
        ctx.udc["sender"] = named = (header.findtext(f"{_H}sender") or "").strip()
        millis = (request.findtext(f"{_H}deadlineMillis") or "").strip()
        try:
            requester = self._caller(ctx.in_document, named or None) or named
            query = QueryRequest(
                requester=requester,
                purpose=header.findtext(f"{_H}purpose") or "",
                subject=(request.findtext(f"{_H}subject") or "").strip(),
                parts=tuple((p.text or "").strip() for p in request.iterfind(f"{_H}part")),
                deadline_seconds=_seconds(millis, operation),
            )
            self.service.check(query)
        except HubError as error:
            if getattr(error, "path", None) is None and error.code in _FIELDS:
                error.path = f"{operation}/{_FIELDS[error.code]}"  # type: ignore[attr-defined]
            raise
        ctx.udc["query"] = query
        return True


def _seconds(millis: str, operation: str) -> float | None:
    if not millis:
        return None
    if not millis.isdigit():
        raise SchemaInvalid("deadlineMillis is a whole number", path=f"{operation}/request")
    return int(millis) / 1000


def query_response(dossier: Dossier) -> etree._Element:
    response = etree.Element(f"{_H}QueryResponse")
    response.append(dossier_element(dossier))
    return response


def result_response(dossier: Dossier) -> etree._Element:
    response = etree.Element(f"{_H}GetQueryResultResponse")
    response.append(dossier_element(dossier))
    return response


def async_response(query_id: str) -> etree._Element:
    response = etree.Element(f"{_H}QueryAsyncResponse")
    etree.SubElement(response, f"{_H}queryId").text = query_id
    return response
