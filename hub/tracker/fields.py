"""Which fields a message type carries, read from the canonical schema rather than from the
message: the trail must name them after the bodies are pruned."""

from __future__ import annotations

from functools import lru_cache

import xmlschema

from hub.resources import CANONICAL_SCHEMA, XSD_ROOT


@lru_cache(maxsize=1)
def _canonical_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_ROOT / CANONICAL_SCHEMA))


@lru_cache(maxsize=64)
def fields_of(message_type: str) -> tuple[str, ...]:
    """The names of the record's value fields, in schema order, each once (empty for a type
    the schema does not know, e.g. one of a retired version)."""
    element = _canonical_schema().elements.get(message_type)
    if element is None:
        return ()
    names = (
        child.local_name
        for child in element.iter()
        if child is not element and child.type is not None and _holds_a_value(child.type)
    )
    return tuple(dict.fromkeys(name for name in names if name))


def _holds_a_value(xsd_type: xmlschema.XsdType) -> bool:
    return bool(xsd_type.is_simple() or xsd_type.has_simple_content())
