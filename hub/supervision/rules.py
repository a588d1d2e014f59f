"""The supervision rules: which signals a case has at a given time (pure functions of the
case, its events, the calendar and that time; nothing is issued here).

    yellow-light  one working day left: the committed deadline is today or the next working day
    yellow-card   an event reported more than ``report_hours`` after it happened (瞒报、漏报、
                  不实时报送); a request for material (suspension) without a reason; the step
                  due is overdue while the case itself is still on time
    red-card      not concluded by the committed deadline; an overdue-step yellow card not
                  corrected (the step done) within one working day

A suspended case's clock stops (hub/supervision/clock.py): no deadline signal while it lasts.
A concluded case has no deadline signals; its late-report and no-reason cards stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hub.supervision.calendar import WorkingCalendar, shanghai_date
from hub.supervision.casebook import RecordedEvent
from hub.supervision.clock import CaseClock, case_clock
from hub.supervision.rules_of_acceptance import CaseState

YELLOW_LIGHT, YELLOW_CARD, RED_CARD = "yellow-light", "yellow-card", "red-card"
SIGNAL_KINDS = (YELLOW_LIGHT, YELLOW_CARD, RED_CARD)
DEFAULT_REPORT_HOURS = 24.0


@dataclass(frozen=True)
class Signal:
    case_number: str
    kind: str  # yellow-light / yellow-card / red-card
    rule: str  # stable per case: the same fault gives the same rule (one signal, not many)
    deadline: date | None  # the deadline it is about (end of that day, Shanghai), if any
    detail: str


def clock_of(
    calendar: WorkingCalendar, case: CaseState, events: list[RecordedEvent], at: datetime
) -> CaseClock:
    today = shanghai_date(at)
    if case.concluded_at is not None:
        today = min(today, shanghai_date(case.concluded_at))
    limits = case.limits
    return case_clock(
        calendar,
        case.accepted_at,
        limits.committed_days,
        limits.legal_days,
        limits.steps,
        events,
        today,
    )


def evaluate(
    calendar: WorkingCalendar,
    case: CaseState,
    events: list[RecordedEvent],
    at: datetime,
    *,
    report_hours: float = DEFAULT_REPORT_HOURS,
) -> list[Signal]:
    signals = _reporting_cards(case, events, at, report_hours)
    if case.outcome or case.suspended_since is not None:
        return signals
    clock = clock_of(calendar, case, events, at)
    return signals + _deadline_signals(calendar, case, clock, shanghai_date(at))


def _reporting_cards(
    case: CaseState, events: list[RecordedEvent], at: datetime, report_hours: float
) -> list[Signal]:
    cards = []
    late = timedelta(hours=report_hours)
    for number, event in enumerate(events, start=1):
        if event.reported_at > at:
            continue  # not yet reported at that time
        if event.reported_at - event.happened_at > late:
            hours = (event.reported_at - event.happened_at).total_seconds() / 3600
            cards.append(
                Signal(
                    case.case_number,
                    YELLOW_CARD,
                    f"reported-late:{number}",
                    None,
                    f"{event.kind} reported {hours:.0f} hours after it happened "
                    f"(more than {report_hours:g})",
                )
            )
        if event.kind == "CaseSuspended" and not event.reason:
            cards.append(
                Signal(
                    case.case_number,
                    YELLOW_CARD,
                    f"material-request-without-reason:{number}",
                    None,
                    "material requested (case suspended) without a stated reason",
                )
            )
    return cards


def _deadline_signals(
    calendar: WorkingCalendar, case: CaseState, clock: CaseClock, today: date
) -> list[Signal]:
    number, due = case.case_number, clock.committed_due
    if today > due:
        return [
            Signal(
                number,
                RED_CARD,
                "not-concluded-in-time",
                due,
                f"not concluded by the committed deadline {due}",
            )
        ]
    signals = []
    if calendar.add(today, 1) >= due:
        signals.append(
            Signal(
                number,
                YELLOW_LIGHT,
                "committed-deadline-near",
                due,
                f"one working day left: the committed deadline is {due}",
            )
        )
    step = next((s for s in clock.steps if s.done is None), None)
    if step is not None and today > step.due:
        card_day = step.due + timedelta(days=1)
        if today > calendar.add(card_day, 1):
            signals.append(
                Signal(
                    number,
                    RED_CARD,
                    f"step-overdue-not-corrected:{step.step}",
                    step.due,
                    f"step {step.step} still overdue a working day "
                    f"after its yellow card (due {step.due})",
                )
            )
        else:
            signals.append(
                Signal(
                    number,
                    YELLOW_CARD,
                    f"step-overdue:{step.step}",
                    step.due,
                    f"step {step.step} overdue (due {step.due})",
                )
            )
    return signals
