"""The catalogue as XML for a government information resource catalogue system to import,
checked against xsd/catalogue/resource-catalogue.xsd before anyone gets it."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from lxml import etree

from hub.catalogue.services import Catalogue, Service
from hub.errors import ExportInvalid
from hub.resources import XSD_ROOT

EXPORT_NAMESPACE = "urn:govhub:catalogue:1"
EXPORT_SCHEMA = "catalogue/resource-catalogue.xsd"


def export_xml(catalogue: Catalogue, now: datetime | None = None) -> bytes:
    root = _element(
        None,
        "ResourceCatalogue",
        generatedAt=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        generation=str(catalogue.generation),
    )
    for service in catalogue.services:
        _resource(root, service, catalogue)
    schema = export_schema()
    if not schema.validate(root):
        raise ExportInvalid(f"the catalogue export does not match its schema: {schema.error_log}")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def export_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_ROOT / EXPORT_SCHEMA)))


def _resource(root: etree._Element, service: Service, catalogue: Catalogue) -> None:
    meta = service.resource
    resource = _element(root, "Resource")
    for name, text in (
        ("name", meta.name),
        ("identifier", meta.identifier),
        ("provider", meta.provider),
        ("summary", meta.summary),
        ("category", meta.category),
        ("format", meta.format),
        ("updateCycle", meta.update_cycle),
    ):
        _element(resource, name).text = text
    _element(resource, "sharingType", label=meta.sharing_label).text = meta.sharing
    if meta.sharing_condition:
        _element(resource, "sharingCondition").text = meta.sharing_condition
    _element(resource, "openType", label=meta.open_label).text = meta.open
    _element(resource, "messageType").text = service.message_type
    _element(
        resource,
        "schema",
        namespace=service.namespace,
        element=service.message_type,
        location=service.schema,
    )
    names = catalogue.department_names
    for code in service.senders:
        _element(resource, "sender", code=code).text = names.get(code, code)
    for receiver in service.receivers:
        element = _element(resource, "receiver", code=receiver.department)
        element.text = names.get(receiver.department, receiver.department)
        if receiver.condition:
            element.set("condition", receiver.condition)


def _element(parent: etree._Element | None, name: str, **attributes: str) -> etree._Element:
    tag = f"{{{EXPORT_NAMESPACE}}}{name}"
    if parent is None:
        default_namespace: Any = {None: EXPORT_NAMESPACE}  # lxml's stubs want str prefixes
        return etree.Element(tag, attributes, nsmap=default_namespace)
    return etree.SubElement(parent, tag, attributes)
