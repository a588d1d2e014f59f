"""Who may see a trail, and the audit entry of every look: an operator with the ``tracker``
permission (the CLI and the console), or a citizen portal for the citizen signed in to it
(GetDataUsage). Refusals are audited with their reason."""

from __future__ import annotations

from datetime import datetime

from hub.config import Settings
from hub.errors import ClientError, HubError, NotAuthorized
from hub.identity import mask, verify
from hub.security import audit
from hub.security.admins import TRACKER, AdminStore
from hub.security.credentials import ACTIVE
from hub.store import Store
from hub.tracker.exemptions import Exemptions
from hub.tracker.rules import TrackerRules, load_tracker_rules
from hub.tracker.trail import CITIZEN, OPERATOR, Trail, TrailEntry, TrailPage

VIEWED = "tracker_view"
MAX_PAGE_SIZE = 500


class Tracker:
    def __init__(self, store: Store, rules: TrackerRules, accounts: AdminStore) -> None:
        self._store = store
        self._rules = rules
        self._accounts = accounts
        self.exemptions = Exemptions(store, rules)
        self._trail = Trail(store, self.exemptions)
        self._audit = audit.AuditLog(store.engine, store.clock)

    def for_operator(
        self, actor: str, person: str, *, since: datetime | None = None, via: str
    ) -> list[TrailEntry]:
        """The operator's view (exempted accesses shown, with the reason)."""
        try:
            self._require_operator(actor)
            entries = self._trail.entries(person, since=since, view=OPERATOR)
        except ClientError as error:
            self.refused(actor, via, error, person)
            raise
        self._viewed(actor, person, via, len(entries))
        return entries

    def for_citizen(
        self, portal: str, signed_in: str, person: str, *, page: int, page_size: int
    ) -> TrailPage:
        """One page of the citizen's view, for a configured portal asking for the citizen
        signed in to it, and no one else."""
        try:
            self._require_portal(portal, signed_in, person)
            answer = self._trail.page(
                person, page=page, page_size=min(page_size, MAX_PAGE_SIZE), view=CITIZEN
            )
        except ClientError as error:
            self.refused(portal, "GetDataUsage", error, person)
            raise
        self._viewed(portal, person, "GetDataUsage", len(answer.entries))
        return answer

    def _require_operator(self, actor: str) -> None:
        try:
            account = self._accounts.get(actor)
        except HubError:  # no such account
            account = None
        if account is None or account.state != ACTIVE or TRACKER not in account.permissions:
            raise NotAuthorized(
                f"{actor} is no active operator with the '{TRACKER}' permission a person's "
                f"trail needs; an admin "
                f"grants it with govhub admins grant {actor} {TRACKER} --actor YOU"
            )

    def _require_portal(self, portal: str, signed_in: str, person: str) -> None:
        if portal not in self._rules.portals:
            raise NotAuthorized(
                f"{portal} is not a citizen portal: the tracker rules' portals name who may "
                "call GetDataUsage"
            )
        verify(person, where="GetDataUsage/identityNumber")
        if signed_in.strip().upper() != person.strip().upper():
            raise NotAuthorized(
                "GetDataUsage answers only for the citizen signed in to the portal "
                f"({mask(signed_in)}), not for {mask(person)}"
            )

    def _viewed(self, actor: str, person: str, via: str, entries: int) -> None:
        self._audit.append(
            actor=actor,
            action=VIEWED,
            subject=f"person:{mask(person)}",
            details={"via": via, "entries": entries},
        )

    def refused(self, actor: str, via: str, error: HubError, person: str = "") -> None:
        """Audit a refused look at a trail, with its reason."""
        self._audit.append(
            actor=actor,
            action=audit.REFUSED,
            subject=f"{VIEWED}:{mask(person) if person else '-'}",
            details={"via": via, "code": error.code, "reason": str(error)},
        )


def build_tracker(settings: Settings, store: Store) -> Tracker:
    """The tracker with the configured rules, checking operators against the admin accounts."""
    return Tracker(store, load_tracker_rules(settings.tracker_rules_file), AdminStore(store.engine))
