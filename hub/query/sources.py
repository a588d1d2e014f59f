"""Asking one department for one part: its query operation behind adapters/query.py, its answer
translated into canonical facts by its answers mapping (mappings/DEPT/answers/PART.toml, or
the one of its package). An answer that breaks its contract is a ``SourceFailed``, never a
guess."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin

from adapters.query import NotHeld, SourceFailed, SourceRefused, ask
from hub.errors import MappingError, SchemaInvalid
from hub.mapping import Mapping
from hub.query.config import SourceConfig

__all__ = ["Fact", "NotHeld", "SourceFailed", "SourceRefused", "ask_source"]


@dataclass(frozen=True)
class Fact:
    value: str  # canonical
    as_of: date


def ask_source(
    source: SourceConfig,
    endpoint: str,
    part: str,
    subject: str,
    timeout: float,
    mapping: Mapping | None,
) -> list[Fact]:
    """The facts ``source`` holds on ``subject`` for ``part``; NotHeld, SourceFailed, or
    requests' errors (down, slow) for the caller to mark."""
    if mapping is None:
        raise SourceFailed(f"no mapping {source.department}/answers/{part}: its answer is unread")
    url = urljoin(endpoint, source.path)
    document = ask(source.protocol, url, subject, part, charset=source.charset, timeout=timeout)
    try:
        translated = mapping.translate(document)
    except SchemaInvalid as error:
        raise SourceFailed(f"answer fails {mapping.source_schema}: {error}") from error
    except MappingError as error:
        raise SourceFailed(f"answer cannot be mapped by {mapping.name}: {error}") from error
    assert isinstance(translated, dict)  # answers mappings produce hub/query-facts.json
    facts = [_fact(record["value"], record["asOf"]) for record in translated.get("records", [])]
    if not facts and source.protocol != "rest-json":  # REST says "none" with a 404
        raise NotHeld
    return facts


def _fact(value: str, as_of: str) -> Fact:
    try:
        return Fact(value, date.fromisoformat(as_of))
    except ValueError as exc:
        raise SourceFailed(f"asOf {as_of!r} is not a date") from exc
