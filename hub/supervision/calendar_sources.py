"""Where the working-day calendar's year schedules come from.

1. The chinese-calendar package: the State Council's schedules up to the year it was released
   for (each release adds the next year once the notice is published, around November).
2. The admins' calendar file (setting ``calendar_file``, GOVHUB_CALENDAR_FILE), TOML, for the
   years the installed package does not know yet, or to correct one; a year in the file
   replaces the package's schedule for that year::

       [2027]
       holidays = [
           { from = 2027-01-01, to = 2027-01-03, name = "New Year's Day" },
           { from = 2027-02-06, to = 2027-02-12, name = "Spring Festival" },
       ]
       working_weekends = [{ date = 2027-02-14, name = "Spring Festival" }]

Every mistake in the file is reported at once, each naming the file and the entry.
"""

from __future__ import annotations

import contextlib
import tomllib
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

from chinese_calendar import constants

from hub.errors import ConfigurationError, RegistrationRefused
from hub.supervision.calendar import WorkingCalendar, YearSchedule

HOW_TO_EXTEND = (
    "add the year's holidays and working weekends (from the State Council's notice) to the "
    "calendar file (GOVHUB_CALENDAR_FILE), or install a newer chinese-calendar"
)


def load_calendar(calendar_file: Path | None = None) -> WorkingCalendar:
    """The package's years, with the file's years on top (the file wins for a year in both)."""
    schedules = package_schedules()
    if calendar_file is not None:
        schedules.update(file_schedules(calendar_file))
    return WorkingCalendar(schedules, how_to_extend=HOW_TO_EXTEND)


def package_schedules() -> dict[int, YearSchedule]:
    source = f"chinese-calendar {version('chinese-calendar')}"
    holidays: dict[date, str] = constants.holidays
    workdays: dict[date, str] = constants.workdays
    years = {day.year for day in holidays} | {day.year for day in workdays}
    schedules = {year: YearSchedule(year, source) for year in years}
    for day, name in holidays.items():
        schedules[day.year].holidays[day] = name
    for day, name in workdays.items():
        schedules[day.year].working_weekends[day] = name
    return schedules


def file_schedules(path: Path) -> dict[int, YearSchedule]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"calendar file {path} cannot be read: {exc}") from exc
    problems: list[str] = []
    schedules = {}
    for key, table in raw.items():
        schedule = _year_schedule(key, table, path.name, problems)
        if schedule is not None:
            schedules[schedule.year] = schedule
    if problems:
        raise RegistrationRefused(f"calendar file {path}", problems)
    return schedules


def _year_schedule(key: str, table: Any, file: str, problems: list[str]) -> YearSchedule | None:
    where = f"{file} [{key}]"
    if not (key.isdigit() and len(key) == 4) or not isinstance(table, dict):
        problems.append(
            f"{where}: each table is a year, e.g. [2027], holding holidays and working_weekends"
        )
        return None
    schedule = YearSchedule(int(key), f"calendar file {file}")
    for unknown in sorted(set(table) - {"holidays", "working_weekends"}):
        problems.append(f"{where}: unknown key {unknown!r} (holidays, working_weekends)")
    for i, entry in enumerate(_entries(table, "holidays", where, problems)):
        entry_at = f"{where} holidays[{i}]"
        for day in _holiday_days(entry, entry_at, schedule.year, problems):
            schedule.holidays[day] = _name(entry, entry_at, problems)
    for i, entry in enumerate(_entries(table, "working_weekends", where, problems)):
        entry_at = f"{where} working_weekends[{i}]"
        weekend = _working_weekend(entry, entry_at, schedule.year, problems)
        if weekend is not None:
            schedule.working_weekends[weekend] = _name(entry, entry_at, problems)
    for day in sorted(set(schedule.holidays) & set(schedule.working_weekends)):
        problems.append(f"{where}: {day} is both a holiday and a working weekend")
    return schedule


def _entries(table: dict[str, Any], key: str, where: str, problems: list[str]) -> list[Any]:
    entries = table.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(f"{where} {key}: a list of inline tables, e.g. [{{ ... }}]")
        return []
    return entries


def _name(entry: dict[str, Any], where: str, problems: list[str]) -> str:
    name = entry.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    problems.append(f"{where}: a name is needed (the holiday the day belongs to)")
    return ""


def _holiday_days(entry: dict[str, Any], where: str, year: int, problems: list[str]) -> list[date]:
    first = _date(entry.get("from"), f"{where} from", year, problems)
    last = _date(entry.get("to", entry.get("from")), f"{where} to", year, problems)
    if first is None or last is None:
        return []
    if last < first:
        problems.append(f"{where}: to {last} is before from {first}")
        return []
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _working_weekend(
    entry: dict[str, Any], where: str, year: int, problems: list[str]
) -> date | None:
    day = _date(entry.get("date"), f"{where} date", year, problems)
    if day is not None and day.weekday() < 5:
        problems.append(f"{where}: {day} is a {day:%A}, not a Saturday or Sunday")
        return None
    return day


def _date(value: Any, where: str, year: int, problems: list[str]) -> date | None:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # not a date: reported just below
            value = date.fromisoformat(value)
    if not isinstance(value, date):
        problems.append(f"{where}: a date like {year}-10-01 is needed, not {value!r}")
        return None
    if value.year != year:
        problems.append(f"{where}: {value} is not in {year}")
        return None
    return value
