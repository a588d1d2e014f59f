"""The item catalogue admins edit, and the rules deciding which event a case takes next
(pure: explicit states, events and times)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.errors import (
    CaseEventRefused,
    EventInFuture,
    ReasonMissing,
    RegistrationRefused,
    SchemaInvalid,
    StepOutOfOrder,
    UnknownCase,
    UnknownItem,
)
from hub.supervision.catalogue import Catalogue, CatalogueFile, Item, Limits, read_catalogue
from hub.supervision.events import CaseEvent, read_event
from hub.supervision.rules_of_acceptance import CaseState, next_state

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
ITEM = Item(
    "SB-CBDJ-001",
    "社会保险参保登记",
    "SOCIAL_SECURITY",
    "社会保险法",
    Limits(15, 5, {"handled": 2, "reviewed": 2}),
)
CATALOGUE = Catalogue(4, {ITEM.code: ITEM})


def accepted(**changes: object) -> CaseEvent:
    values: dict[str, object] = {
        "kind": "CaseAccepted",
        "case_number": "C1",
        "at": NOW - timedelta(days=3),
        "item_code": ITEM.code,
        "department": "SOCIAL_SECURITY",
        "applicants": ("person",),
    }
    return CaseEvent(**(values | changes))  # type: ignore[arg-type]


def event(kind: str, hours_ago: float, **fields: str) -> CaseEvent:
    return CaseEvent(kind=kind, case_number="C1", at=NOW - timedelta(hours=hours_ago), **fields)


def apply(
    state: CaseState | None, case_event: CaseEvent, sender: str = "SOCIAL_SECURITY"
) -> CaseState:
    return next_state(
        state, case_event, sender=sender, catalogue=CATALOGUE, now=NOW, skew=timedelta(minutes=5)
    )


def opened() -> CaseState:
    return apply(None, accepted())


def test_an_accepted_case_copies_its_items_limits_and_the_catalogue_version() -> None:
    state = opened()

    assert (state.limits, state.catalogue_version, state.status) == (ITEM.limits, 4, "open")
    assert state.next_step == "handled"


def test_steps_go_in_the_items_order_and_only_the_items_steps() -> None:
    state = apply(opened(), event("CaseStepCompleted", 40, step="handled"))

    with pytest.raises(StepOutOfOrder, match="step handled was already completed"):
        apply(state, event("CaseStepCompleted", 30, step="handled"))
    with pytest.raises(StepOutOfOrder, match="item SB-CBDJ-001 has no step approved"):
        apply(state, event("CaseStepCompleted", 30, step="approved"))
    assert apply(state, event("CaseStepCompleted", 30, step="reviewed")).next_step == ""


def test_an_event_dated_before_the_cases_last_event_is_out_of_order() -> None:
    state = apply(opened(), event("CaseStepCompleted", 40, step="handled"))

    with pytest.raises(StepOutOfOrder, match="dated before the case's last event"):
        apply(state, event("CaseSuspended", 50))


def test_suspension_blocks_steps_until_the_case_resumes() -> None:
    suspended = apply(opened(), event("CaseSuspended", 40))

    with pytest.raises(StepOutOfOrder, match="while the case is suspended"):
        apply(suspended, event("CaseStepCompleted", 30, step="handled"))
    with pytest.raises(StepOutOfOrder, match="already suspended"):
        apply(suspended, event("CaseSuspended", 30))
    with pytest.raises(StepOutOfOrder, match="not suspended"):
        apply(opened(), event("CaseResumed", 30))
    assert suspended.status == "suspended"
    assert apply(suspended, event("CaseResumed", 30)).status == "open"


def test_conclusions_approved_only_after_every_step_refused_only_with_a_reason() -> None:
    with pytest.raises(StepOutOfOrder, match="approved before step handled"):
        apply(opened(), event("CaseConcluded", 1, outcome="approved"))
    with pytest.raises(ReasonMissing, match="a refusal states its reason"):
        apply(opened(), event("CaseConcluded", 1, outcome="refused"))
    withdrawn = apply(opened(), event("CaseConcluded", 1, outcome="withdrawn"))
    with pytest.raises(StepOutOfOrder, match="after the case was concluded"):
        apply(withdrawn, event("CaseResumed", 0))
    assert (withdrawn.status, withdrawn.concluded_at) == ("concluded", NOW - timedelta(hours=1))


def test_acceptance_needs_a_catalogue_item_of_the_sending_department_and_one_applicant() -> None:
    with pytest.raises(UnknownItem):
        apply(None, accepted(item_code="XX-1"))
    with pytest.raises(CaseEventRefused, match="handled by SOCIAL_SECURITY; reported by TAX"):
        apply(None, accepted(), sender="TAX")
    with pytest.raises(CaseEventRefused, match="one identity number or one organisation code"):
        apply(None, accepted(applicants=("person", "organisation")))
    with pytest.raises(StepOutOfOrder, match="already accepted"):
        apply(opened(), accepted())
    with pytest.raises(UnknownCase):
        apply(None, event("CaseResumed", 1))


def test_an_event_later_than_the_clock_allows_is_in_the_future() -> None:
    assert apply(opened(), event("CaseSuspended", -0.05)).suspended_since  # 3 min: clock skew
    with pytest.raises(EventInFuture):
        apply(opened(), event("CaseSuspended", -1))


def test_the_default_catalogue_reads_and_every_mistake_in_a_catalogue_is_reported(
    tmp_path: Path,
) -> None:
    default = Path(__file__).parent.parent / "hub" / "defaults" / "supervision_items.toml"
    path = tmp_path / "items.toml"
    path.write_text(
        """version = 0
[items.A-1]
name = "x"
department = "TAX"
legal_days = 3
committed_days = 5
steps = { handled = 1, signed = 2, reviewed = 0 }
""",
        encoding="utf-8",
    )

    assert read_catalogue(default).items["MZ-HYDJ-001"].limits.steps == {
        "handled": 1,
        "reviewed": 1,
        "approved": 1,
    }
    with pytest.raises(RegistrationRefused) as refused:
        read_catalogue(path)
    assert refused.value.reasons == [
        "version: a whole number from 1, raised with every change",
        "[items.A-1] legal_basis: text is needed",
        "[items.A-1]: committed_days is longer than legal_days",
        "[items.A-1] steps: unknown step 'signed' (handled, reviewed, approved)",
        "[items.A-1] steps.reviewed: a whole number of working days from 1",
    ]


def test_a_changed_catalogue_file_is_read_again_and_a_broken_change_keeps_the_last_good(
    tmp_path: Path,
) -> None:
    path = tmp_path / "items.toml"
    item = (
        'name = "x"\ndepartment = "TAX"\nlegal_basis = "y"\nlegal_days = 9\ncommitted_days = {}\n'
    )
    path.write_text("version = 1\n[items.A-1]\n" + item.format(5), encoding="utf-8")
    catalogue = CatalogueFile(path)

    path.write_text("version = 2\n[items.A-1]\n" + item.format(4), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a changed stamp even within the file system's clock tick
    changed = catalogue.current()
    path.write_text("version = 3\n[items.A-1]\n" + item.format(99), encoding="utf-8")
    broken = catalogue.current()

    assert (changed.version, changed.items["A-1"].limits.committed_days) == (2, 4)
    assert broken == changed


def test_an_event_time_the_schema_allows_but_python_cannot_read_is_schema_invalid() -> None:
    xml = (
        b'<c:CaseResumed xmlns:c="urn:govhub:canonical:1"><c:caseNumber>C1</c:caseNumber>'
        b"<c:resumedAt>2026-10-09T24:00:00+08:00</c:resumedAt></c:CaseResumed>"
    )

    with pytest.raises(SchemaInvalid, match="resumedAt '2026-10-09T24:00:00"):
        read_event(xml)
