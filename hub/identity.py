"""Resident identity numbers (GB 11643): check character and masking for logs."""

from __future__ import annotations

import operator
import re

from hub.errors import InvalidIdentityNumber

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARACTERS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Anything that may hold an identity number inside free text: a run of 15 or more digits (the
# last may be the check character X), whatever is glued to it (``…1319A``, ``ID…``, ``"…"``).
# One regex pass a log line. (A hex digest with such a run is masked too: the audit log keeps
# its own digests whole, hub/security/audit.py.)
_IN_TEXT = re.compile(r"\d{14,}[\dXx]")
_SHOWN_REGION = 6  # the region code: where a number was issued, not who it names
_FULL_LENGTH = 18  # GB 11643: shows the region and the last four (sequence, check)
_LEGACY_LENGTH = 15  # the older number: region, YYMMDD, sequence; shows the sequence


def check_character(first_seventeen: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first_seventeen) != len(_WEIGHTS):
        raise ValueError(f"expected {len(_WEIGHTS)} digits, not {len(first_seventeen)}")
    # map() keeps this in C: every identity number of every message passes here.
    total = sum(map(operator.mul, map(int, first_seventeen), _WEIGHTS))
    return _CHECK_CHARACTERS[total % 11]


def _check_of_shaped(number: str) -> str:
    """check_character for a number that matched _SHAPE, in one C call instead of 17.

    The weights are 2**17 .. 2**1 mod 11, and 13 = 2 (mod 11), so the weighted sum is
    2 * (the 17 digits read in base 13) mod 11. int() would also take letters, signs and
    spaces, which is why only numbers that matched _SHAPE (17 digits first) come here.
    """
    return _CHECK_CHARACTERS[2 * int(number[:17], 13) % 11]


def is_valid(number: str) -> bool:
    return bool(_SHAPE.match(number)) and _check_of_shaped(number) == number[17]


def verify(number: str, *, where: str = "") -> None:
    """Raise InvalidIdentityNumber unless ``number`` is a well-formed GB 11643 number."""
    if not _SHAPE.match(number):
        raise InvalidIdentityNumber(
            f"identity number {mask(number)} is not 17 digits and a check character",
            path=where or None,
        )
    if number[17] != _check_of_shaped(number):
        raise InvalidIdentityNumber(
            f"identity number {mask(number)} has check character {number[17]}, expected one "
            "that matches its digits (GB 11643)",
            path=where or None,
        )


def mask(number: str) -> str:
    """The birth date never shows: 110105********123X for a full number, 110105******123
    for a 15-digit legacy one, only the first six characters of any other (a fragment's
    ends may be birth-date digits), nothing of one shorter than ten."""
    if len(number) < 10:
        return "*" * len(number)
    if len(number) == _FULL_LENGTH:
        return number[:_SHOWN_REGION] + "*" * 8 + number[-4:]
    if len(number) == _LEGACY_LENGTH:
        return number[:_SHOWN_REGION] + "*" * 6 + number[-3:]
    return number[:_SHOWN_REGION] + "*" * (len(number) - _SHOWN_REGION)


def mask_in_text(text: str) -> str:
    """Mask every identity number (or fragment of one) in a log line, fault or audit text."""
    return _IN_TEXT.sub(_masked_match, text)


def _masked_match(match: re.Match[str]) -> str:
    return mask(match.group())


def make_number(region_and_birth: str, sequence: str) -> str:
    """Build a valid number from 6 region + 8 birth-date digits and a 3-digit sequence."""
    first = region_and_birth + sequence
    return first + check_character(first)
