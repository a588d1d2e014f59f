"""Which case events a case accepts: a pure function from a case's state, the event, the
catalogue and the hub's clock to the case's next state, or the fault naming the rule broken.

The order of a case's life: accepted, then its item's steps in catalogue order (handled,
reviewed, approved, only those the item has), suspended and resumed in between (补正: the
clock stops), concluded once. Events come in the order they happened.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from hub.errors import (
    CaseEventRefused,
    EventInFuture,
    ReasonMissing,
    StepOutOfOrder,
    UnknownCase,
    UnknownItem,
)
from hub.supervision.catalogue import Catalogue, Limits
from hub.supervision.events import CaseEvent


@dataclass(frozen=True)
class CaseState:
    case_number: str
    item_code: str
    item_name: str
    department: str
    accepted_at: datetime
    catalogue_version: int
    limits: Limits  # as in force when the case was accepted
    steps_done: tuple[str, ...] = ()
    suspended_since: datetime | None = None
    outcome: str = ""  # approved / refused / withdrawn once concluded
    concluded_at: datetime | None = None
    last_event_at: datetime | None = None

    @property
    def status(self) -> str:
        if self.outcome:
            return "concluded"
        return "suspended" if self.suspended_since else "open"

    @property
    def next_step(self) -> str:
        return next((s for s in self.limits.steps if s not in self.steps_done), "")


def next_state(
    state: CaseState | None,
    event: CaseEvent,
    *,
    sender: str,
    catalogue: Catalogue,
    now: datetime,
    skew: timedelta,
) -> CaseState:
    """The case after ``event``, or the CaseEventRefused that says which rule it breaks."""
    number = event.case_number
    if event.at > now + skew:
        raise EventInFuture(number, f"{event.kind} is dated {event.at.isoformat()}, after now")
    if event.kind == "CaseAccepted":
        return _accepted(state, event, sender, catalogue)
    if state is None:
        raise UnknownCase(number, f"{event.kind} for a case never accepted")
    if state.outcome:
        raise StepOutOfOrder(number, f"{event.kind} after the case was concluded")
    if state.last_event_at and event.at < state.last_event_at:
        raise StepOutOfOrder(
            number, f"{event.kind} dated before the case's last event ({state.last_event_at})"
        )
    changed = _APPLY[event.kind](state, event)
    return replace(changed, last_event_at=event.at)


def _accepted(
    state: CaseState | None, event: CaseEvent, sender: str, catalogue: Catalogue
) -> CaseState:
    number = event.case_number
    if state is not None:
        raise StepOutOfOrder(number, "CaseAccepted for a case already accepted")
    item = catalogue.items.get(event.item_code)
    if item is None:
        raise UnknownItem(number, f"item {event.item_code} is not in the supervision catalogue")
    if event.department != item.department or sender != item.department:
        raise CaseEventRefused(
            number,
            f"item {item.code} is handled by {item.department}; "
            f"reported by {sender} for {event.department}",
        )
    if len(event.applicants) != 1:
        raise CaseEventRefused(
            number, "an applicant is one identity number or one organisation code"
        )
    return CaseState(
        case_number=number,
        item_code=item.code,
        item_name=item.name,
        department=item.department,
        accepted_at=event.at,
        catalogue_version=catalogue.version,
        limits=item.limits,
        last_event_at=event.at,
    )


def _step(state: CaseState, event: CaseEvent) -> CaseState:
    number, step = state.case_number, event.step
    if state.suspended_since:
        raise StepOutOfOrder(number, f"step {step} while the case is suspended")
    if step not in state.limits.steps:
        raise StepOutOfOrder(number, f"item {state.item_code} has no step {step}")
    if step in state.steps_done:
        raise StepOutOfOrder(number, f"step {step} was already completed")
    if step != state.next_step:
        raise StepOutOfOrder(number, f"step {step} before step {state.next_step}")
    return replace(state, steps_done=(*state.steps_done, step))


def _suspended(state: CaseState, event: CaseEvent) -> CaseState:
    if state.suspended_since:
        raise StepOutOfOrder(state.case_number, "CaseSuspended while already suspended")
    return replace(state, suspended_since=event.at)


def _resumed(state: CaseState, event: CaseEvent) -> CaseState:
    if not state.suspended_since:
        raise StepOutOfOrder(state.case_number, "CaseResumed for a case not suspended")
    return replace(state, suspended_since=None)


def _concluded(state: CaseState, event: CaseEvent) -> CaseState:
    number = state.case_number
    if event.outcome == "refused" and not event.reason:
        raise ReasonMissing(number, "a refusal states its reason")
    if event.outcome == "approved" and state.next_step:
        raise StepOutOfOrder(number, f"approved before step {state.next_step}")
    if event.outcome == "approved" and state.suspended_since:
        raise StepOutOfOrder(number, "approved while suspended: resume the case first")
    return replace(state, outcome=event.outcome, concluded_at=event.at)


_APPLY = {
    "CaseStepCompleted": _step,
    "CaseSuspended": _suspended,
    "CaseResumed": _resumed,
    "CaseConcluded": _concluded,
}
