"""Deadline supervision (电子监察): every administrative case on the clock, in working days.

The contract, as far as it is built:

    calendar.py          WorkingCalendar: is a date a working day in mainland China (statutory
                         holidays and the adjusted working weekends, 调休), the date N working
                         days after another, the Asia/Shanghai date of a moment. A date in a
                         year nobody described raises CalendarYearUnknown naming the year;
                         the calendar never guesses.
    calendar_sources.py  load_calendar(calendar_file): the schedules the chinese-calendar
                         package was released with, and the admins' TOML file for the years it
                         does not know yet (a year in the file replaces the package's).

The rest of the hub reaches this package only through the names below.
"""

from __future__ import annotations

from hub.supervision.calendar import DayKind, DayVerdict, WorkingCalendar, shanghai_date
from hub.supervision.calendar_sources import load_calendar

__all__ = ["DayKind", "DayVerdict", "WorkingCalendar", "load_calendar", "shanghai_date"]
