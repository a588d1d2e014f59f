"""Every file a department package refers to lies inside the package.

Schemas and WSDLs name other files (``xs:import``/``xs:include``/``xs:redefine``
``schemaLocation``, ``wsdl:import location``); each must be a relative path to a file of the
package, without ``..``. Absolute paths, URLs and ``..`` are refused from their text alone:
the hub never looks outside the package, so its answer cannot tell whether a file exists
there. Every schema and WSDL of the package is checked, so references are followed as far
as they go. DTDs and entities (another way to name a file) are refused by the hardened parser.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from lxml import etree

from hub.configuration.package import DepartmentPackage
from hub.errors import HubError
from hub.xmlparse import parse

REFERRING_SUFFIXES = (".xsd", ".wsdl")
_REFERENCES = etree.XPath(
    "//xs:import/@schemaLocation | //xs:include/@schemaLocation"
    " | //xs:redefine/@schemaLocation | //xs:override/@schemaLocation"
    " | //wsdl:import/@location | //wsdl2:import/@location | //wsdl2:include/@location",
    namespaces={
        "xs": "http://www.w3.org/2001/XMLSchema",
        "wsdl": "http://schemas.xmlsoap.org/wsdl/",
        "wsdl2": "http://www.w3.org/ns/wsdl",
    },
)


def reference_problems(package: DepartmentPackage) -> list[str]:
    """What is wrong with the references of the package's schemas and WSDLs (empty: none)."""
    problems: list[str] = []
    for name in sorted(package.files):
        if name.lower().endswith(REFERRING_SUFFIXES):
            problems += _problems_of(name, package)
    return problems


def _problems_of(name: str, package: DepartmentPackage) -> list[str]:
    data = package.files[name]
    try:
        document = parse(data)
    except HubError as exc:
        # Not XML at all: its compilation says so, and nothing in it is followed. Well-formed
        # but refused by the hardened parser: a DTD or entity, which may name any file.
        return [f"{name}: {exc.message}"] if _well_formed(data) else []
    problems = []
    found = _REFERENCES(document)
    for attribute in found if isinstance(found, list) else []:
        reference = str(attribute)
        problem = inside_problem(name, reference, package.files)
        if problem:
            problems.append(f"{name}: {_attribute_name(attribute)} {reference[:200]!r} {problem}")
    return problems


def inside_problem(referring: str, reference: str, files: Mapping[str, bytes]) -> str | None:
    """Why ``reference`` (written in package file ``referring``) does not name a file of the
    package, or None. Judged on the text only; nothing outside the package is looked at."""
    if not is_relative_inside(reference):
        return "must be a relative path inside the package (absolute, URL and .. are refused)"
    target = posixpath.normpath(posixpath.join(posixpath.dirname(referring), reference))
    if target not in files:
        return "is not a file of the package"
    return None


def is_relative_inside(reference: str) -> bool:
    """A relative path without ``..``, scheme, drive or backslash."""
    path = PurePosixPath(reference)
    return bool(reference) and not (
        path.is_absolute()
        or ".." in path.parts
        or ":" in reference
        or "\\" in reference
        or reference.startswith("~")
    )


def _well_formed(data: bytes) -> bool:
    try:
        etree.fromstring(data, _LENIENT)
    except etree.XMLSyntaxError:
        return False
    return True


class _NothingExternal(etree.Resolver):
    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]
        return self.resolve_string("", context, base_url=system_url)


_LENIENT = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
_LENIENT.resolvers.add(_NothingExternal())


def _attribute_name(attribute: object) -> str:
    name = getattr(attribute, "attrname", "")
    return str(name) if name else "reference"
