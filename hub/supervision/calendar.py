"""The working-day calendar: pure functions of the year schedules it is given.

A working day is a Monday to Friday that is not a statutory holiday, or a Saturday or Sunday
that the State Council's notice turns into a working day (调休, a make-up day for a holiday).
Only years with a schedule are answered: anything else raises CalendarYearUnknown, because a
deadline computed on a guessed calendar is wrong on the days that matter most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from hub.errors import CalendarYearUnknown

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ONE_DAY = timedelta(days=1)


class DayKind(Enum):
    WORKING_DAY = "working-day"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    ADJUSTED_WORKING_DAY = "adjusted-working-day"  # a weekend worked for a holiday (调休)


@dataclass(frozen=True)
class YearSchedule:
    """One year's exceptions to Monday-Friday: holiday and make-up day -> the holiday's name."""

    year: int
    source: str  # where it came from, shown to the user: the package and version, or the file
    holidays: dict[date, str] = field(default_factory=dict)
    working_weekends: dict[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DayVerdict:
    day: date
    kind: DayKind
    holiday: str  # the holiday a holiday or an adjusted working day belongs to; "" otherwise
    source: str

    @property
    def working(self) -> bool:
        return self.kind in (DayKind.WORKING_DAY, DayKind.ADJUSTED_WORKING_DAY)

    def describe(self) -> str:
        answer = "a working day" if self.working else "not a working day"
        detail = self.kind.value.replace("-", " ")
        if self.holiday:
            detail += f", {self.holiday}"
        return f"{self.day.isoformat()} is {answer} ({detail}; {self.source})"


class WorkingCalendar:
    """Working days over the years it has schedules for."""

    def __init__(self, schedules: dict[int, YearSchedule], *, how_to_extend: str = "") -> None:
        self._schedules = dict(schedules)
        self._how_to_extend = how_to_extend

    @property
    def years(self) -> list[int]:
        return sorted(self._schedules)

    def verdict(self, day: date) -> DayVerdict:
        schedule = self._schedule(day.year)
        if day in schedule.holidays:
            return DayVerdict(day, DayKind.HOLIDAY, schedule.holidays[day], schedule.source)
        if day in schedule.working_weekends:
            name = schedule.working_weekends[day]
            return DayVerdict(day, DayKind.ADJUSTED_WORKING_DAY, name, schedule.source)
        kind = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKING_DAY
        return DayVerdict(day, kind, "", schedule.source)

    def is_working_day(self, day: date) -> bool:
        return self.verdict(day).working

    def add(self, day: date, count: int) -> date:
        """The date ``count`` working days after ``day`` (before it when negative); ``day``
        itself is never counted, so adding 1 on a Friday before a holiday week skips it."""
        step = _ONE_DAY if count >= 0 else -_ONE_DAY
        remaining = abs(count)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def _schedule(self, year: int) -> YearSchedule:
        schedule = self._schedules.get(year)
        if schedule is None:
            raise CalendarYearUnknown(year, year_ranges(self.years), self._how_to_extend)
        return schedule


def year_ranges(years: list[int]) -> str:
    """2004-2026, 2028 for [2004, ..., 2026, 2028]; "none" for no years."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and runs[-1][-1] == year - 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs) or "none"


def shanghai_date(moment: datetime) -> date:
    """The calendar date of a moment in Asia/Shanghai, where the working days are counted."""
    if moment.tzinfo is None:
        raise ValueError("a moment without a time zone has no date in Asia/Shanghai")
    return moment.astimezone(SHANGHAI).date()
