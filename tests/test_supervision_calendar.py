"""The working-day calendar deadlines are counted in: China's statutory holidays and adjusted
working weekends (调休) from the chinese-calendar package, the admins' file for the years it
does not know, and an error naming the year for anything else."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.errors import CalendarYearUnknown, RegistrationRefused
from hub.supervision import DayKind, WorkingCalendar, load_calendar, shanghai_date

CALENDAR_2027 = """
[2027]
holidays = [
    { from = 2027-01-01, to = 2027-01-03, name = "New Year's Day" },
    { from = "2027-02-06", to = "2027-02-12", name = "Spring Festival" },
]
working_weekends = [{ date = 2027-02-14, name = "Spring Festival" }]
"""


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return load_calendar()


def first_unknown_year() -> int:
    """2027 with chinese-calendar 1.11; later releases know more years."""
    return load_calendar().years[-1] + 1


@pytest.mark.parametrize(
    ("day", "kind", "holiday"),
    [
        (date(2026, 2, 13), DayKind.WORKING_DAY, ""),  # Friday before the Spring Festival
        (date(2026, 2, 14), DayKind.ADJUSTED_WORKING_DAY, "Spring Festival"),  # a Saturday
        (date(2026, 2, 16), DayKind.HOLIDAY, "Spring Festival"),  # a Monday
        (date(2026, 2, 23), DayKind.HOLIDAY, "Spring Festival"),  # a Monday, the last day
        (date(2026, 2, 28), DayKind.ADJUSTED_WORKING_DAY, "Spring Festival"),  # a Saturday
        (date(2026, 3, 7), DayKind.WEEKEND, ""),
        (date(2026, 9, 20), DayKind.ADJUSTED_WORKING_DAY, "National Day"),  # a Sunday
        (date(2026, 10, 1), DayKind.HOLIDAY, "National Day"),
        (date(2026, 10, 7), DayKind.HOLIDAY, "National Day"),  # a Wednesday
        (date(2026, 10, 10), DayKind.ADJUSTED_WORKING_DAY, "National Day"),  # a Saturday
        (date(2025, 1, 26), DayKind.ADJUSTED_WORKING_DAY, "Spring Festival"),  # a Sunday
        (date(2025, 1, 28), DayKind.HOLIDAY, "Spring Festival"),
        (date(2025, 10, 8), DayKind.HOLIDAY, "National Day"),  # a Wednesday
        (date(2025, 10, 11), DayKind.ADJUSTED_WORKING_DAY, "National Day"),  # a Saturday
    ],
)
def test_holidays_and_make_up_weekends_of_2025_and_2026_decide_the_working_days(
    calendar: WorkingCalendar, day: date, kind: DayKind, holiday: str
) -> None:
    verdict = calendar.verdict(day)

    assert (verdict.kind, verdict.holiday) == (kind, holiday)
    assert calendar.is_working_day(day) is (
        kind in (DayKind.WORKING_DAY, kind.ADJUSTED_WORKING_DAY)
    )


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the make-up Saturday counts
        (date(2026, 2, 14), 1, date(2026, 2, 24)),  # the whole Spring Festival is skipped
        (date(2026, 2, 12), 5, date(2026, 2, 26)),
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day week skipped
        (date(2026, 10, 8), -1, date(2026, 9, 30)),  # and counting back too
        (date(2026, 10, 9), -3, date(2026, 9, 29)),
        (date(2026, 10, 1), 0, date(2026, 10, 1)),
    ],
)
def test_adding_working_days_skips_holidays_and_counts_make_up_weekends(
    calendar: WorkingCalendar, start: date, count: int, expected: date
) -> None:
    assert calendar.add(start, count) == expected


def test_a_date_in_a_year_nobody_described_is_an_error_naming_the_year(
    calendar: WorkingCalendar,
) -> None:
    year = first_unknown_year()
    with pytest.raises(CalendarYearUnknown, match=f"no working-day calendar for {year}") as raised:
        calendar.is_working_day(date(year, 3, 1))
    assert raised.value.year == year
    assert "calendar file" in str(raised.value)

    with pytest.raises(CalendarYearUnknown) as crossing:  # a count that runs into the year
        calendar.add(date(year - 1, 12, 30), 5)
    assert crossing.value.year == year


def test_the_calendar_file_adds_a_year_the_package_does_not_know(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(CALENDAR_2027, encoding="utf-8")
    calendar = load_calendar(path)

    assert calendar.verdict(date(2027, 2, 8)).kind is DayKind.HOLIDAY
    assert calendar.verdict(date(2027, 2, 14)).kind is DayKind.ADJUSTED_WORKING_DAY
    assert calendar.verdict(date(2027, 2, 14)).source == "calendar file calendar.toml"
    assert calendar.add(date(2026, 12, 31), 1) == date(2027, 1, 4)  # across New Year
    assert calendar.add(date(2027, 2, 5), 1) == date(2027, 2, 14)
    assert calendar.is_working_day(date(2026, 2, 14))  # the package's years stay
    year = max(2028, first_unknown_year())
    with pytest.raises(CalendarYearUnknown, match=str(year)):
        calendar.is_working_day(date(year, 1, 3))


def test_a_year_in_the_file_replaces_the_packages_schedule_for_that_year(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text('[2026]\nholidays = [{ from = 2026-03-02, name = "Test Day" }]\n')
    calendar = load_calendar(path)

    assert calendar.verdict(date(2026, 3, 2)).kind is DayKind.HOLIDAY
    assert calendar.verdict(date(2026, 10, 1)).kind is DayKind.WORKING_DAY


def test_every_mistake_in_the_calendar_file_is_reported_naming_its_entry(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(
        """
[2027]
holidays = [
    { from = 2027-02-12, to = 2027-02-06, name = "Spring Festival" },
    { from = 2028-01-01, name = "New Year's Day" },
    { from = 2027-05-01 },
]
working_weekends = [{ date = 2027-02-15, name = "Spring Festival" }]
rest_days = []

[next]
""",
        encoding="utf-8",
    )

    with pytest.raises(RegistrationRefused) as refused:
        load_calendar(path)

    assert refused.value.reasons == [
        "calendar.toml [2027]: unknown key 'rest_days' (holidays, working_weekends)",
        "calendar.toml [2027] holidays[0]: to 2027-02-06 is before from 2027-02-12",
        "calendar.toml [2027] holidays[1] from: 2028-01-01 is not in 2027",
        "calendar.toml [2027] holidays[1] to: 2028-01-01 is not in 2027",
        "calendar.toml [2027] holidays[2]: a name is needed (the holiday the day belongs to)",
        "calendar.toml [2027] working_weekends[0]: 2027-02-15 is a Monday, not a Saturday or "
        "Sunday",
        "calendar.toml [next]: each table is a year, e.g. [2027], holding holidays and "
        "working_weekends",
    ]


def test_working_days_are_counted_on_the_date_in_shanghai() -> None:
    assert shanghai_date(datetime(2026, 2, 13, 17, 0, tzinfo=UTC)) == date(2026, 2, 14)
    assert shanghai_date(datetime(2026, 2, 13, 15, 59, tzinfo=UTC)) == date(2026, 2, 13)


def test_cli_says_whether_a_date_is_a_working_day_and_why() -> None:
    runner = CliRunner()

    text = runner.invoke(main, ["calendar", "is-working-day", "2026-02-28"])
    as_json = runner.invoke(main, ["calendar", "is-working-day", "2026-10-05", "--json"])

    assert text.exit_code == 0, text.output
    assert text.output.startswith("2026-02-28 is a working day (adjusted working day, Spring")
    assert json.loads(as_json.output) == {
        "date": "2026-10-05",
        "working_day": False,
        "kind": "holiday",
        "holiday": "National Day",
        "source": json.loads(as_json.output)["source"],
    }
    assert json.loads(as_json.output)["source"].startswith("chinese-calendar ")


def test_cli_adds_and_subtracts_working_days() -> None:
    runner = CliRunner()

    forward = runner.invoke(main, ["calendar", "add", "2026-02-13", "2"])
    back = runner.invoke(main, ["calendar", "add", "2026-10-09", "-3", "--json"])

    assert (forward.exit_code, forward.output) == (0, "2026-02-24\n")
    assert back.exit_code == 0, back.output
    assert json.loads(back.output)["date"] == "2026-09-29"
    assert json.loads(back.output)["working_days"] == -3


def test_cli_reads_the_calendar_file_setting_and_names_a_missing_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVHUB_CALENDAR_FILE", raising=False)
    runner = CliRunner()
    year = max(2028, first_unknown_year())
    missing = runner.invoke(main, ["calendar", "is-working-day", f"{year}-03-01"])
    path = tmp_path / "calendar.toml"
    path.write_text(CALENDAR_2027, encoding="utf-8")
    monkeypatch.setenv("GOVHUB_CALENDAR_FILE", str(path))
    known = runner.invoke(main, ["calendar", "add", "2026-12-31", "1"])

    assert missing.exit_code == 1
    assert f"no working-day calendar for {year}" in missing.output
    assert (known.exit_code, known.output) == (0, "2027-01-04\n")
