"""A clerk files the department's cases with the hub: each step of a case (受理 accepted, 承办
handled, 审核 reviewed, 批准 approved, 办结 concluded) is a canonical case event the department's
system submits over the hub's SOAP API (Submit), like any message. The events go through the
department's outbox, so a hub that is down gets them when it is back, in order.

The hub keeps each case on the clock from them (hub/supervision); `govhub demo` uses this.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA_VERSION
from mock_departments.department import MockDepartment
from mock_departments.soap import SOAP11, content_type, envelope

HUB_NS = "urn:govhub:hub:1"
PURPOSE = "electronic supervision: the department reports its case (电子监察报送)"


class CaseClerk:
    """Files one department's cases; each method returns the event's idempotency key."""

    def __init__(self, department: MockDepartment) -> None:
        self.department = department

    def accept(self, case: str, item: str, applicant: str, at: datetime) -> str:
        return self._file(
            "CaseAccepted",
            case,
            [
                ("itemCode", item),
                ("caseNumber", case),
                ("applicant", [("identityNumber", applicant)]),
                ("acceptedAt", at.isoformat()),
                ("department", self.department.code),
            ],
        )

    def complete(self, case: str, step: str, handler: str, at: datetime) -> str:
        fields: Fields = [("caseNumber", case), ("step", step), ("handler", handler)]
        fields.append(("completedAt", at.isoformat()))
        return self._file("CaseStepCompleted", case, fields)

    def conclude(self, case: str, outcome: str, at: datetime, reason: str = "") -> str:
        fields: Fields = [("caseNumber", case), ("outcome", outcome)]
        fields.append(("concludedAt", at.isoformat()))
        if reason:  # required for a refusal: the hub refuses one without it
            fields.append(("reason", reason))
        return self._file("CaseConcluded", case, fields)

    def _file(self, message_type: str, case: str, fields: Fields) -> str:
        key = f"{case}/{message_type}/{uuid.uuid4().hex[:8]}"
        record = etree.Element(_c(message_type), nsmap={"c": CANONICAL_NAMESPACE})
        _fill(record, fields)
        submit = etree.Element(f"{{{HUB_NS}}}Submit", nsmap={"h": HUB_NS})
        _fill(
            etree.SubElement(submit, f"{{{HUB_NS}}}header"),
            [
                ("messageId", str(uuid.uuid4())),
                ("sender", self.department.code),
                ("messageType", message_type),
                ("schemaVersion", CANONICAL_SCHEMA_VERSION),
                ("idempotencyKey", key),
                ("purpose", PURPOSE),
                ("sentAt", datetime.now().astimezone().isoformat()),
            ],
            namespace=HUB_NS,
        )
        etree.SubElement(submit, f"{{{HUB_NS}}}message").append(record)
        self.department.enter(
            key=key,
            kind=message_type,
            path="/soap",
            content_type=content_type(SOAP11),
            body=envelope(SOAP11, submit),
        )
        return key


Fields = list[tuple[str, "str | Fields"]]


def _fill(parent: etree._Element, fields: Fields, namespace: str = CANONICAL_NAMESPACE) -> None:
    for name, value in fields:
        child = etree.SubElement(parent, f"{{{namespace}}}{name}")
        if isinstance(value, str):
            child.text = value
        else:
            _fill(child, value, namespace)


def _c(name: str) -> str:
    return f"{{{CANONICAL_NAMESPACE}}}{name}"
