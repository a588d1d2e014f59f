"""The demo's working-day calendar: in a year no schedule describes, the demo counts Monday
to Friday and says so, instead of failing; with a known year it changes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hub.config import Settings
from hub.supervision import load_calendar
from hub.supervision.demo import demo_calendar


def test_in_a_year_nobody_described_the_demo_counts_plain_weeks_and_says_so(
    tmp_path: Path,
) -> None:
    said: list[str] = []

    settings = demo_calendar(Settings(data_dir=tmp_path), tmp_path, said.append, date(2031, 12, 20))

    calendar = load_calendar(Path(settings.calendar_file))
    assert said == [
        "(demo: no official working-day calendar for 2031, 2032; counting Monday-Friday only)"
    ]
    assert calendar.add(date(2031, 12, 31), 1) == date(2032, 1, 1)  # no New Year's Day off
    assert Path(settings.calendar_file).parent == tmp_path  # in the demo's data, nowhere else


def test_in_a_known_year_the_demo_uses_the_official_calendar(tmp_path: Path) -> None:
    said: list[str] = []
    settings = Settings(data_dir=tmp_path)

    kept = demo_calendar(settings, tmp_path, said.append, date(2026, 9, 30))

    assert kept == settings and said == []
