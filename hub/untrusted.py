"""Untrusted text, cut to a bounded length before it is copied anywhere that lasts or is
shown: faults, log lines, the audit log. A 9 MB Username once became one 9 MB audit entry
per request (the audit log cannot be pruned) and came back whole in the fault.

    cut("x" * 9_000_000)   # 'xx…x…(cut, 9000000 characters)', MAX_UNTRUSTED_CHARS long
    shown(error.message)   # identity numbers masked, then cut

Masking comes first, so a cut never splits an identity number into a piece the mask misses.
"""

from __future__ import annotations

from typing import Any

from hub.identity import mask_in_text

MAX_UNTRUSTED_CHARS = 300
MAX_UNTRUSTED_LINES = 200  # of text whose lines matter on their own (a traceback in a log)


def cut(text: str, limit: int = MAX_UNTRUSTED_CHARS) -> str:
    """``text`` if it is at most ``limit`` characters, else its start and how long it was, in
    ``limit`` characters all told (so cutting again changes nothing)."""
    if len(text) <= limit:
        return text
    note = f"…(cut, {len(text)} characters)"
    return text[: max(limit - len(note), 0)] + note


def cut_lines(text: str) -> str:
    """Text of many lines (a traceback) with each line cut, and at most MAX_UNTRUSTED_LINES
    of them: the end kept, where a traceback names its error."""
    lines = text.splitlines()
    kept = [cut(line) for line in lines[-MAX_UNTRUSTED_LINES:]]
    if len(lines) > MAX_UNTRUSTED_LINES:
        kept.insert(0, f"…(cut, {len(lines) - MAX_UNTRUSTED_LINES} lines before)")
    return "\n".join(kept)


def shown(text: str, limit: int = MAX_UNTRUSTED_CHARS) -> str:
    """Text that came from a caller, as a fault, a log line or the audit log may hold it."""
    return cut(mask_in_text(text), limit)


def too_long(value: Any) -> bool:
    """Whether ``bounded`` would change ``value``: a length check, no copying, no masking."""
    if isinstance(value, str):
        return len(value) > MAX_UNTRUSTED_CHARS
    if isinstance(value, dict):
        return any(too_long(str(key)) or too_long(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(too_long(item) for item in value)
    return False


def bounded(value: Any) -> Any:
    """``value`` with every string in it (in dicts and lists, at any depth) masked and cut."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {cut(str(key)): bounded(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [bounded(item) for item in value]
    return value
