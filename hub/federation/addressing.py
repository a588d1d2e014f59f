"""``DIVISION/CODE`` addresses and the tree of divisions (GB/T 2260: 320000 a province,
320100 one of its cities, 320102 one of that city's counties)."""

from __future__ import annotations

import re

from lxml import etree

from hub.condition_syntax import refusal
from hub.conditions import Condition
from hub.errors import ConditionFailed

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


def is_field_address(address: str) -> bool:
    """``{PATH}/CODE``: the department CODE of the hub responsible for the division the
    record holds at PATH (e.g. ``{c:registrationOffice}/TAX``)."""
    return address.startswith("{") and "}/" in address


def field_address_problem(address: str) -> str | None:
    """Why ``{PATH}/CODE`` cannot be used (PATH outside the safe XPath subset), or None."""
    path, _, code = address[1:].partition("}/")
    if not path or not code:
        return "expected {PATH}/CODE"
    return refusal(path)


def resolved_address(address: str, canonical: etree._Element | None) -> str:
    """``DIVISION/CODE`` for a field address, read from the record; any other address as it
    is. ConditionFailed when the record holds no division code there (the receiver is
    skipped for that message, as for a condition)."""
    if not is_field_address(address):
        return address
    path, _, code = address[1:].partition("}/")
    if canonical is None:
        raise ConditionFailed(f"{address} needs the record to find its division")
    division = Condition(path, equals="").value(canonical)
    if not is_division(division):
        raise ConditionFailed(f"{address}: the record holds no six-digit division code at {path}")
    return f"{division}/{code}"


def at_home(receivers: tuple[str, ...], division: str) -> tuple[str, ...]:
    """Receivers with this hub's own division written as its local departments."""
    home = division + SEPARATOR
    local = (r[len(home) :] if r.startswith(home) else r for r in receivers)
    return tuple(dict.fromkeys(local))
