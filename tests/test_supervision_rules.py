"""The supervision rules at explicit times, on the real 2026 calendar: National Day (Oct 1-7)
is skipped and Saturday Oct 10, a make-up working day, counts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from hub.supervision import load_calendar
from hub.supervision.calendar import WorkingCalendar
from hub.supervision.casebook import RecordedEvent
from hub.supervision.catalogue import Limits
from hub.supervision.rules import Signal, clock_of, evaluate
from hub.supervision.rules_of_acceptance import CaseState

SHANGHAI = timezone(timedelta(hours=8))
ACCEPTED = datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI)  # a Wednesday, before National Day


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return load_calendar()


def shanghai(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def recorded(
    kind: str, at: datetime, reported: datetime | None = None, **fields: str
) -> RecordedEvent:
    return RecordedEvent(
        kind=kind,
        step=fields.get("step", ""),
        happened_at=at,
        reported_at=reported or at,
        handler="李明",
        outcome=fields.get("outcome", ""),
        reason=fields.get("reason", ""),
        sender="MARRIAGE_REGISTRY",
    )


def case(committed: int = 3, steps: dict[str, int] | None = None, **changes: object) -> CaseState:
    limits = Limits(20, committed, steps or {"handled": 1, "reviewed": 1, "approved": 1})
    values: dict[str, object] = {
        "case_number": "MZ-1",
        "item_code": "MZ-HYDJ-001",
        "item_name": "结婚登记",
        "department": "MARRIAGE_REGISTRY",
        "accepted_at": ACCEPTED,
        "catalogue_version": 1,
        "limits": limits,
    }
    return CaseState(**(values | changes))  # type: ignore[arg-type]


def kinds(signals: list[Signal]) -> list[tuple[str, str]]:
    return [(s.kind, s.rule) for s in signals]


def test_the_committed_deadline_skips_national_day_and_counts_the_make_up_saturday(
    calendar: WorkingCalendar,
) -> None:
    clock = clock_of(calendar, case(), [recorded("CaseAccepted", ACCEPTED)], shanghai(10, 8))

    assert clock.committed_due == date(2026, 10, 10)  # Oct 8, Oct 9, Saturday Oct 10
    assert clock.legal_due == date(2026, 11, 3)  # 20 working days
    assert clock.steps[0].due == date(2026, 10, 8)


def test_no_signal_while_a_case_and_its_step_are_on_time(calendar: WorkingCalendar) -> None:
    events = [recorded("CaseAccepted", ACCEPTED)]

    assert evaluate(calendar, case(), events, shanghai(10, 8)) == []


def test_one_working_day_left_is_a_yellow_light_and_an_overdue_step_a_yellow_card(
    calendar: WorkingCalendar,
) -> None:
    signals = evaluate(calendar, case(), [recorded("CaseAccepted", ACCEPTED)], shanghai(10, 9))

    assert kinds(signals) == [
        ("yellow-light", "committed-deadline-near"),
        ("yellow-card", "step-overdue:handled"),
    ]
    assert signals[0].deadline == date(2026, 10, 10)


def test_a_case_not_concluded_by_its_committed_deadline_gets_a_red_card(
    calendar: WorkingCalendar,
) -> None:
    events = [recorded("CaseAccepted", ACCEPTED)]

    on_the_day = evaluate(calendar, case(), events, shanghai(10, 10, 23))
    after = evaluate(calendar, case(), events, shanghai(10, 11, 1))  # Sunday, past the deadline

    assert ("red-card", "not-concluded-in-time") not in kinds(on_the_day)
    assert kinds(after) == [("red-card", "not-concluded-in-time")]


def test_a_yellow_card_not_corrected_in_one_working_day_becomes_a_red_card(
    calendar: WorkingCalendar,
) -> None:
    running = case(committed=10)  # the case on time; only its first step is late
    events = [recorded("CaseAccepted", ACCEPTED)]

    card = evaluate(calendar, running, events, shanghai(10, 10))  # due Oct 8, card Oct 9
    red = evaluate(calendar, running, events, shanghai(10, 12))  # Oct 10 passed: not corrected
    done = [*events, recorded("CaseStepCompleted", shanghai(10, 12, 9), step="handled")]
    corrected = evaluate(calendar, running, done, shanghai(10, 12))

    assert kinds(card) == [("yellow-card", "step-overdue:handled")]
    assert kinds(red) == [("red-card", "step-overdue-not-corrected:handled")]
    assert kinds(corrected) == []  # the next step's limit runs from Oct 12


def test_a_suspension_stops_the_clock_for_the_days_it_covers(calendar: WorkingCalendar) -> None:
    events = [
        recorded("CaseAccepted", ACCEPTED),
        recorded("CaseStepCompleted", shanghai(10, 8), step="handled"),
        recorded("CaseSuspended", shanghai(10, 9), reason="请补正户口簿复印件"),
    ]
    suspended = case(suspended_since=shanghai(10, 9), steps_done=("handled",))
    resumed = [*events, recorded("CaseResumed", shanghai(10, 13, 9))]
    running = case(steps_done=("handled",))

    while_suspended = evaluate(calendar, suspended, events, shanghai(10, 12))
    clock = clock_of(calendar, running, resumed, shanghai(10, 13, 11))
    after = evaluate(calendar, running, resumed, shanghai(10, 13, 11))

    assert while_suspended == []
    assert clock.paused_days == 2  # Saturday Oct 10 (make-up) and Monday Oct 12
    assert clock.committed_due == date(2026, 10, 13)
    assert ("yellow-light", "committed-deadline-near") in kinds(after)
    assert ("red-card", "not-concluded-in-time") not in kinds(after)


def test_late_reports_and_a_material_request_without_reason_are_yellow_cards(
    calendar: WorkingCalendar,
) -> None:
    events = [
        recorded("CaseAccepted", ACCEPTED, reported=ACCEPTED + timedelta(hours=30)),
        recorded("CaseSuspended", shanghai(10, 8)),
    ]
    concluded = case(outcome="withdrawn", concluded_at=shanghai(10, 9))

    signals = evaluate(calendar, concluded, events, shanghai(10, 20))
    before_report = evaluate(calendar, concluded, events[:1], ACCEPTED + timedelta(hours=2))

    assert kinds(signals) == [
        ("yellow-card", "reported-late:1"),
        ("yellow-card", "material-request-without-reason:2"),
    ]
    assert "reported 30 hours after it happened" in signals[0].detail
    assert before_report == []
