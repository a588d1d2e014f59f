"""Supervision statistics for a period, per department and per item (read-only, a few queries):

    cases          cases accepted in the period
    concluded      cases concluded in the period (whenever they were accepted)
    on time        of those, concluded by the end of their committed deadline
    average days   of those, working days from acceptance to conclusion, the clock's
                   suspensions (补正) left out, on the working-day calendar
    yellow lights, yellow cards, red cards
                   signals the worker service issued in the period (supervision_signals)

Departments are ranked by on-time rate (highest first; none concluded ranks last), then
fewest red cards, yellow cards, yellow lights, then fewest average working days.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select

from hub.errors import CalendarYearUnknown
from hub.supervision.calendar import WorkingCalendar, shanghai_date
from hub.supervision.casebook import RecordedEvent, state_of_row
from hub.supervision.periods import Period
from hub.supervision.rules import RED_CARD, YELLOW_CARD, YELLOW_LIGHT, clock_of
from hub.supervision.rules_of_acceptance import CaseState
from hub.supervision.tables import supervision_case_events as events_table
from hub.supervision.tables import supervision_cases as cases_table
from hub.supervision.tables import supervision_signals as signals_table

_CHUNK = 500  # case numbers per IN (...) query
_SIGNAL_COLUMNS = {
    YELLOW_LIGHT: "yellow_lights",
    YELLOW_CARD: "yellow_cards",
    RED_CARD: "red_cards",
}


@dataclass
class Counts:
    cases: int = 0
    concluded: int = 0
    on_time: int = 0
    working_days: int = 0  # summed over the concluded ones
    yellow_lights: int = 0
    yellow_cards: int = 0
    red_cards: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.concluded if self.concluded else None

    @property
    def average_working_days(self) -> float | None:
        return self.working_days / self.concluded if self.concluded else None

    def add(self, other: Counts) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_json(self) -> dict[str, Any]:
        rate, days = self.on_time_rate, self.average_working_days
        return {
            "cases": self.cases,
            "concluded": self.concluded,
            "on_time": self.on_time,
            "on_time_rate": None if rate is None else round(rate, 4),
            "average_working_days": None if days is None else round(days, 2),
            "yellow_lights": self.yellow_lights,
            "yellow_cards": self.yellow_cards,
            "red_cards": self.red_cards,
        }


@dataclass
class ItemStats:
    item_code: str
    item_name: str
    counts: Counts = field(default_factory=Counts)


@dataclass
class DepartmentStats:
    department: str
    rank: int = 0
    counts: Counts = field(default_factory=Counts)
    items: list[ItemStats] = field(default_factory=list)


@dataclass(frozen=True)
class Statistics:
    period: Period
    departments: list[DepartmentStats]  # in ranking order
    # Concluded cases the calendar cannot count (a deadline in a year it does not know):
    # left out of every figure, each named with the error that names the missing year.
    not_counted: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {
                "name": self.period.name,
                "from": self.period.first.isoformat(),
                "to": self.period.last.isoformat(),
            },
            "departments": [
                {"department": d.department, "rank": d.rank}
                | d.counts.as_json()
                | {
                    "items": [
                        {"item_code": i.item_code, "item_name": i.item_name} | i.counts.as_json()
                        for i in d.items
                    ]
                }
                for d in self.departments
            ],
            "not_counted": self.not_counted,
        }


def statistics(
    engine: Engine, calendar: WorkingCalendar, period: Period, *, department: str | None = None
) -> Statistics:
    items: dict[tuple[str, str], ItemStats] = {}
    not_counted: list[str] = []

    def item(department: str, code: str, name: str = "") -> ItemStats:
        return items.setdefault((department, code), ItemStats(code, name))

    with engine.connect() as connection:
        cases = _cases(connection, period, department)
        pauses = _pause_events(connection, [c.case_number for c in cases if c.concluded_at])
        for case in cases:
            counts = item(case.department, case.item_code, case.item_name).counts
            if period.starts <= case.accepted_at < period.ends:
                counts.cases += 1
            if case.concluded_at and period.starts <= case.concluded_at < period.ends:
                try:
                    _count_conclusion(counts, calendar, case, pauses.get(case.case_number, []))
                except CalendarYearUnknown as error:
                    not_counted.append(f"{case.case_number}: {error}")
        for dept, code, name, kind, count in _signal_counts(connection, period, department):
            counts = item(dept, code, name).counts
            column = _SIGNAL_COLUMNS[kind]
            setattr(counts, column, getattr(counts, column) + count)
    return Statistics(period, _ranked(items), not_counted)


def working_days_between(calendar: WorkingCalendar, first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last``."""
    days, day = 0, first + timedelta(days=1)
    while day <= last:
        days += calendar.is_working_day(day)
        day += timedelta(days=1)
    return days


def _count_conclusion(
    counts: Counts, calendar: WorkingCalendar, case: CaseState, events: list[RecordedEvent]
) -> None:
    assert case.concluded_at is not None
    clock = clock_of(calendar, case, events, case.concluded_at)  # may raise: count nothing
    concluded = shanghai_date(case.concluded_at)
    days = working_days_between(calendar, clock.accepted, concluded) - clock.paused_days
    counts.concluded += 1
    counts.on_time += concluded <= clock.committed_due
    counts.working_days += days


def _ranked(items: dict[tuple[str, str], ItemStats]) -> list[DepartmentStats]:
    departments: dict[str, DepartmentStats] = {}
    for (dept, _), stats in sorted(items.items()):
        entry = departments.setdefault(dept, DepartmentStats(dept))
        entry.items.append(stats)
        entry.counts.add(stats.counts)

    def key(d: DepartmentStats) -> tuple[Any, ...]:
        c = d.counts
        rate, days = c.on_time_rate, c.average_working_days
        ranks = (c.red_cards, c.yellow_cards, c.yellow_lights, days or 0.0, d.department)
        return (rate is None, -(rate or 0.0), *ranks)

    ranked = sorted(departments.values(), key=key)
    for rank, entry in enumerate(ranked, start=1):
        entry.rank = rank
    return ranked


def _cases(connection: Connection, period: Period, department: str | None) -> list[CaseState]:
    accepted = cases_table.c.accepted_at
    concluded = cases_table.c.concluded_at
    query = select(cases_table).where(
        or_(
            (accepted >= period.starts) & (accepted < period.ends),
            (concluded >= period.starts) & (concluded < period.ends),
        )
    )
    if department:
        query = query.where(cases_table.c.department == department)
    return [state_of_row(row._mapping) for row in connection.execute(query)]


def _pause_events(connection: Connection, numbers: list[str]) -> dict[str, list[RecordedEvent]]:
    """The suspensions and resumptions of these cases, in order: all a finished clock needs."""
    found: dict[str, list[RecordedEvent]] = {}
    for chunk in _chunks(numbers):
        query = (
            select(events_table)
            .where(
                events_table.c.case_number.in_(chunk),
                events_table.c.kind.in_(("CaseSuspended", "CaseResumed")),
            )
            .order_by(events_table.c.id)
        )
        for r in connection.execute(query):
            event = RecordedEvent(*(getattr(r, f.name) for f in fields(RecordedEvent)))
            found.setdefault(r.case_number, []).append(event)
    return found


def _signal_counts(
    connection: Connection, period: Period, department: str | None
) -> Iterable[tuple[str, str, str, str, int]]:
    issued = signals_table.c.issued_at
    query = (
        select(
            cases_table.c.department,
            cases_table.c.item_code,
            cases_table.c.item_name,
            signals_table.c.kind,
            func.count(),
        )
        .join(cases_table, cases_table.c.case_number == signals_table.c.case_number)
        .where(issued >= period.starts, issued < period.ends)
        .group_by(
            cases_table.c.department,
            cases_table.c.item_code,
            cases_table.c.item_name,
            signals_table.c.kind,
        )
    )
    if department:
        query = query.where(cases_table.c.department == department)
    for dept, code, name, kind, count in connection.execute(query):
        if kind in _SIGNAL_COLUMNS:
            yield dept, code, name, kind, int(count)


def _chunks(numbers: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(numbers), _CHUNK):
        yield numbers[start : start + _CHUNK]
