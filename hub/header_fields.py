"""Limits on the message header's free-text fields, wherever they come from. The SOAP header
is held to them by its schema (xsd/hub/header.xsd: ``Token``, 1 to 200 characters); a native
push takes them from HTTP headers (``X-Purpose``, ``X-Correlation-Id``, ``Idempotency-Key``),
which are checked here, so neither way stores a megabyte-long purpose or key.
"""

from __future__ import annotations

from hub.errors import SchemaInvalid

MAX_FIELD_CHARS = 200  # header.xsd's Token maxLength


def limited(field: str, value: str | None, source: str) -> str | None:
    """``value`` if it fits; SchemaInvalid naming the header ``field`` and where it came from."""
    if value is not None and len(value) > MAX_FIELD_CHARS:
        raise SchemaInvalid(
            f"{field} is {len(value)} characters long; at most {MAX_FIELD_CHARS} are allowed",
            detail=f"from {source}",
            path=field,
        )
    return value
