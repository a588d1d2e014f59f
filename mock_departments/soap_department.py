"""A mock department reached over SOAP: POST /soap takes a delivery, GET /soap?wsdl and
GET /<schema>.xsd publish the contract (with the address this server is reached at).

Given the hub's certificate (``hub_certificate``, PEM), it takes only deliveries the hub
signed with that key, as a department with ``sign_deliveries`` would; by default it checks none.
"""

from __future__ import annotations

import copy
from typing import ClassVar

from lxml import etree

from hub.errors import ClientError
from hub.resources import XSD_ROOT
from mock_departments.department import Handler, MockDepartment
from mock_departments.http import Request, Response, text_response
from mock_departments.soap import (
    SoapVersion,
    check_hub_signature,
    content_type,
    envelope,
    fault,
    read_envelope,
)

_WSDL_ADDRESSES = (
    "{http://schemas.xmlsoap.org/wsdl/soap/}address",
    "{http://schemas.xmlsoap.org/wsdl/soap12/}address",
)


class SoapDepartment(MockDepartment):
    version: ClassVar[SoapVersion]
    schema: ClassVar[str]  # its XSD, relative to xsd/
    wsdl: ClassVar[str]  # its WSDL, relative to xsd/ (imports the XSD beside it)
    operations: ClassVar[dict[str, str]]  # body element -> kind of record
    answer_encoding: ClassVar[str] = "UTF-8"
    hub_certificate: str | None = None  # set it to refuse deliveries the hub did not sign

    def delivery_routes(self) -> dict[tuple[str, str], Handler]:
        return {("POST", "/soap"): self.receive}

    def other_routes(self) -> dict[tuple[str, str], Handler]:
        xsd_name = self.schema.rsplit("/", 1)[-1]
        return {("GET", "/soap"): self.serve_wsdl, ("GET", f"/{xsd_name}"): self.serve_xsd}

    # -- to be filled in by each department -------------------------------------------------

    def identity_numbers(self, document: etree._Element) -> list[str]:
        raise NotImplementedError

    def receipt(self, reference: str, *, is_new: bool) -> etree._Element:
        raise NotImplementedError

    # -- deliveries -------------------------------------------------------------------------

    def receive(self, request: Request) -> Response:
        incoming = read_envelope(request.body, self.version, charset=request.charset())
        if self.hub_certificate is not None:
            check_hub_signature(incoming, self.version, self.hub_certificate)
        kind = self.operations.get(incoming.body.tag)
        if kind is None:
            raise ClientError(f"{self.code} has no operation for {incoming.body.tag}")
        self.schemas.validate_xml(incoming.body, self.schema)
        reference, is_new = self.keep(
            key=incoming.idempotency_key or request.headers.get("idempotency-key"),
            body=request.body,
            kind=kind,
            payload=native_text(incoming.body),
            encoding=incoming.encoding,
            id_numbers=self.identity_numbers(incoming.body),
        )
        return self.soap_response(
            200,
            envelope(
                self.version, self.receipt(reference, is_new=is_new), encoding=self.answer_encoding
            ),
        )

    def failure(self, request: Request, *, permanent: bool, reason: str) -> Response:
        body = fault(self.version, client=permanent, reason=reason, encoding=self.answer_encoding)
        return self.soap_response(self.version.client_status if permanent else 500, body)

    def soap_response(self, status: int, body: bytes) -> Response:
        return Response(
            status, body, [("Content-Type", content_type(self.version, self.answer_encoding))]
        )

    # -- the contract -----------------------------------------------------------------------

    def serve_wsdl(self, request: Request) -> Response:
        if "wsdl" not in {name.lower() for name in request.query}:
            return text_response(405, "POST a SOAP envelope here, or GET ?wsdl")
        document = etree.parse(str(XSD_ROOT / self.wsdl))  # our own file, not untrusted input
        address = f"http://{request.headers.get('host', '127.0.0.1')}/soap"
        for tag in _WSDL_ADDRESSES:
            for element in document.iter(tag):
                element.set("location", address)
        body = etree.tostring(document, encoding="UTF-8", xml_declaration=True)
        return Response(200, body, [("Content-Type", "text/xml; charset=UTF-8")])

    def serve_xsd(self, request: Request) -> Response:
        body = (XSD_ROOT / self.schema).read_bytes()
        return Response(200, body, [("Content-Type", "text/xml; charset=UTF-8")])


def native_text(document: etree._Element) -> str:
    """The native document alone, without the envelope's leftover namespace declarations."""
    alone = copy.deepcopy(document)
    etree.cleanup_namespaces(alone)
    return etree.tostring(alone, encoding="unicode")
