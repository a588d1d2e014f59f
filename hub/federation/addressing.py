"""``DIVISION/CODE`` addresses and the tree of divisions (GB/T 2260: 320000 a province,
320100 one of its cities, 320102 one of that city's counties)."""

from __future__ import annotations

import re

_DIVISION = re.compile(r"[0-9]{6}")
SEPARATOR = "/"


def is_remote(address: str) -> bool:
    """True for ``DIVISION/CODE``: a department of another hub (or of this one, by name)."""
    return SEPARATOR in address


def split_address(address: str) -> tuple[str, str]:
    """(division, code) of ``DIVISION/CODE``; ("", code) for a local department."""
    division, separator, code = address.rpartition(SEPARATOR)
    return (division, code) if separator else ("", address)


def is_division(text: str) -> bool:
    return bool(_DIVISION.fullmatch(text))


def prefix(division: str) -> str:
    """What every division under ``division`` starts with: "32" for 320000, "3201" for
    320100, "320102" for 320102."""
    while division.endswith("00") and len(division) > 2:
        division = division[:-2]
    return division


def covers(division: str, other: str) -> bool:
    """``other`` is ``division`` or lies under it."""
    return other.startswith(prefix(division))
