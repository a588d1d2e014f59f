"""The canonical schema of each message type, whole: the file that declares its element, with
the files it includes inlined, so that a sender can validate a record with it alone."""

from __future__ import annotations

from functools import cache

from lxml import etree

from hub.api.wsdl import XS, flattened_schema
from hub.errors import UnknownMessageType
from hub.resources import CANONICAL_SCHEMA, XSD_ROOT

_CANONICAL_DIR = (XSD_ROOT / CANONICAL_SCHEMA).parent


@cache
def declaring_files() -> dict[str, str]:
    """Message type -> the schema (relative to xsd/) that declares its element itself."""
    found: dict[str, str] = {}
    for path in sorted(_CANONICAL_DIR.glob("*.xsd")):
        root = etree.parse(str(path)).getroot()
        for element in root.findall(f"{{{XS}}}element"):
            found.setdefault(str(element.get("name")), path.relative_to(XSD_ROOT).as_posix())
    return found


def schema_name(message_type: str) -> str:
    """The schema of ``message_type`` under xsd/ (the whole canonical model when no file of
    its own declares it)."""
    return declaring_files().get(message_type, CANONICAL_SCHEMA)


@cache
def _self_contained(name: str) -> bytes:
    schema = flattened_schema(XSD_ROOT / name)
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def type_schema(message_type: str, known: list[str]) -> bytes:
    """The self-contained XSD for ``message_type``, one of the ``known`` (routed) types."""
    if message_type not in known:
        raise UnknownMessageType(
            f"unknown message type {message_type!r}", detail=f"known types: {', '.join(known)}"
        )
    return _self_contained(schema_name(message_type))


__all__ = ["declaring_files", "schema_name", "type_schema"]
