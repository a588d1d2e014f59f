"""Statistics periods: a month (2026-10) or a ten-day period (旬: 2026-10-1 is the 1st to the
10th, -2 the 11th to the 20th, -3 the 21st to the month's end), in Asia/Shanghai dates.
Supervision statistics are published every ten days, so the default is the last 旬 that has
ended."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hub.errors import PeriodInvalid
from hub.supervision.calendar import SHANGHAI, shanghai_date

_PERIOD = re.compile(r"^(\d{4})-(\d{2})(?:-([123]))?$")
_TEN_DAY_STARTS = (1, 11, 21)


@dataclass(frozen=True)
class Period:
    name: str  # as typed: 2026-10 or 2026-10-2
    first: date
    last: date  # inclusive

    @property
    def starts(self) -> datetime:
        """Midnight in Shanghai at the start of the first day."""
        return datetime.combine(self.first, datetime.min.time(), SHANGHAI)

    @property
    def ends(self) -> datetime:
        """Midnight in Shanghai after the last day (exclusive)."""
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), SHANGHAI)


def parse_period(text: str) -> Period:
    found = _PERIOD.match(text.strip())
    if not found:
        raise PeriodInvalid(
            f"{text!r} is not a period: give a month (2026-10) or a ten-day period "
            "(2026-10-1, 2026-10-2 or 2026-10-3)"
        )
    year, month, part = int(found[1]), int(found[2]), found[3]
    if not 1 <= month <= 12:
        raise PeriodInvalid(f"{text!r} is not a period: month {month} does not exist")
    month_end = calendar.monthrange(year, month)[1]
    if part is None:
        return Period(f"{year:04d}-{month:02d}", date(year, month, 1), date(year, month, month_end))
    start = _TEN_DAY_STARTS[int(part) - 1]
    end = start + 9 if part != "3" else month_end
    name = f"{year:04d}-{month:02d}-{part}"
    return Period(name, date(year, month, start), date(year, month, end))


def last_finished_ten_days(now: datetime) -> Period:
    """The 旬 that ended most recently before ``now`` (Shanghai date)."""
    yesterday = shanghai_date(now) - timedelta(days=1)
    part = 1 if yesterday.day <= 10 else 2 if yesterday.day <= 20 else 3
    period = parse_period(f"{yesterday.year:04d}-{yesterday.month:02d}-{part}")
    if period.last <= yesterday:
        return period
    return last_finished_ten_days(period.starts)  # today is inside it: the one before
