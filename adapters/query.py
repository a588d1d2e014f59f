"""A department's query operation (issue 14): the hub's question sent in the department's own
protocol and format (SOAP 1.1 in its charset, SOAP 1.2, REST/JSON), with the adapters' own
envelope and HTTP pieces, and its answer document handed back as it came (the Body's
element, or the JSON object) for the department's answers mapping to translate
(mappings/DEPT/answers/PART.toml). What goes wrong is one of three exceptions, never a guess.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Literal

import requests
from lxml import etree

from adapters._http import new_session
from adapters.soap_envelope import request_headers
from adapters.soapenv import ENVELOPE_NAMESPACES, body_payload, parse_answer

QUERY_NS = "urn:govhub:query:1"  # the question's vocabulary the departments agreed on
QueryProtocol = Literal["soap11", "soap12", "rest-json"]
_SOAP_VERSIONS = {"soap11": "1.1", "soap12": "1.2"}
_SESSIONS = threading.local()  # one keep-alive session per asking thread


class SourceFailed(Exception):
    """The department answered, but not with what its contract promises (or with an error)."""


class SourceRefused(SourceFailed):
    """The department refused the hub (HTTP 401 or 403)."""


class NotHeld(Exception):
    """The department holds nothing about this person for this part."""


def ask(
    protocol: QueryProtocol, url: str, subject: str, topic: str, *, charset: str, timeout: float
) -> etree._Element | dict[str, Any]:
    """The department's answer document about ``subject`` for ``topic``; NotHeld (REST: 404),
    SourceFailed, SourceRefused, or requests' errors (down, slow) for the caller to mark."""
    session = _session()
    if protocol == "rest-json":
        response = session.post(url, json={"idNumber": subject, "topic": topic}, timeout=timeout)
        if response.status_code == 404:
            raise NotHeld
        _check_status(response)
        try:
            document = json.loads(response.content)
        except ValueError as exc:
            raise SourceFailed(f"answer is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise SourceFailed("answer is not a JSON object")
        return document
    version = _SOAP_VERSIONS[protocol]
    response = session.post(
        url,
        data=_question(version, subject, topic, charset),
        headers=request_headers(version, None, charset),
        timeout=timeout,
    )
    _check_status(response)
    envelope = parse_answer(response.content)
    if envelope is None:
        raise SourceFailed("answer is not XML")
    payload = body_payload(envelope)
    if payload is None:
        raise SourceFailed(f"answer is not a SOAP {version} envelope with a Body element")
    return payload


def _question(version: str, subject: str, topic: str, charset: str) -> bytes:
    soap = ENVELOPE_NAMESPACES[version]
    root = etree.Element(f"{{{soap}}}Envelope", nsmap={"soap": soap, "q": QUERY_NS})
    query = etree.SubElement(etree.SubElement(root, f"{{{soap}}}Body"), f"{{{QUERY_NS}}}Query")
    etree.SubElement(query, f"{{{QUERY_NS}}}idNumber").text = subject
    etree.SubElement(query, f"{{{QUERY_NS}}}topic").text = topic
    data = etree.tostring(root, encoding=charset, xml_declaration=True)
    assert isinstance(data, bytes)  # any encoding but "unicode" gives bytes
    return data


def _check_status(response: requests.Response) -> None:
    if response.status_code in (401, 403):
        raise SourceRefused(f"refused the hub: HTTP {response.status_code}")
    if not 200 <= response.status_code < 300:
        raise SourceFailed(f"answered HTTP {response.status_code}")


def _session() -> requests.Session:
    session: requests.Session | None = getattr(_SESSIONS, "session", None)
    if session is None:
        session = _SESSIONS.session = new_session()
    return session
