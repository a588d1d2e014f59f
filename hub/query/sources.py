"""Asking one department for one part, in its own protocol and format, and reading its answer
into canonical facts. An answer that breaks its contract is a ``SourceFailed``, never a guess."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin

import requests
from lxml import etree

from hub import xmlparse
from hub.errors import HubError, SchemaInvalid
from hub.query.config import SourceConfig
from hub.schemas import default_registry

QUERY_NS = "urn:govhub:query:1"  # the query vocabulary the departments agreed on
_ENVELOPES = {
    "soap11": ("http://schemas.xmlsoap.org/soap/envelope/", "text/xml"),
    "soap12": ("http://www.w3.org/2003/05/soap-envelope", "application/soap+xml"),
}
_SESSION = requests.Session()  # keep-alive to each department across queries


@dataclass(frozen=True)
class Fact:
    value: str  # canonical
    as_of: date


class SourceFailed(Exception):
    """The department answered, but not with what its contract promises (or with an error)."""


class SourceRefused(SourceFailed):
    """The department refused the hub (HTTP 401 or 403)."""


class NotHeld(Exception):
    """The department holds nothing about this person for this part."""


def ask_source(
    source: SourceConfig, endpoint: str, part: str, subject: str, timeout: float
) -> list[Fact]:
    """The facts ``source`` holds on ``subject`` for ``part``; NotHeld, SourceFailed, or
    requests' errors (down, slow) for the caller to mark."""
    url = urljoin(endpoint, source.path)
    if source.protocol == "rest-json":
        response = _SESSION.post(url, json={"idNumber": subject, "topic": part}, timeout=timeout)
        if response.status_code == 404:
            raise NotHeld
        _check_status(response)
        return _json_facts(source, response.content)
    namespace, media_type = _ENVELOPES[source.protocol]
    response = _SESSION.post(
        url,
        data=_soap_query(namespace, subject, part, source.charset),
        headers={"Content-Type": f"{media_type}; charset={source.charset}"},
        timeout=timeout,
    )
    _check_status(response)
    facts = _soap_facts(source, namespace, response.content)
    if not facts:
        raise NotHeld
    return facts


def _check_status(response: requests.Response) -> None:
    if response.status_code in (401, 403):
        raise SourceRefused(f"refused the hub: HTTP {response.status_code}")
    if not 200 <= response.status_code < 300:
        raise SourceFailed(f"answered HTTP {response.status_code}")


def _soap_query(namespace: str, subject: str, part: str, charset: str) -> bytes:
    root = etree.Element(f"{{{namespace}}}Envelope", nsmap={"soap": namespace, "q": QUERY_NS})
    query = etree.SubElement(etree.SubElement(root, f"{{{namespace}}}Body"), f"{{{QUERY_NS}}}Query")
    etree.SubElement(query, f"{{{QUERY_NS}}}idNumber").text = subject
    etree.SubElement(query, f"{{{QUERY_NS}}}topic").text = part
    data = etree.tostring(root, encoding=charset, xml_declaration=True)
    assert isinstance(data, bytes)  # any encoding but "unicode" gives bytes
    return data


def _soap_facts(source: SourceConfig, namespace: str, content: bytes) -> list[Fact]:
    try:
        envelope = xmlparse.parse(content)
    except HubError as error:
        raise SourceFailed(f"answer is not XML: {error}") from error
    answer = envelope.find(f"{{{namespace}}}Body/{{{QUERY_NS}}}Answer")
    if answer is None:
        raise SourceFailed("answer has no q:Answer in its Body")
    if source.schema:
        try:
            (source.schemas or default_registry()).validate_xml(answer, source.schema)
        except SchemaInvalid as error:
            raise SourceFailed(f"answer fails {source.schema}: {error}") from error
    return [
        _fact(
            source, record.findtext(f"{{{QUERY_NS}}}value"), record.findtext(f"{{{QUERY_NS}}}asOf")
        )
        for record in answer.iterfind(f"{{{QUERY_NS}}}record")
    ]


def _json_facts(source: SourceConfig, content: bytes) -> list[Fact]:
    try:
        document = json.loads(content)
        if source.schema:
            (source.schemas or default_registry()).validate_json(document, source.schema)
        return [_fact(source, r["value"], r["asOf"]) for r in document["records"]]
    except SchemaInvalid as error:
        raise SourceFailed(f"answer fails {source.schema}: {error}") from error
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceFailed(f"answer breaks its JSON contract: {exc}") from exc


def _fact(source: SourceConfig, value: object, as_of: object) -> Fact:
    if not isinstance(value, str) or not value or not isinstance(as_of, str):
        raise SourceFailed("a record lacks its value or asOf")
    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise SourceFailed(f"asOf {as_of!r} is not a date") from exc
    return Fact(source.values.get(value, value), day)
