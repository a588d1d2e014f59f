"""Times as operators type them: ISO 8601 (UTC unless a zone is given) or an age like 2h."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hub.errors import ClientError

_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str, now: datetime) -> datetime:
    """``2025-01-15``, ``2025-01-15T08:00``, ``...+08:00``, or ``30m``/``2h``/``7d`` ago."""
    text = text.strip()
    age = _AGE.match(text)
    if age:
        return now - timedelta(**{_UNITS[age.group(2)]: float(age.group(1))})
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ClientError(
            f"{text!r} is not a time: use ISO 8601 (2025-01-15T08:00) or an age (30m, 2h, 7d)"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
