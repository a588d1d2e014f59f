"""`govhub supervision stats`: per department and item, counted in working days on the real
2026 calendar, the ranking, the default ten-day period, and the .xlsx opened back."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from supervision_kit import SHANGHAI, Cases, at, october_cases

from hub.cli import main
from hub.store import Store
from hub.supervision.periods import last_finished_ten_days, parse_period


@pytest.fixture
def database(database_url: str) -> str:
    store = Store(database_url)
    store.upgrade()
    october_cases(store.engine)
    store.dispose()
    return database_url


def stats(database: str, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["supervision", "stats", "--database-url", database, *args, "--json"]
    )
    assert result.exit_code == 0, result.output
    parsed: dict[str, Any] = json.loads(result.output)
    return parsed


def by_department(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {d["department"]: d for d in report["departments"]}


def test_the_first_ten_days_of_october(database: str) -> None:
    report = stats(database, "--period", "2026-10-1")

    assert report["period"] == {"name": "2026-10-1", "from": "2026-10-01", "to": "2026-10-10"}
    marriage, social = by_department(report).values()
    assert (marriage["department"], marriage["rank"]) == ("MARRIAGE_REGISTRY", 1)
    assert marriage | {"items": None} == {
        "department": "MARRIAGE_REGISTRY",
        "rank": 1,
        "cases": 1,  # MZ-A; MZ-B was accepted in September
        "concluded": 1,
        "on_time": 1,
        "on_time_rate": 1.0,
        "average_working_days": 1.0,
        "yellow_lights": 1,  # MZ-B, in the pass of 9 October
        "yellow_cards": 0,
        "red_cards": 0,
        "items": None,
    }
    assert [i["item_code"] for i in marriage["items"]] == ["MZ-HYDJ-001"]
    assert marriage["items"][0]["item_name"] == "结婚登记"
    # Nothing concluded yet: no rate, ranked after every department with one.
    assert (social["rank"], social["cases"], social["concluded"]) == (2, 2, 0)
    assert social["on_time_rate"] is None and social["average_working_days"] is None


def test_the_month_counts_late_conclusions_suspensions_and_cards_and_ranks_again(
    database: str,
) -> None:
    report = stats(database, "--period", "2026-10")

    ranking = [(d["rank"], d["department"]) for d in report["departments"]]
    assert ranking == [(1, "SOCIAL_SECURITY"), (2, "MARRIAGE_REGISTRY")]
    departments = by_department(report)
    marriage, social = departments["MARRIAGE_REGISTRY"], departments["SOCIAL_SECURITY"]
    # MZ-A on time in 1 working day; MZ-B late in 4 (8, 9, the make-up Saturday 10, and 12).
    assert (marriage["concluded"], marriage["on_time"], marriage["on_time_rate"]) == (2, 1, 0.5)
    assert marriage["average_working_days"] == 2.5
    assert (marriage["yellow_lights"], marriage["red_cards"]) == (1, 1)
    # SB-A: 4 working days from 8 to 13 October, 2 of them stopped for material.
    assert (social["concluded"], social["on_time_rate"], social["average_working_days"]) == (
        1,
        1.0,
        2.0,
    )
    assert (social["yellow_cards"], social["red_cards"]) == (1, 0)  # SB-B reported late


def test_one_department(database: str) -> None:
    report = stats(database, "--period", "2026-10", "--department", "SOCIAL_SECURITY")

    assert [(d["department"], d["rank"]) for d in report["departments"]] == [("SOCIAL_SECURITY", 1)]


def test_the_text_table_shows_the_ranking_and_the_items(database: str) -> None:
    result = CliRunner().invoke(
        main, ["supervision", "stats", "--database-url", database, "--period", "2026-10"]
    )

    lines = result.output.splitlines()
    assert lines[0] == "supervision statistics 2026-10 (2026-10-01 to 2026-10-31), working days"
    assert lines[2].startswith("1     SOCIAL_SECURITY") and "100%" in lines[2]
    assert "SB-CBDJ-001 社会保险参保登记" in lines[3]
    assert lines[4].startswith("2     MARRIAGE_REGISTRY") and "50%" in lines[4]


def test_the_workbook_has_the_table_and_its_charts(database: str, tmp_path: Path) -> None:
    path = tmp_path / "october.xlsx"
    command = ["supervision", "stats", "--database-url", database, "--period", "2026-10"]
    result = CliRunner().invoke(main, [*command, "--xlsx", str(path)])
    assert result.exit_code == 0, result.output

    book = openpyxl.load_workbook(path)
    sheet = book["Departments"]
    assert sheet["A1"].value.startswith("Supervision statistics 2026-10")
    header = [c.value for c in sheet[3]]
    assert header[:6] == ["Rank", "Department", "Cases", "Concluded", "On time", "On-time rate"]
    assert [c.value for c in sheet[4]] == [1, "SOCIAL_SECURITY", 2, 1, 1, 1, 2, 0, 1, 0]
    assert [c.value for c in sheet[5]][:7] == [2, "MARRIAGE_REGISTRY", 1, 2, 1, 0.5, 2.5]
    assert sheet["F5"].number_format == "0.0%"
    assert len(sheet._charts) == 2  # read back: the charts are in the file
    items = book["Items"]
    assert [c.value for c in items[4]][:3] == ["SOCIAL_SECURITY", "SB-CBDJ-001", "社会保险参保登记"]


def test_a_bad_period_is_refused_naming_the_forms_it_takes(database: str) -> None:
    result = CliRunner().invoke(
        main, ["supervision", "stats", "--database-url", database, "--period", "2026-10-4"]
    )

    assert result.exit_code == 2
    assert "'2026-10-4' is not a period" in result.output and "2026-10-3" in result.output


@pytest.mark.parametrize(
    ("now", "period", "first", "last"),
    [
        ("2026-10-11T08:00", "2026-10-1", "2026-10-01", "2026-10-10"),
        ("2026-10-10T23:00", "2026-09-3", "2026-09-21", "2026-09-30"),
        ("2026-03-01T00:30", "2026-02-3", "2026-02-21", "2026-02-28"),
        ("2027-01-05T12:00", "2026-12-3", "2026-12-21", "2026-12-31"),
    ],
)
def test_the_default_period_is_the_last_finished_ten_days(
    now: str, period: str, first: str, last: str
) -> None:
    found = last_finished_ten_days(datetime.fromisoformat(now).replace(tzinfo=SHANGHAI))

    assert (found.name, found.first.isoformat(), found.last.isoformat()) == (period, first, last)
    assert parse_period(period) == found


def test_a_case_the_calendar_cannot_count_is_named_not_guessed(
    database_url: str, tmp_path: Path
) -> None:
    store = Store(database_url)
    store.upgrade()
    cases = Cases(store.engine)
    cases.accept("MZ-Y", "MZ-HYDJ-001", "MARRIAGE_REGISTRY", at(12, 30))  # due in 2027
    cases.conclude("MZ-Y", at(12, 31), outcome="withdrawn")
    store.dispose()

    report = stats(database_url, "--period", "2026-12")

    (marriage,) = report["departments"]
    assert (marriage["cases"], marriage["concluded"], marriage["on_time_rate"]) == (1, 0, None)
    (line,) = report["not_counted"]
    assert line.startswith("MZ-Y: no working-day calendar for 2027")
    path = tmp_path / "december.xlsx"
    command = ["supervision", "stats", "--database-url", database_url, "--period", "2026-12"]
    assert CliRunner().invoke(main, [*command, "--xlsx", str(path)]).exit_code == 0
    assert openpyxl.load_workbook(path)["Not counted"]["A3"].value == line
