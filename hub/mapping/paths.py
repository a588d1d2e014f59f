"""Field paths: parsed once when a mapping compiles, then used to read and write values.

XML paths are steps of qualified names relative to the root, optionally ending in an
attribute: ``hy:NanFang/hy:XingBie``, ``si:Principal/@id``, ``@effective``. JSON paths are
dotted keys relative to the top object: ``taxpayer.idNumber``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.errors import MappingError

_QNAME = re.compile(r"^(?:([A-Za-z_][\w.-]*):)?([A-Za-z_][\w.-]*)$")
_JSON_KEY = re.compile(r"^[A-Za-z_$][\w$-]*$")

Reader = Callable[[Any], str | None]


@dataclass(frozen=True)
class FieldPath:
    """A parsed path: the keys of its element (or object) steps and an optional attribute.

    For XML, ``steps`` are Clark names (``{urn:x}Name``) and ``attribute`` is a Clark or plain
    name; for JSON, ``steps`` are the keys and ``attribute`` is always None.
    """

    text: str
    steps: tuple[str, ...]
    attribute: str | None = None

    @property
    def key(self) -> tuple[str, ...]:
        """Identifies the place this path writes to, for duplicate and conflict checks."""
        return self.steps + (("@" + self.attribute,) if self.attribute else ())


def clark_name(qname: str, namespaces: Mapping[str, str]) -> str:
    """``hy:Name`` -> ``{urn:mz:hydj:2019}Name``; ValueError if it does not parse."""
    match = _QNAME.match(qname)
    if not match:
        raise ValueError(f"{qname!r} is not a qualified name")
    prefix, local = match.groups()
    if prefix is None:
        return local
    if prefix not in namespaces:
        raise ValueError(f"prefix {prefix!r} is not declared in namespaces")
    return f"{{{namespaces[prefix]}}}{local}"


def parse_xml_path(text: str, namespaces: Mapping[str, str]) -> FieldPath:
    """Parse ``a:B/a:C/@d``; ValueError naming what is wrong."""
    parts = text.split("/")
    attribute = None
    if parts[-1].startswith("@"):
        attribute = clark_name(parts.pop()[1:], namespaces)
    if not parts and attribute is None:
        raise ValueError("path is empty")
    return FieldPath(text, tuple(clark_name(part, namespaces) for part in parts), attribute)


def parse_json_path(text: str) -> FieldPath:
    """Parse ``a.b.c``; ValueError naming what is wrong."""
    keys = tuple(text.split("."))
    for key in keys:
        if not _JSON_KEY.match(key):
            raise ValueError(f"{text!r} is not a dotted path of JSON keys")
    return FieldPath(text, keys)


def xml_reader(path: FieldPath, namespaces: Mapping[str, str]) -> Reader:
    """Compile the path once into an XPath returning the text (empty when absent)."""
    # The path was already checked by parse_xml_path, so it is a valid XPath location path.
    xpath = etree.XPath(f"string({path.text})", namespaces=dict(namespaces))

    def read(element: Any) -> str | None:
        result = xpath(element)
        return result if isinstance(result, str) and result else None

    return read


def json_reader(path: FieldPath) -> Reader:
    keys = path.steps

    def read(document: Any) -> str | None:
        value = document
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return _json_text(value, path.text)

    return read


def _json_text(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MappingError(f"{where} holds a {type(value).__name__}, not a single value")
