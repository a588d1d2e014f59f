"""Named date and time formats, and converters between them.

    compact-date       YYYYMMDD                    (legacy systems)
    iso-date           YYYY-MM-DD
    compact-datetime   YYYYMMDDHHMMSS              local time in the converter's zone
    iso-datetime       ISO 8601 with a zone, e.g. 2026-05-20T09:30:00+08:00
    iso-datetime-seconds   the same to the second: a fraction is cut (for a department whose
                       schema has no place for one)

A date becomes a datetime at midnight in the zone; a datetime becomes a date in the zone.
The zone is an offset ("+08:00", "Z") or an IANA name ("Asia/Shanghai"); default "+08:00".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import MappingError
from hub.mapping.names import FULL_NAME, name_part

DEFAULT_TIMEZONE = "+08:00"

Converter = Callable[[str], str]
Moment = date | datetime

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_COMPACT_DATE = re.compile(r"^\d{8}$")
_COMPACT_DATETIME = re.compile(r"^\d{14}$")


@dataclass(frozen=True)
class _Format:
    is_datetime: bool
    parse: Callable[[str, tzinfo], Moment]
    render: Callable[[Moment, tzinfo], str]


def _checked(pattern: re.Pattern[str], text: str) -> str:
    if not pattern.match(text):
        raise ValueError(text)
    return text


def _parse_iso_datetime(text: str, zone: tzinfo) -> datetime:
    return datetime.fromisoformat(_checked(_ISO_DATETIME, text))


# Slicing digits is about ten times faster than strptime, and this is the hot path.
def _parse_compact_date(text: str, zone: tzinfo) -> date:
    _checked(_COMPACT_DATE, text)
    return date(int(text[0:4]), int(text[4:6]), int(text[6:8]))


def _parse_compact_datetime(text: str, zone: tzinfo) -> datetime:
    day = _parse_compact_date(_checked(_COMPACT_DATETIME, text)[:8], zone)
    clock = time(int(text[8:10]), int(text[10:12]), int(text[12:14]), tzinfo=zone)
    return datetime.combine(day, clock)


# isoformat() is one C call and always starts YYYY-MM-DD[THH:MM:SS]; cutting the separators
# out of it is cheaper than formatting each number.
def _render_compact_date(value: Moment, zone: tzinfo) -> str:
    return date.isoformat(value).replace("-", "")  # date's method: only the day of a datetime


def _render_compact_datetime(value: Moment, zone: tzinfo) -> str:
    moment = _as_datetime(value, zone)  # the clock without its zone: no offset to format
    return _render_compact_date(moment, zone) + moment.time().isoformat()[:8].replace(":", "")


def _midnight_in(zone: timezone) -> Callable[[Moment, tzinfo], str]:
    """Renders a date as iso-datetime at midnight in a fixed-offset zone. The offset is the
    same for every day, so it is formatted once here instead of once per value."""
    suffix = datetime.combine(date(2000, 1, 1), time(0), zone).isoformat()[10:]
    return lambda value, _: date.isoformat(value) + suffix  # e.g. "T00:00:00+08:00"


FORMATS: dict[str, _Format] = {
    "compact-date": _Format(False, _parse_compact_date, _render_compact_date),
    "iso-date": _Format(
        False,
        lambda text, zone: date.fromisoformat(_checked(_ISO_DATE, text)),
        lambda value, zone: value.isoformat(),
    ),
    "compact-datetime": _Format(True, _parse_compact_datetime, _render_compact_datetime),
    "iso-datetime": _Format(
        True,
        _parse_iso_datetime,
        lambda value, zone: _as_datetime(value, zone).isoformat(),
    ),
    "iso-datetime-seconds": _Format(
        True,
        _parse_iso_datetime,
        lambda value, zone: _as_datetime(value, zone).isoformat(timespec="seconds"),
    ),
}


def _as_datetime(value: Moment, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(zone)
    return datetime.combine(value, time(0), tzinfo=zone)


def _as_date(value: Moment, zone: tzinfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


def parse_timezone(text: str) -> tzinfo:
    """An offset such as "+08:00" or "Z", or an IANA name; ValueError if neither."""
    if text == "Z":
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {text!r}") from exc


def make_converter(source: str, target: str, zone_name: str = DEFAULT_TIMEZONE) -> Converter:
    """A function turning text in the ``source`` format into the ``target`` format.

    Raises ValueError for an unknown format or zone (a mapping-file error); the returned
    converter raises MappingError for a value that is not in the ``source`` format.
    """
    if source == FULL_NAME:  # not a moment: a name split into its parts (hub/mapping/names.py)
        return name_part(target)
    for name in (source, target):
        if name not in FORMATS:
            raise ValueError(f"unknown format {name!r} (known: {', '.join(sorted(FORMATS))})")
    parse, render = FORMATS[source].parse, FORMATS[target].render
    wants_date = not FORMATS[target].is_datetime
    zone = parse_timezone(zone_name)
    if target == "iso-datetime" and not FORMATS[source].is_datetime and isinstance(zone, timezone):
        render = _midnight_in(zone)

    def convert(text: str) -> str:
        try:
            moment = parse(text, zone)
        except ValueError as exc:
            raise MappingError(f"value {text!r} is not a valid {source} value") from exc
        return render(_as_date(moment, zone) if wants_date else moment, zone)

    return convert
