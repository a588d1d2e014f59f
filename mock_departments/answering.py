"""A mock department answering the hub's queries (issue 14) from its own register, in its own
format: the marriage registry SOAP 1.1 in GB18030, social security SOAP 1.2, tax REST/JSON.

Its clerk enters what the department knows with POST /query/records
({"idNumber", "topic", "value", "asOf"}); the hub asks with POST /query/answer, in the
department's own protocol (hub/query/sources.py speaks each). Fault injection (down, slow)
applies as to any other route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from hub.errors import ClientError
from mock_departments.http import Request, Response, json_response
from mock_departments.people import json_object, required
from mock_departments.soap import SOAP11, SoapVersion, content_type, envelope, read_envelope

if TYPE_CHECKING:
    from mock_departments.department import Handler, MockDepartment

QUERY_NS = "urn:govhub:query:1"
ANSWER_PATH = "/query/answer"


def query_routes(department: MockDepartment) -> dict[tuple[str, str], Handler]:
    """The routes every answering mock adds to its own."""
    return {
        ("POST", "/query/records"): lambda request: _enter(department, request),
        ("POST", ANSWER_PATH): lambda request: _answer(department, request),
    }


def _enter(department: MockDepartment, request: Request) -> Response:
    doc = json_object(request.json())
    department.store.put_fact(
        id_number=str(required(doc, "idNumber")),
        topic=str(required(doc, "topic")),
        value=str(required(doc, "value")),
        as_of=str(required(doc, "asOf")),
    )
    return json_response(201, {"status": "recorded"})


def _answer(department: MockDepartment, request: Request) -> Response:
    version: SoapVersion | None = getattr(department, "version", None)
    if version is None:  # REST/JSON
        doc = json_object(request.json())
        facts = department.store.facts(str(required(doc, "idNumber")), str(required(doc, "topic")))
        if not facts:
            return json_response(404, {"status": "notFound"})
        return json_response(200, {"records": [{"value": v, "asOf": d} for v, d in facts]})
    incoming = read_envelope(request.body, version, charset=request.charset())
    number = incoming.body.findtext(f"{{{QUERY_NS}}}idNumber")
    topic = incoming.body.findtext(f"{{{QUERY_NS}}}topic")
    if not number or not topic:
        raise ClientError("a query names idNumber and topic")
    answer = etree.Element(f"{{{QUERY_NS}}}Answer", nsmap={"q": QUERY_NS})
    for value, as_of in department.store.facts(number, topic):
        record = etree.SubElement(answer, f"{{{QUERY_NS}}}record")
        etree.SubElement(record, f"{{{QUERY_NS}}}value").text = value
        etree.SubElement(record, f"{{{QUERY_NS}}}asOf").text = as_of
    encoding = "GB18030" if version is SOAP11 else "UTF-8"
    return Response(
        200,
        envelope(version, answer, encoding=encoding),
        [("Content-Type", content_type(version, encoding))],
    )
