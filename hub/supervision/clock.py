"""A case's clock in working days: its deadlines, moved by its suspensions (pure).

Conventions (docs/supervision.md, "The clock"):
- a limit of N working days from a day D ends at the end of ``calendar.add(D, N)``, Shanghai
  time: the day of acceptance (or of the step before) does not count;
- a suspension stops the clock for the working days strictly between the day it began and
  the day it ended (both of those days still count); while it lasts, up to and including today;
- a step's limit runs from the day the step before it was completed (the first from
  acceptance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hub.supervision.calendar import WorkingCalendar, shanghai_date
from hub.supervision.casebook import RecordedEvent


@dataclass(frozen=True)
class Pause:
    start: date
    end: date | None  # None: still suspended
    reason: str


@dataclass(frozen=True)
class StepClock:
    step: str
    limit_days: int
    starts: date
    due: date  # end of this day, pauses included
    done: date | None


@dataclass(frozen=True)
class CaseClock:
    accepted: date
    committed_due: date
    legal_due: date
    paused_days: int
    pauses: tuple[Pause, ...]
    steps: tuple[StepClock, ...]


def pauses_of(events: list[RecordedEvent]) -> list[Pause]:
    pauses: list[Pause] = []
    start: tuple[date, str] | None = None
    for event in events:
        if event.kind == "CaseSuspended":
            start = (shanghai_date(event.happened_at), event.reason)
        elif event.kind == "CaseResumed" and start is not None:
            pauses.append(Pause(start[0], shanghai_date(event.happened_at), start[1]))
            start = None
    if start is not None:
        pauses.append(Pause(start[0], None, start[1]))
    return pauses


def paused_working_days(
    calendar: WorkingCalendar, pauses: list[Pause], since: date, until: date
) -> int:
    """Working days stopped by ``pauses`` after ``since`` up to ``until`` (today)."""
    days = 0
    for pause in pauses:
        last = (pause.end - timedelta(days=1)) if pause.end else until
        day = max(pause.start, since) + timedelta(days=1)
        while day <= min(last, until):
            days += calendar.is_working_day(day)
            day += timedelta(days=1)
    return days


def case_clock(
    calendar: WorkingCalendar,
    accepted_at: datetime,
    limits_committed: int,
    limits_legal: int,
    step_limits: dict[str, int],
    events: list[RecordedEvent],
    today: date,
) -> CaseClock:
    accepted = shanghai_date(accepted_at)
    pauses = pauses_of(events)
    paused = paused_working_days(calendar, pauses, accepted, today)
    done = {e.step: shanghai_date(e.happened_at) for e in events if e.kind == "CaseStepCompleted"}
    steps, starts = [], accepted
    for step, limit in step_limits.items():
        step_paused = paused_working_days(calendar, pauses, starts, done.get(step, today))
        due = calendar.add(starts, limit + step_paused)
        steps.append(StepClock(step, limit, starts, due, done.get(step)))
        if step not in done:
            break  # later steps have no start yet
        starts = done[step]
    return CaseClock(
        accepted=accepted,
        committed_due=calendar.add(accepted, limits_committed + paused),
        legal_due=calendar.add(accepted, limits_legal + paused),
        paused_days=paused,
        pauses=tuple(pauses),
        steps=tuple(steps),
    )
