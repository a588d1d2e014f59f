"""RestAdapter: delivers records as JSON over HTTP with requests, and decodes the JSON a
department pushes to the hub.

Configured through DepartmentConfig: ``endpoint`` (base URL), ``timeout_seconds``,
``operations`` (message type -> URL path) and ``inbound`` (URL path -> message type).
``options`` may name the answer's ``result_field``, ``duplicate_value`` and
``reference_field`` (defaults: "status", "duplicate", "reference" or "id"). With a
``credentials`` reference the hub authenticates with HTTP Basic (hub.departments
.outbound_credentials).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import requests

from adapters._http import (
    Poster,
    error_for_status,
    excerpt,
    header_value,
    is_success,
    new_session,
    response_text,
    translated_request_errors,
)
from adapters.base import Adapter, DeliveryResult, InboundRecord, OutboundDelivery
from adapters.jsonparse import parse_object
from hub.declared_encoding import charset_of
from hub.departments import DepartmentConfig, outbound_credentials
from hub.errors import ClientError, MalformedJSON, PermanentDeliveryError, UnknownMessageType

IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_REFERENCE_FIELDS = ("reference", "id")


class RestAdapter(Adapter):
    name = "rest"

    def __init__(self, department: DepartmentConfig) -> None:
        super().__init__(department)
        options = department.options
        self._result_field = str(options.get("result_field", "status"))
        self._duplicate_value = str(options.get("duplicate_value", "duplicate"))
        reference = options.get("reference_field")
        self._reference_fields = (str(reference),) if reference else DEFAULT_REFERENCE_FIELDS
        self._session = new_session(department.endpoint)
        credentials = outbound_credentials(department)
        if credentials is not None:  # HTTP Basic over the department's TLS
            self._session.auth = (credentials.username, credentials.secret)
        self._poster = Poster(self._session)  # after the auth: prepared requests carry it

    def deliver(self, delivery: OutboundDelivery) -> DeliveryResult:
        code = self.department.code
        path = self.department.operations.get(delivery.message_type)
        if path is None:
            raise PermanentDeliveryError(
                f"{code} has no URL for {delivery.message_type} (see its operations setting)"
            )
        if not isinstance(delivery.document, dict):
            raise PermanentDeliveryError(f"{code} takes JSON objects, not an XML document")
        body = json.dumps(delivery.document, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            IDEMPOTENCY_HEADER: delivery.idempotency_key,
        }
        with translated_request_errors(code):
            response = self._poster.post(
                self.department.endpoint.rstrip("/") + path,
                body,
                headers,
                self.department.timeout_seconds,
            )
        return self._read_answer(response)

    def decode_inbound(
        self, body: bytes, headers: Mapping[str, str], path: str = ""
    ) -> InboundRecord:
        route = _normalized(path)
        message_type = self.department.inbound.get(route)
        if message_type is None:
            known = ", ".join(sorted(self.department.inbound)) or "none"
            raise UnknownMessageType(
                f"{self.department.code} sends nothing to {route}", detail=f"it sends to: {known}"
            )
        content_type = header_value(headers, "Content-Type")
        if content_type and "json" not in content_type.lower():
            raise MalformedJSON(f"expected application/json, got {content_type}")
        charset = charset_of(content_type)
        if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
            # JSON is UTF-8 (RFC 8259): bytes read as UTF-8 under another name are mojibake.
            raise MalformedJSON(f"JSON must be UTF-8; the Content-Type says charset={charset}")
        document = parse_object(body)
        key = header_value(headers, IDEMPOTENCY_HEADER)
        return InboundRecord(message_type, document, idempotency_key=key, raw=body)

    def close(self) -> None:
        self._session.close()

    def _read_answer(self, response: requests.Response) -> DeliveryResult:
        answer_text = excerpt(response_text(response))
        if not is_success(response.status_code):
            raise error_for_status(self.department.code, response.status_code, answer_text)
        answer = _json_or_empty(response.content)
        status: Literal["accepted", "duplicate"] = (
            "duplicate" if answer.get(self._result_field) == self._duplicate_value else "accepted"
        )
        reference = next((answer[f] for f in self._reference_fields if answer.get(f)), None)
        return DeliveryResult(status, None if reference is None else str(reference), answer_text)


def _json_or_empty(content: bytes) -> dict[str, Any]:
    """The answer's JSON object; a 2xx without one still means the record was taken."""
    if not content.strip():
        return {}
    try:
        return parse_object(content)
    except ClientError:
        return {}


def _normalized(path: str) -> str:
    route = path.split("?", 1)[0]
    return route.rstrip("/") or "/"
