"""What `govhub supervision` shows: cases with their clock and signals at a given time, as
plain data (the CLI prints it as text or JSON)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from hub.errors import CalendarYearUnknown
from hub.supervision.calendar import SHANGHAI, WorkingCalendar
from hub.supervision.casebook import CaseBook, RecordedEvent
from hub.supervision.rules import clock_of, evaluate
from hub.supervision.rules_of_acceptance import CaseState

EVENTS_PAGE = 1000


def case_rows(
    book: CaseBook,
    calendar: WorkingCalendar,
    at: datetime,
    *,
    report_hours: float,
    department: str | None = None,
    item: str | None = None,
    signal: str | None = None,
    concluded: bool = True,
) -> list[dict[str, Any]]:
    rows = []
    cases = book.cases(department=department, item=item, concluded=concluded)
    for start in range(0, len(cases), EVENTS_PAGE):  # one query for a page's events
        page = cases[start : start + EVENTS_PAGE]
        events = book.events_of([c.case_number for c in page])
        for case in page:
            row = case_row(case, events.get(case.case_number, []), calendar, at, report_hours)
            if signal is None or any(s["kind"] == signal for s in row["signals"]):
                rows.append(row)
    return rows


def case_row(
    case: CaseState,
    events: list[RecordedEvent],
    calendar: WorkingCalendar,
    at: datetime,
    report_hours: float,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_number": case.case_number,
        "item_code": case.item_code,
        "item_name": case.item_name,
        "department": case.department,
        "status": case.status,
        "outcome": case.outcome or None,
        "accepted_at": case.accepted_at.astimezone(SHANGHAI).isoformat(),
        "committed_due": None,
        "legal_due": None,
        "signals": [],
        "error": None,
    }
    try:
        clock = clock_of(calendar, case, events, at)
        signals = evaluate(calendar, case, events, at, report_hours=report_hours)
    except CalendarYearUnknown as error:  # this case cannot be counted; the others can
        row["error"] = str(error)
        return row
    row["committed_due"] = clock.committed_due.isoformat()
    row["legal_due"] = clock.legal_due.isoformat()
    row["signals"] = [
        {
            "kind": s.kind,
            "rule": s.rule,
            "deadline": s.deadline.isoformat() if s.deadline else None,
            "detail": s.detail,
        }
        for s in signals
    ]
    return row


def timeline(
    case: CaseState,
    events: list[RecordedEvent],
    calendar: WorkingCalendar,
    at: datetime,
    report_hours: float,
) -> dict[str, Any]:
    """The case's clock step by step: events, step deadlines, suspensions, and the days in
    its window that are not plain working days (holidays, weekends worked)."""
    detail = case_row(case, events, calendar, at, report_hours)
    if detail["error"]:
        return detail
    clock = clock_of(calendar, case, events, at)
    detail["limits"] = case.limits.as_json() | {"catalogue_version": case.catalogue_version}
    detail["events"] = [
        {
            "kind": e.kind,
            "step": e.step or None,
            "happened_at": e.happened_at.astimezone(SHANGHAI).isoformat(),
            "reported_at": e.reported_at.astimezone(SHANGHAI).isoformat(),
            "handler": e.handler or None,
            "outcome": e.outcome or None,
            "reason": e.reason or None,
        }
        for e in events
    ]
    detail["steps"] = [
        {
            "step": s.step,
            "limit_days": s.limit_days,
            "starts": s.starts.isoformat(),
            "due": s.due.isoformat(),
            "done": s.done.isoformat() if s.done else None,
        }
        for s in clock.steps
    ]
    detail["suspensions"] = [
        {
            "from": p.start.isoformat(),
            "to": p.end.isoformat() if p.end else None,
            "reason": p.reason or None,
        }
        for p in clock.pauses
    ]
    detail["paused_working_days"] = clock.paused_days
    detail["special_days"] = _special_days(calendar, clock.accepted, clock.legal_due)
    return detail


def _special_days(calendar: WorkingCalendar, first: date, last: date) -> list[dict[str, Any]]:
    days: list[dict[str, Any]] = []
    day = first
    while day <= last:
        verdict = calendar.verdict(day)
        if verdict.holiday:
            days.append(
                {"date": day.isoformat(), "kind": verdict.kind.value, "holiday": verdict.holiday}
            )
        day += timedelta(days=1)
    return days
