"""The checks a department package passes before anything is activated.

Errors refuse the registration (all of them are reported at once); warnings are shown and
the registration goes on (an endpoint that does not answer yet is a warning: departments
are often registered before they go live).

The endpoint is probed only when asked for, and the answer is one word, reachable or not
reachable: never the error, status or body, which would let an admin account use the hub
to look around the network it sits in.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from adapters.registry import adapter_class, known_adapter_names, load_adapter
from hub.bundle import network_of
from hub.catalogue.metadata import package_problems as catalogue_problems
from hub.conditions import Condition
from hub.configuration.compile import MAPPINGS, SCHEMAS, CompiledPackage
from hub.configuration.package import DepartmentPackage, Description
from hub.departments import DepartmentConfig
from hub.errors import HubError
from hub.mapping.engine import Mapping as FieldMapping
from hub.mapping.serialize import canonical_xml
from hub.query.packaged import package_problems as query_problems
from hub.resources import XSD_ROOT
from hub.versions import default_versions
from hub.xmlparse import parse

EXAMPLES = "examples"
_XSD = "{http://www.w3.org/2001/XMLSchema}"
_STEP_NAME = re.compile(r"(?:[\w.-]+:)?([A-Za-z_][\w.-]*)")
ENDPOINT_PROBE_SECONDS = 2.0


REACHABLE = "reachable"
NOT_REACHABLE = "not reachable"
NOT_PROBED = "not probed"


@dataclass
class CheckReport:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # REACHABLE or NOT_REACHABLE when the endpoint was probed; None when it was not.
    endpoint: str | None = None


def canonical_message_types() -> set[str]:
    """The message types of the canonical model: its top-level elements."""
    names = set()
    for file in (XSD_ROOT / "canonical").glob("*.xsd"):
        tree = etree.parse(str(file), _SCHEMA_PARSER)
        names |= _strings(tree.xpath("/xs:schema/xs:element/@name", namespaces=_NS))
    return names


# What check_package (and compiling the package before it) verifies, in its order: the list
# the console shows as passed when a registration passes; a refusal lists every reason.
CHECKS = (
    "department.toml is complete and its settings valid",
    "the package compiles: schemas, mappings and examples are readable",
    "every schema in the package compiles",
    "every route names a canonical message type, with its operation and outbound mapping",
    "every inbound message has its route and inbound mapping",
    "every field a mapping reads exists in its source schema",
    "every example maps to its expected output and back",
    "every route condition works on the examples",
    "the adapter loads with these settings",
    "queries.toml names known parts, a source the hub can ask and a mapping for each part",
    "the whole configuration with it still delivers what its routes promise",
)


def check_package(
    compiled: CompiledPackage,
    package: DepartmentPackage,
    *,
    message_types: Collection[str],
    probe_endpoint: bool = False,
) -> CheckReport:
    report = CheckReport()
    _check_schemas(compiled, package, report)
    report.errors += description_problems(compiled.description, package, message_types)
    for mapping in compiled.mappings:
        _check_field_names(compiled, mapping, report)
    _check_examples(compiled, package, report)
    _check_conditions(compiled, package, report)
    report.errors += default_versions().retired_in_use(compiled.mappings)
    sends = {r.message_type for r in compiled.description.routes if r.role == "sends"}
    errors, warnings = catalogue_problems(compiled.folder, sends)
    report.errors, report.warnings = report.errors + errors, report.warnings + warnings
    report.errors += query_problems(compiled)
    if compiled.wsdl_usable:  # else loading the adapter would read a path it must not
        _check_adapter(compiled, report)
    if probe_endpoint:
        _probe(compiled.description.department.endpoint, report)
    # Name files as the admin knows them, not the folder the package was written to.
    report.errors = [e.replace(str(compiled.folder), package.source) for e in report.errors]
    report.warnings = [w.replace(str(compiled.folder), package.source) for w in report.warnings]
    return report


def _check_schemas(
    compiled: CompiledPackage, package: DepartmentPackage, report: CheckReport
) -> None:
    """Every schema in the package compiles, used by a mapping or not (yet)."""
    for name in sorted(package.under(SCHEMAS)):
        relative = compiled.schemas.prefix + name
        try:
            if name.endswith(".xsd"):
                compiled.schemas.xml_schema(relative)
            elif name.endswith(".json"):
                compiled.schemas.json_validator(relative)
        except (HubError, ValueError) as exc:
            report.errors.append(f"{SCHEMAS}/{name}: {exc}")


def description_problems(
    description: Description, package: DepartmentPackage, message_types: Collection[str]
) -> list[str]:
    """What is wrong in department.toml alone (routes, inbound entries), nothing compiled:
    also said when a schema reference stops the package from being compiled at all."""
    report = CheckReport()
    mapping_files = set(package.under(MAPPINGS))
    _check_routes(description, message_types, mapping_files, report)
    _check_inbound(description, mapping_files, report)
    return report.errors


def adapter_name_problem(department: DepartmentConfig) -> str | None:
    """An adapter setting that names no adapter (nothing is set up or read)."""
    try:
        adapter_class(department.adapter)
    except HubError as exc:
        return f"department.toml adapter: {exc}"
    return None


def _check_routes(
    description: Description, types: Collection[str], files: set[str], report: CheckReport
) -> None:
    department = description.department
    for route in description.routes:
        where = f"department.toml route {route.role} = {route.message_type!r}"
        if route.message_type not in types:
            report.errors.append(
                f"{where}: unknown message type; the canonical model has "
                + ", ".join(sorted(types))
            )
            continue
        if route.role == "receives" and network_of(department) is None:  # bundles: canonical
            if route.message_type not in department.operations:
                report.errors.append(f"{where}: operations has no entry for it")
            if f"outbound/{route.message_type}.toml" not in files:  # a broken one: its reason
                report.errors.append(
                    f"{where}: mappings/outbound/{route.message_type}.toml missing"
                )


def _check_inbound(description: Description, files: set[str], report: CheckReport) -> None:
    sends = {r.message_type for r in description.routes if r.role == "sends"}
    for native, message_type in description.department.inbound.items():
        where = f"department.toml inbound {native!r} = {message_type!r}"
        if message_type not in sends:
            report.errors.append(f"{where}: no route says it sends {message_type}")
        if f"inbound/{message_type}.toml" not in files:
            report.errors.append(f"{where}: mappings/inbound/{message_type}.toml missing")


def _check_field_names(
    compiled: CompiledPackage, mapping: FieldMapping, report: CheckReport
) -> None:
    """Every name a field reads must exist in the source schema (a typo is caught here, not
    as an empty field in production)."""
    schema_file = _schema_file(compiled, mapping.source_schema)
    if schema_file is None:
        return
    known = _declared_names(schema_file, mapping.source_format)
    for compiled_field in mapping.fields():
        source = compiled_field.source
        if source is None:
            continue
        steps = source.split("/") if mapping.source_format == "xml" else source.split(".")
        for step in steps:
            match = _STEP_NAME.fullmatch(step.lstrip("@").split("[")[0])
            if match and match.group(1) not in known:
                report.errors.append(
                    f"mappings/{mapping.direction}/{mapping.message_type}.toml: field from = "
                    f"{source!r}: {match.group(1)!r} is not declared in {mapping.source_schema}"
                )
                break


def _schema_file(compiled: CompiledPackage, relative_path: str) -> Path | None:
    if relative_path.startswith(compiled.schemas.prefix):
        return compiled.schemas.local_path(relative_path)
    return XSD_ROOT / relative_path


def _declared_names(schema_file: Path, fmt: str) -> set[str]:
    """Element and attribute names (XSD) or property names (JSON Schema) declared in the
    schema's folder: included and imported schemas usually sit beside it."""
    names: set[str] = set()
    if fmt == "xml":
        for file in schema_file.parent.rglob("*.xsd"):
            tree = etree.parse(str(file), _SCHEMA_PARSER)
            found = tree.xpath("//xs:element/@name | //xs:attribute/@name", namespaces=_NS)
            names |= _strings(found)
    else:
        for file in schema_file.parent.rglob("*.json"):
            names |= set(_json_properties(json.loads(file.read_bytes())))
    return names


def _strings(found: object) -> set[str]:
    return {str(item) for item in found} if isinstance(found, list) else set()


def _json_properties(schema: Any) -> Iterable[str]:
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            yield from properties
        for value in schema.values():
            yield from _json_properties(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _json_properties(item)


def _check_examples(
    compiled: CompiledPackage, package: DepartmentPackage, report: CheckReport
) -> None:
    examples = package.under(EXAMPLES)
    for mapping in compiled.mappings:
        base = f"{mapping.direction}/{mapping.message_type}"
        inputs = [name for name in examples if name.startswith(base + ".in.")]
        outputs = [name for name in examples if name.startswith(base + ".out.")]
        if not inputs or not outputs:
            report.warnings.append(f"{EXAMPLES}/{base}.in.* and .out.*: no example to check with")
            continue
        _check_example(mapping, base, examples[inputs[0]], examples[outputs[0]], report)
        _check_round_trip(compiled, mapping, examples[outputs[0]], report)


def _check_example(
    mapping: FieldMapping, base: str, given: bytes, expected: bytes, report: CheckReport
) -> None:
    where = f"{EXAMPLES}/{base}"
    try:
        actual = mapping.translate(_document(given, mapping.source_format))
        wanted = _document(expected, mapping.target_format)
    except (HubError, ValueError) as exc:
        report.errors.append(f"{where}: {exc}")
        return
    if _comparable(actual) != _comparable(wanted):
        report.errors.append(f"{where}: the mapping's output differs from {base}.out")


def _check_round_trip(
    compiled: CompiledPackage, mapping: FieldMapping, output: bytes, report: CheckReport
) -> None:
    """Where the department has both directions of a type, its native sample must map back
    to a valid record as well."""
    direction = "inbound" if mapping.direction == "outbound" else "outbound"
    back = compiled.mapping(direction, mapping.message_type)
    if back is None:
        return
    try:
        back.translate(_document(output, back.source_format))
    except (HubError, ValueError) as exc:
        report.errors.append(
            f"{EXAMPLES}/{mapping.direction}/{mapping.message_type}.out does not map back "
            f"through {back.name}: {exc}"
        )


def _check_conditions(
    compiled: CompiledPackage, package: DepartmentPackage, report: CheckReport
) -> None:
    """A package's receive conditions, run on its canonical examples now rather than on
    the first real record."""
    examples = package.under(EXAMPLES)
    for route in compiled.description.routes:
        if route.condition is not None:
            where = f"department.toml route receives = {route.message_type!r} when"
            samples = canonical_examples(examples, route.message_type)
            report.errors += [f"{where}: {e}" for e in condition_errors(route.condition, samples)]


def canonical_examples(examples: Mapping[str, bytes], message_type: str) -> dict[str, bytes]:
    """The canonical records among a package's examples (the inputs of an outbound
    mapping) for ``message_type``, by name under examples/."""
    base = f"outbound/{message_type}.in."
    return {name: data for name, data in examples.items() if name.startswith(base)}


def condition_errors(condition: Condition, samples: Mapping[str, bytes]) -> list[str]:
    """What goes wrong evaluating ``condition`` on each sample record."""
    errors = []
    for name, data in sorted(samples.items()):
        try:
            condition.matches(parse(data))
        except HubError as exc:
            errors.append(f"{EXAMPLES}/{name}: {exc.message}")
    return errors


def _check_adapter(compiled: CompiledPackage, report: CheckReport) -> None:
    department = compiled.description.department
    try:
        load_adapter(department).close()
    except HubError as exc:
        report.errors.append(f"department.toml adapter: {exc}")
        if department.wsdl and department.adapter not in known_adapter_names():
            _check_wsdl_as_soap(department, report)  # the next round's errors, in this one


def _check_wsdl_as_soap(department: DepartmentConfig, report: CheckReport) -> None:
    try:
        load_adapter(dataclasses.replace(department, adapter="soap")).close()
    except HubError as exc:
        report.errors.append(f"department.toml wsdl, read as the soap adapter reads it: {exc}")


def _probe(endpoint: str, report: CheckReport) -> None:
    """Can a TCP connection be opened to the endpoint's host and port: yes or no, nothing
    more (refused, timed out, unknown host all read the same). An endpoint that is no
    network address (a folder, a file:// URL, a queue name) is the adapter's business: it is
    not probed, and that is no error."""
    try:
        parts = urlsplit(endpoint)
        address = (parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except ValueError:
        address = (None, 0)
    if not address[0] or parts.scheme == "file":
        report.warnings.append(f"endpoint {NOT_PROBED}: it is not a network address")
        return
    if _connects(address):
        report.endpoint = REACHABLE
    else:
        report.endpoint = NOT_REACHABLE
        report.warnings.append(f"endpoint {NOT_REACHABLE}")


def _connects(address: tuple[str | None, int]) -> bool:
    """In a thread of its own: name resolution is not bound by the connect timeout, and the
    probe must never hold up a registration for longer than ENDPOINT_PROBE_SECONDS."""
    answer: list[bool] = []

    def attempt() -> None:
        try:
            socket.create_connection(address, ENDPOINT_PROBE_SECONDS).close()
            answer.append(True)
        except (OSError, ValueError, UnicodeError):
            answer.append(False)

    probe = threading.Thread(target=attempt, name="govhub-endpoint-probe", daemon=True)
    probe.start()
    probe.join(ENDPOINT_PROBE_SECONDS)
    return bool(answer and answer[0])


def _document(data: bytes, fmt: str) -> etree._Element | dict[str, Any]:
    if fmt == "json":
        loaded = json.loads(data)
        return loaded if isinstance(loaded, dict) else {"": loaded}
    return parse(data)


def _comparable(document: object) -> object:
    if isinstance(document, etree._Element):
        return canonical_xml(document)
    return document


_NS = {"xs": _XSD.strip("{}")}
# Schemas come from an admin's package: read without entities or network, like any input.
_SCHEMA_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
