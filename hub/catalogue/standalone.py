"""A later canonical version's schema as one document a sender validates with alone.

A version's schema (canonical/2.0/MarriageRegistered.xsd) has its own namespace and borrows
1.0's types (``c:Text``, ``c:IdentityNumber`` …) through an xs:import. An import needs a
second document, so the types it uses, and those they build on, are copied into the
version's own namespace: a type's name never appears in a record, so what validates is the
same. Element references into 1.0 (none today) cannot move: they are refused.
"""

from __future__ import annotations

import copy

from lxml import etree

from hub.api.wsdl import XS, flattened_schema
from hub.errors import ConfigurationError
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, XSD_ROOT

_TYPE_ATTRIBUTES = ("type", "base", "itemType")
_DEFINITIONS = (f"{{{XS}}}simpleType", f"{{{XS}}}complexType")


def standalone_schema(name: str) -> etree._Element:
    """The schema ``name`` (under xsd/) with its includes inlined and the 1.0 types it uses
    copied in under its own namespace, checked to compile alone."""
    schema = flattened_schema(XSD_ROOT / name)
    own_prefix = _prefix_of(schema, str(schema.get("targetNamespace")))
    borrowed = _base_types()
    own = {str(child.get("name")) for child in schema if child.tag in _DEFINITIONS}
    wanted, copied = _retarget(schema, own_prefix), set[str]()
    while wanted - copied:
        type_name = min(wanted - copied)
        copied.add(type_name)
        if type_name not in borrowed or type_name in own:
            raise ConfigurationError(f"{name}: 1.0's type {type_name} cannot be copied in")
        definition = copy.deepcopy(borrowed[type_name])
        schema.append(definition)
        wanted |= _retarget(definition, own_prefix)
    for imported in schema.findall(f"{{{XS}}}import"):
        if imported.get("namespace") == CANONICAL_NAMESPACE:
            schema.remove(imported)
    try:
        etree.XMLSchema(schema)
    except etree.XMLSchemaParseError as exc:
        raise ConfigurationError(f"{name} does not compile alone: {exc}") from exc
    return schema


def _retarget(tree: etree._Element, own_prefix: str) -> set[str]:
    """Point ``tree``'s references to 1.0 types at the same names in the version's own
    namespace; the names it pointed at."""
    moved: set[str] = set()
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        if _in_base(element, element.get("ref")):
            raise ConfigurationError(f"a reference to 1.0's element {element.get('ref')}")
        for attribute in _TYPE_ATTRIBUTES:
            value = element.get(attribute)
            if _in_base(element, value):
                local = str(value).rpartition(":")[2]
                element.set(attribute, f"{own_prefix}:{local}")
                moved.add(local)
    return moved


def _in_base(element: etree._Element, qname: str | None) -> bool:
    """Whether ``qname``, read where ``element`` is, names something of 1.0's namespace."""
    if not qname:
        return False
    prefix, _, _ = qname.rpartition(":")
    return element.nsmap.get(prefix or None) == CANONICAL_NAMESPACE


def _base_types() -> dict[str, etree._Element]:
    base = flattened_schema(XSD_ROOT / CANONICAL_SCHEMA)
    return {str(child.get("name")): child for child in base if child.tag in _DEFINITIONS}


def _prefix_of(schema: etree._Element, namespace: str) -> str:
    prefixes = sorted(p for p, uri in schema.nsmap.items() if uri == namespace and p)
    if not prefixes:
        raise ConfigurationError(f"the schema declares no prefix for its namespace {namespace}")
    return prefixes[0]


__all__ = ["standalone_schema"]
