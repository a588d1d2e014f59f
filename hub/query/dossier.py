"""The CitizenDossier document (xsd/canonical/CitizenDossier.xsd): the outcome of every
source asked, each part's values with their source and date, the merge rule's current one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from hub.query.config import PartRule
from hub.query.sources import Fact
from hub.resources import CANONICAL_NAMESPACE

_C = f"{{{CANONICAL_NAMESPACE}}}"


@dataclass(frozen=True)
class Outcome:
    """What one department said about one part."""

    department: str
    status: str  # ok | timeout | error | notAuthorized | notFound
    answered_at: datetime | None = None
    facts: tuple[Fact, ...] = ()
    detail: str = ""


@dataclass
class Dossier:
    query_id: str
    subject: str
    requester: str
    purpose: str
    asked_at: datetime
    sections: list[tuple[PartRule, list[Outcome]]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every source of every part answered (found or not)."""
        return all(o.status in ("ok", "notFound") for _, outs in self.sections for o in outs)


def current_value(rule: PartRule, outcomes: list[Outcome]) -> tuple[str, Fact] | None:
    """The (department, fact) the part's merge rule makes current: the newest (``latest``;
    a tie goes to the preferred source) or the preferred source's newest (``preferred``)."""
    ranked = [
        (rule.answers.index(o.department), o.department, fact) for o in outcomes for fact in o.facts
    ]
    if not ranked:
        return None
    if rule.merge == "preferred":
        best = min(ranked, key=lambda r: (r[0], -r[2].as_of.toordinal()))
    else:
        best = max(ranked, key=lambda r: (r[2].as_of, -r[0]))
    return best[1], best[2]


def dossier_element(dossier: Dossier) -> etree._Element:
    root = etree.Element(f"{_C}CitizenDossier", nsmap={"c": CANONICAL_NAMESPACE})
    for name, text in (
        ("queryId", dossier.query_id),
        ("subject", dossier.subject),
        ("requester", dossier.requester),
        ("purpose", dossier.purpose),
        ("askedAt", dossier.asked_at.isoformat()),
        ("complete", "true" if dossier.complete else "false"),
    ):
        etree.SubElement(root, f"{_C}{name}").text = text
    for rule, outcomes in dossier.sections:
        section = etree.SubElement(root, f"{_C}section", part=rule.name, merge=rule.merge)
        for outcome in outcomes:
            source = etree.SubElement(
                section, f"{_C}source", department=outcome.department, status=outcome.status
            )
            if outcome.answered_at is not None:
                source.set("answeredAt", outcome.answered_at.isoformat())
            if outcome.detail:
                source.set("detail", outcome.detail)
        chosen = current_value(rule, outcomes)
        for outcome in outcomes:
            for fact in outcome.facts:
                is_current = chosen == (outcome.department, fact)
                value = etree.SubElement(
                    section,
                    f"{_C}value",
                    department=outcome.department,
                    asOf=fact.as_of.isoformat(),
                    current="true" if is_current else "false",
                )
                value.text = fact.value
    return root
