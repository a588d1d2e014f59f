"""`govhub validate FILE`: would the hub take this document, and every error if not.

The verdict is the hub's own: the same parser and limits, the same schemas, the same checks
in the same functions as ingress (``hub.ingress.check_submit``, ``check_native``,
``checked_canonical``), against the departments, routes and mappings the hub runs with.
What a file can be, and what "valid" means for it:

    a SOAP envelope holding a Submit     the hub accepts that Submit (header, sender, route,
                                         record, identity numbers, dates)
    a canonical record                   it passes as the record of a Submit
    a department's own document (XML,    that department may push it and its inbound mapping
      bare or in a SOAP envelope; JSON)  turns it into a canonical record that passes
Anything else (a document the hub only sends to a department, JSON that is not an object,
an unknown root) is INVALID with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xmlschema
from lxml import etree
from sqlalchemy.exc import SQLAlchemyError

from adapters.soapenv import ENVELOPE_NAMESPACES
from hub import xmlparse
from hub.config import Settings
from hub.configuration.loader import BaseConfiguration, Configuration
from hub.departments import DepartmentConfig, DepartmentDirectory
from hub.errors import ClientError, HubError, MalformedXML, SchemaInvalid
from hub.ingress import check_native, check_submit, checked_canonical
from hub.mapping import Document, Mapping, MappingRegistry
from hub.resources import (
    CANONICAL_NAMESPACE,
    CANONICAL_SCHEMA,
    HEADER_NAMESPACE,
    HEADER_SCHEMA,
    XSD_ROOT,
)
from hub.routing import RoutingTable
from hub.schemas import SchemaRegistry
from hub.versions import default_versions

_ENVELOPES = (
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
)
_SUBMIT = f"{{{HEADER_NAMESPACE}}}Submit"
_HEADER = f"{{{HEADER_NAMESPACE}}}header"
_MESSAGE = f"{{{HEADER_NAMESPACE}}}message"


@dataclass
class ValidationReport:
    file: str
    schema: str | None  # the schema the document was checked against
    root: str | None
    errors: list[str] = field(default_factory=list)
    accepted_as: str | None = None  # how the hub would take it, e.g. "Submit ... from TAX"

    @property
    def valid(self) -> bool:
        return self.accepted_as is not None and not self.errors


@dataclass(frozen=True)
class HubRules:
    """The departments, routes and mappings a hub runs with, as ingress reads them."""

    schemas: SchemaRegistry
    departments: DepartmentDirectory
    routes: RoutingTable
    mappings: MappingRegistry

    @classmethod
    def from_settings(cls, settings: Settings) -> HubRules:
        schemas = SchemaRegistry()
        base = BaseConfiguration.from_files(
            settings.departments_file, settings.routes_file, settings.department_endpoints, schemas
        )
        stored = _stored_configuration(settings, schemas, base)
        if stored is not None:
            return cls(schemas, stored.departments, stored.routes, stored.mappings)
        return cls(
            schemas,
            DepartmentDirectory(base.departments),
            RoutingTable.from_entries(base.entries),
            base.mappings,
        )

    def inbound(self, fmt: str) -> Iterator[Mapping]:
        return (
            m for m in self.mappings.all() if m.direction == "inbound" and m.source_format == fmt
        )

    def outbound(self, fmt: str) -> Iterator[Mapping]:
        return (
            m for m in self.mappings.all() if m.direction == "outbound" and m.target_format == fmt
        )


def _stored_configuration(
    settings: Settings, schemas: SchemaRegistry, base: BaseConfiguration
) -> Configuration | None:
    """The configuration the hub's database holds (departments registered at runtime, route
    changes), as the hub loads it; None where there is no hub database (the files alone)."""
    if not settings.database_url and not (settings.data_dir / "hub.db").exists():
        return None
    from hub.runtime import configuration_loader  # the whole hub: only when there is one
    from hub.store import Store

    store = Store(settings.effective_database_url)
    try:
        return configuration_loader(settings, store, schemas, base).load()
    except (HubError, SQLAlchemyError):  # not migrated, unreachable: the files alone
        return None
    finally:
        store.dispose()


def validate_file(path: Path, rules: HubRules | None = None) -> ValidationReport:
    rules = rules or HubRules.from_settings(Settings.from_env())
    data = path.read_bytes()
    if data.lstrip()[:1] in (b"{", b"["):
        return _validate_json(str(path), data, rules)
    return _validate_xml(str(path), data, rules)


def _validate_json(name: str, data: bytes, rules: HubRules) -> ValidationReport:
    try:
        document = json.loads(data)
    except ValueError as exc:
        return ValidationReport(name, None, None, [f"not valid JSON: {exc}"])
    if not isinstance(document, dict):
        kind = type(document).__name__
        return ValidationReport(name, None, None, [f"the hub takes a JSON object, not a {kind}"])
    return _department_document(name, document, None, rules)


def _validate_xml(name: str, data: bytes, rules: HubRules) -> ValidationReport:
    try:
        root = xmlparse.parse(data)
        record = _unwrapped(root)
    except ClientError as error:
        return ValidationReport(name, None, None, [str(error)])
    if record.tag == _SUBMIT:
        return _submit(name, record, rules)
    in_later_version = default_versions().later_version_of(record) is not None
    if etree.QName(record).namespace == CANONICAL_NAMESPACE or in_later_version:
        return _canonical(name, record, rules)
    envelope = None if record is root else etree.QName(root).namespace
    return _department_document(name, record, record.tag, rules, envelope)


def _unwrapped(root: etree._Element) -> etree._Element:
    """The Body's record of a SOAP envelope (1.1 or 1.2), or the document itself."""
    qname = etree.QName(root)
    if qname.localname != "Envelope" or qname.namespace not in _ENVELOPES:
        return root
    body = root.find(f"{{{qname.namespace}}}Body")
    children = [] if body is None else [c for c in body if isinstance(c.tag, str)]
    if not children:
        raise SchemaInvalid("the SOAP Body is missing or empty")
    return children[0]


def _submit(name: str, submit: etree._Element, rules: HubRules) -> ValidationReport:
    report = ValidationReport(name, HEADER_SCHEMA, submit.tag)
    header, wrapper = submit.find(_HEADER), submit.find(_MESSAGE)
    records = [] if wrapper is None else [c for c in wrapper if isinstance(c.tag, str)]
    try:
        if header is None or wrapper is None:
            raise SchemaInvalid("Submit needs a header and a message")
        if len(records) != 1:
            raise SchemaInvalid(
                f"message must hold exactly one canonical record, not {len(records)}"
            )
        checked = check_submit(rules, header, records[0])
    except ClientError as error:
        parts = [(header, HEADER_SCHEMA), *((r, _record_schema(r)) for r in records[:1])]
        report.errors = _every_error(error, parts)
        return report
    report.accepted_as = f"Submit of {checked.message_type} from {checked.sender}"
    return report


def _canonical(name: str, record: etree._Element, rules: HubRules) -> ValidationReport:
    """A canonical record of any version (a later one is checked in its 1.0 form too)."""
    schema = _record_schema(record)
    report = ValidationReport(name, schema, record.tag)
    kind = etree.QName(record).localname
    try:
        checked_canonical(rules.schemas, default_versions().base_form(rules.schemas, record))
        senders = rules.routes.route(kind).senders
    except ClientError as error:
        report.errors = _every_error(error, [(record, schema)])
        return report
    if not senders:  # e.g. SupervisionSignal: the hub's own
        report.errors = [f"no department may send {kind}: the hub itself sends it"]
        return report
    report.accepted_as = f"the record of a Submit of {kind}"
    return report


def _department_document(
    name: str, document: Document, tag: str | None, rules: HubRules, envelope: str | None = None
) -> ValidationReport:
    """A department's own document: accepted if a department may push it (its inbound
    mapping's source; in the SOAP version it speaks, when it came in an ``envelope``), else
    the nearest schema's errors."""
    fmt = "json" if isinstance(document, dict) else "xml"
    closest: ValidationReport | None = None
    for mapping in rules.inbound(fmt):
        if tag is not None and mapping.source_root != tag:
            continue
        report = ValidationReport(name, mapping.source_schema, tag)
        try:
            _check_envelope(rules.departments.get(mapping.department), envelope)
            check_native(rules, mapping.department, mapping.message_type, document)
        except ClientError as error:
            report.errors = _schema_errors(document, mapping.source_schema, rules) or [str(error)]
            if closest is None or len(report.errors) < len(closest.errors):
                closest = report
            continue
        report.accepted_as = f"{mapping.message_type} pushed by {mapping.department}"
        return report
    for mapping in rules.outbound(fmt):
        if (tag is None or mapping.target_root == tag) and not _schema_errors(
            document, mapping.target_schema, rules
        ):
            sent = f"the format the hub sends to {mapping.department}"
            why = f"matches {mapping.target_schema}, {sent}; no department may push it to the hub"
            return ValidationReport(name, mapping.target_schema, tag, [why])
    if closest is not None:
        return closest
    return ValidationReport(
        name, None, tag, [f"no department pushes {tag or 'this JSON'} to the hub"]
    )


def _check_envelope(department: DepartmentConfig, envelope: str | None) -> None:
    expected = ENVELOPE_NAMESPACES.get(department.soap_version)
    if envelope is not None and envelope != expected:
        sent = "1.2" if envelope == _ENVELOPES[1] else "1.1"
        raise MalformedXML(
            f"a SOAP {sent} envelope was sent to a department that speaks SOAP "
            f"{department.soap_version}"
        )


def _schema_errors(document: Document, schema: str, rules: HubRules) -> list[str]:
    if isinstance(document, dict):
        validator = rules.schemas.json_validator(schema)
        return [
            f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)
        ]
    return _xml_errors(document, schema)


def _record_schema(record: etree._Element) -> str:
    """The schema of the canonical version the record is in (1.0's unless it is a later one)."""
    version = default_versions().later_version_of(record)
    return CANONICAL_SCHEMA if version is None else version.schema


def _every_error(error: ClientError, parts: list[tuple[etree._Element | None, str]]) -> list[str]:
    """Every schema error of each part, with readable paths (xmlschema: slow, but this is not
    the hot path); else the one error the hub's check raised."""
    errors = [
        e for element, schema in parts if element is not None for e in _xml_errors(element, schema)
    ]
    return errors or [str(error)]


def _xml_errors(element: etree._Element, schema: str) -> list[str]:
    checker = _xml_schema(schema)
    return [f"{error.path}: {error.reason}" for error in checker.iter_errors(element)]


_XMLSCHEMAS: dict[str, Any] = {}


def _xml_schema(schema: str) -> Any:
    if schema not in _XMLSCHEMAS:
        _XMLSCHEMAS[schema] = xmlschema.XMLSchema10(str(XSD_ROOT / schema))
    return _XMLSCHEMAS[schema]


__all__ = ["HubRules", "ValidationReport", "validate_file"]
