"""The citizen's data tracker (issue 17; docs/tracker.md): for one identity number, every
message that carried it (sender, receivers, when, purpose, which fields), every query about
it, every reveal by an operator and every replay, read from what the hub already stores, so
it stays right after bodies are pruned.

Contract:
- ``Tracker.for_operator(actor, person, since=, via=)``: every entry, newest first, for an
  active admin account with the ``tracker`` permission; exempted accesses marked with their
  exemption. Audited (``tracker_view``); a refusal is audited with its reason.
- ``Tracker.for_citizen(portal, signed_in, person, page=, page_size=)``: one page of the
  citizen's view, for a department the rules name as a portal, about the citizen signed in
  to it only (another person: NotAuthorized). Exempted accesses are left out until their
  date. Audited. A person with no entries gets an empty page, not an error.
- ``Tracker.exemptions.grant(person, department, until, reason, actor=)``: only by an
  operator the rules name for that department, never the department itself; audited.
- An invalid identity number is InvalidIdentityNumber before anything is read.

Modules: rules (configuration), tables (migration 0021_tracker), fields (a type's fields
from the canonical schema), exemptions, trail (the assembly), service (who may, audit),
document (the GetDataUsage XML, xsd/hub/data-usage.xsd), pdf (`govhub tracker --pdf`),
soap (GetDataUsage on /soap).
"""

from hub.tracker.exemptions import Exemption, Exemptions
from hub.tracker.rules import TrackerRules, load_tracker_rules
from hub.tracker.service import Tracker
from hub.tracker.trail import CITIZEN, OPERATOR, Leg, Trail, TrailEntry, TrailPage

__all__ = [
    "CITIZEN",
    "OPERATOR",
    "Exemption",
    "Exemptions",
    "Leg",
    "Tracker",
    "TrackerRules",
    "Trail",
    "TrailEntry",
    "TrailPage",
    "load_tracker_rules",
]
