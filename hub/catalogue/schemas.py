"""The canonical schema of each message type, whole: the file that declares its element, with
the files it includes inlined, so that a sender can validate a record with it alone; in the
version asked for (hub/versions), by default 1.0 while it is active."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from hub.api.wsdl import XS, flattened_schema
from hub.catalogue.standalone import standalone_schema
from hub.errors import RetiredSchemaVersion, UnknownMessageType, UnknownSchemaVersion
from hub.resources import CANONICAL_SCHEMA, XSD_ROOT
from hub.versions import ModelVersion, default_versions
from hub.versions.catalog import namespace_of

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


@dataclass(frozen=True)
class TypeSchema:
    """One version of one type's schema, and where it comes from."""

    message_type: str
    version: str
    namespace: str
    location: str  # under xsd/
    document: bytes  # self-contained: its includes inlined, nothing imported


def type_schema(message_type: str, known: list[str], version: str | None = None) -> TypeSchema:
    """The self-contained XSD for ``message_type``, one of the ``known`` (routed) types, in
    ``version`` (None: the version the hub offers first, ``offered_version``)."""
    if message_type not in known:
        raise UnknownMessageType(
            f"unknown message type {message_type!r}", detail=f"known types: {', '.join(known)}"
        )
    chosen = offered_version(message_type, version)
    if chosen.follows is None:  # 1.0: the file of the canonical model that declares the type
        location = schema_name(message_type)
        document = _self_contained(location)
    else:
        location, document = chosen.schema, _standalone(chosen.schema)
    return TypeSchema(message_type, chosen.version, namespace_of(chosen), location, document)


def offered_version(message_type: str, asked: str | None) -> ModelVersion:
    """``asked``, if the hub has it and has not retired it; by default 1.0 while it is active
    (what GetSchema always gave), else the version the hub tells senders to move to."""
    table = default_versions().table
    if asked is None:
        base = table.versions_of(message_type)[0]
        return base if base.status == "active" else table.newest_accepted(message_type)
    found = table.find(message_type, asked)
    offered = [v.version for v in table.versions_of(message_type) if v.status != "retired"]
    if found is None:
        raise UnknownSchemaVersion(
            f"{message_type} has no schema version {asked}; this hub offers {', '.join(offered)}"
        )
    if found.status == "retired":
        raise RetiredSchemaVersion(
            f"{message_type} {asked} is retired; this hub offers {', '.join(offered)}"
        )
    return found


@cache
def _self_contained(name: str) -> bytes:
    return _document(flattened_schema(XSD_ROOT / name))


@cache
def _standalone(name: str) -> bytes:
    return _document(standalone_schema(name))


def _document(schema: etree._Element) -> bytes:
    return etree.tostring(schema, xml_declaration=True, encoding="UTF-8", pretty_print=True)


__all__ = ["TypeSchema", "declaring_files", "offered_version", "schema_name", "type_schema"]
