"""Named date and time formats and the conversions between them."""

from __future__ import annotations

import pytest

from hub.errors import MappingError
from hub.mapping.formats import make_converter


@pytest.mark.parametrize(
    ("source", "target", "value", "expected"),
    [
        ("compact-date", "iso-date", "20260520", "2026-05-20"),
        ("iso-date", "compact-date", "2026-05-20", "20260520"),
        ("iso-date", "iso-datetime", "2026-05-20", "2026-05-20T00:00:00+08:00"),
        ("compact-date", "iso-datetime", "20260520", "2026-05-20T00:00:00+08:00"),
        ("compact-datetime", "iso-datetime", "20260520093000", "2026-05-20T09:30:00+08:00"),
        ("iso-datetime", "compact-datetime", "2026-05-20T09:30:00+08:00", "20260520093000"),
        ("iso-datetime", "compact-datetime", "2026-05-20T01:30:00Z", "20260520093000"),
        ("iso-datetime", "iso-date", "2026-05-20T23:30:00-02:00", "2026-05-21"),
        ("iso-datetime", "compact-date", "2026-05-20T16:00:00Z", "20260521"),
        (
            "iso-datetime",
            "iso-datetime",
            "2026-05-20T01:30:00.250Z",
            "2026-05-20T09:30:00.250000+08:00",
        ),
    ],
)
def test_dates_and_times_convert_between_named_formats_in_beijing_time(
    source: str, target: str, value: str, expected: str
) -> None:
    assert make_converter(source, target)(value) == expected


def test_the_zone_of_a_conversion_can_be_an_offset_or_a_zone_name() -> None:
    assert make_converter("iso-date", "iso-datetime", "Z")("2026-05-20") == (
        "2026-05-20T00:00:00+00:00"
    )
    to_local = make_converter("compact-datetime", "iso-datetime", "Asia/Shanghai")
    assert to_local("20260520093000") == "2026-05-20T09:30:00+08:00"


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("compact-date", "2026-05-20"),
        ("compact-date", "20261340"),
        ("iso-date", "20260520"),
        ("iso-date", "2026-02-30"),
        ("iso-datetime", "2026-05-20T09:30:00"),  # no zone: ambiguous, refused
        ("compact-datetime", "202605200930"),
    ],
)
def test_a_value_not_in_its_declared_format_is_a_mapping_error(source: str, value: str) -> None:
    with pytest.raises(MappingError, match=f"is not a valid {source} value"):
        make_converter(source, "iso-datetime")(value)


def test_an_unknown_format_or_zone_is_refused_when_the_converter_is_made() -> None:
    with pytest.raises(ValueError, match="unknown format 'julian-date'"):
        make_converter("julian-date", "iso-date")
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        make_converter("iso-date", "iso-datetime", "Mars/Olympus")
