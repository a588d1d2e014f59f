"""Case events read from their canonical XML (xsd/canonical/CaseEvents.xsd, already valid).

The applicant's identity number stays in the stored message (indexed and masked like every
other); a case keeps only whether the applicant is a person or an organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from hub import xmlparse
from hub.errors import SchemaInvalid
from hub.resources import CANONICAL_NAMESPACE

CASE_EVENT_TYPES = frozenset(
    {"CaseAccepted", "CaseStepCompleted", "CaseSuspended", "CaseResumed", "CaseConcluded"}
)
_WHEN = {
    "CaseAccepted": "acceptedAt",
    "CaseStepCompleted": "completedAt",
    "CaseSuspended": "suspendedAt",
    "CaseResumed": "resumedAt",
    "CaseConcluded": "concludedAt",
}
_NS = f"{{{CANONICAL_NAMESPACE}}}"


@dataclass(frozen=True)
class CaseEvent:
    kind: str  # the message type, e.g. CaseStepCompleted
    case_number: str
    at: datetime  # when it happened, as the department reports it (aware)
    item_code: str = ""
    department: str = ""
    applicants: tuple[str, ...] = ()  # "person" / "organisation": exactly one is valid
    step: str = ""
    handler: str = ""
    outcome: str = ""
    reason: str = ""


def read_event(canonical: bytes) -> CaseEvent:
    root = xmlparse.parse(canonical)  # the one hardened parser, even for our own bytes
    kind = etree.QName(root).localname
    applicant = root.find(f"{_NS}applicant")
    applicants = () if applicant is None else tuple(_applicant_kinds(applicant))
    return CaseEvent(
        kind=kind,
        case_number=_text(root, "caseNumber"),
        at=_moment(_text(root, _WHEN[kind]), _WHEN[kind]),
        item_code=_text(root, "itemCode"),
        department=_text(root, "department"),
        applicants=applicants,
        step=_text(root, "step"),
        handler=_text(root, "handler"),
        outcome=_text(root, "outcome"),
        reason=_text(root, "reason"),
    )


def _moment(text: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:  # XSD allows 24:00:00 and long fractions; Python does not
        raise SchemaInvalid(f"{name} {text!r} is not a date and time this hub can use") from exc


def _applicant_kinds(applicant: etree._Element) -> list[str]:
    names = {"identityNumber": "person", "organisationCode": "organisation"}
    return [names[etree.QName(child).localname] for child in applicant]


def _text(root: etree._Element, name: str) -> str:
    found = root.find(f"{_NS}{name}")
    return (found.text or "").strip() if found is not None else ""
