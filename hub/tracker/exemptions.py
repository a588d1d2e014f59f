"""Exemptions: an investigating department's access to one person kept from that person's
view until a date. Granted only by an operator the configuration names for that department
(hub/tracker/rules.py), never by the department itself; each grant is audited in the same
transaction, and so is each refused attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from hub.errors import NotAuthorized, ReasonRequired, SchemaInvalid
from hub.identity import mask, verify
from hub.security import audit
from hub.store import Store
from hub.tracker.rules import TrackerRules
from hub.tracker.tables import tracker_exemptions

EXEMPTED = "tracker_exemption"


@dataclass(frozen=True)
class Exemption:
    department: str
    until: datetime
    reason: str
    granted_by: str
    granted_at: datetime

    def as_dict(self) -> dict[str, str]:
        return {
            "department": self.department,
            "until": self.until.isoformat(),
            "reason": self.reason,
            "grantedBy": self.granted_by,
            "grantedAt": self.granted_at.isoformat(),
        }


class Exemptions:
    def __init__(self, store: Store, rules: TrackerRules) -> None:
        self._store = store
        self._rules = rules

    def grant(
        self, person: str, department: str, until: datetime, reason: str, *, actor: str
    ) -> Exemption:
        """Record the exemption and its audit entry, or refuse (the refusal audited too)."""
        verify(person, where="person")
        why = reason.strip()
        now = self._store.clock()
        try:
            if not why:
                raise ReasonRequired("an exemption needs a reason: operators are shown it")
            if until <= now:
                raise SchemaInvalid(f"an exemption runs until a future date, not {until:%Y-%m-%d}")
            if not self._rules.may_grant(actor, department):
                raise NotAuthorized(
                    f"{actor} may not exempt {department}'s access: the tracker rules "
                    f"([exemptions] {department}) name who may, and never the department itself"
                )
        except (ReasonRequired, SchemaInvalid, NotAuthorized) as error:
            audit.AuditLog(self._store.engine, self._store.clock).append(
                actor=actor,
                action=audit.REFUSED,
                subject=f"{EXEMPTED}:{department}",
                details={"person": mask(person), "code": error.code, "reason": str(error)},
            )
            raise
        exemption = Exemption(department, until, why, actor, now)
        with self._store.engine.begin() as connection:
            connection.execute(
                insert(tracker_exemptions).values(
                    department=department,
                    subject_hash=self._store.identities.digest(person),
                    subject_masked=mask(person),
                    until=until,
                    reason=why,
                    granted_by=actor,
                    granted_at=now,
                )
            )
            audit.append(
                connection,
                actor=actor,
                action=EXEMPTED,
                subject=f"person:{mask(person)}",
                at=now,
                details={"department": department, "until": until.isoformat(), "reason": why},
            )
        return exemption

    def in_force(self, digests: list[str]) -> dict[str, Exemption]:
        """The exemptions still running for the person hashed as ``digests``, by department
        (the latest-running one where a department has several)."""
        query = select(tracker_exemptions).where(
            tracker_exemptions.c.subject_hash.in_(digests),
            tracker_exemptions.c.until > self._store.clock(),
        )
        running: dict[str, Exemption] = {}
        with self._store.engine.connect() as connection:
            for row in connection.execute(query.order_by(tracker_exemptions.c.until)):
                running[row.department] = Exemption(
                    row.department, row.until, row.reason, row.granted_by, row.granted_at
                )
        return running
