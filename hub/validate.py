"""`govhub validate FILE`: which schema a document matches, and every error if it does not."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema
from lxml import etree

from hub import identity, xmlparse
from hub.errors import ClientError
from hub.resources import CANONICAL_NAMESPACE, XSD_ROOT
from hub.schemas import SchemaRegistry

_SOAP_BODIES = (
    "{http://schemas.xmlsoap.org/soap/envelope/}Body",
    "{http://www.w3.org/2003/05/soap-envelope}Body",
)


@dataclass
class ValidationReport:
    file: str
    schema: str | None
    root: str | None
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.schema is not None and not self.errors


def validate_file(path: Path, schemas: SchemaRegistry | None = None) -> ValidationReport:
    data = path.read_bytes()
    if data.lstrip()[:1] in (b"{", b"["):
        return _validate_json(path, data, schemas or SchemaRegistry())
    return _validate_xml(path, data)


def _validate_xml(path: Path, data: bytes) -> ValidationReport:
    try:
        root = _unwrap_soap(xmlparse.parse(data))
    except ClientError as error:
        return ValidationReport(str(path), None, None, [str(error)])
    schema_path = _schema_declaring(root.tag)
    if schema_path is None:
        return ValidationReport(str(path), None, root.tag, [f"no schema declares {root.tag}"])
    # xmlschema gives readable paths for every error (slow, but this is not the hot path).
    schema = xmlschema.XMLSchema10(str(XSD_ROOT / schema_path))
    errors = [f"{error.path}: {error.reason}" for error in schema.iter_errors(root)]
    if not errors and root.tag.startswith(f"{{{CANONICAL_NAMESPACE}}}"):
        errors = _identity_errors(root)
    return ValidationReport(str(path), schema_path, root.tag, errors)


def _validate_json(path: Path, data: bytes, schemas: SchemaRegistry) -> ValidationReport:
    try:
        document = json.loads(data)
    except ValueError as exc:
        return ValidationReport(str(path), None, None, [f"not valid JSON: {exc}"])
    best: ValidationReport | None = None
    for candidate in sorted((XSD_ROOT / "departments").glob("*/*.json")):
        relative = candidate.relative_to(XSD_ROOT).as_posix()
        validator = schemas.json_validator(relative)
        errors = [
            f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)
        ]
        report = ValidationReport(str(path), relative, None, errors)
        if not errors:
            return report
        if best is None or len(errors) < len(best.errors):
            best = report
    return best or ValidationReport(str(path), None, None, ["no JSON schema found"])


def _unwrap_soap(root: etree._Element) -> etree._Element:
    for tag in _SOAP_BODIES:
        body = root.find(tag)
        if body is not None and len(body):
            return body[0]
    return root


def _schema_declaring(tag: str) -> str | None:
    qname = etree.QName(tag)
    for candidate in sorted(XSD_ROOT.rglob("*.xsd")):
        tree = etree.parse(str(candidate))
        if tree.getroot().get("targetNamespace") != qname.namespace:
            continue
        names = tree.getroot().xpath(
            "xs:element/@name", namespaces={"xs": "http://www.w3.org/2001/XMLSchema"}
        )
        if isinstance(names, list) and qname.localname in names:
            if qname.namespace == CANONICAL_NAMESPACE:
                return "canonical/canonical.xsd"
            return candidate.relative_to(XSD_ROOT).as_posix()
    return None


def _identity_errors(root: etree._Element) -> list[str]:
    errors = []
    for element in root.iter(f"{{{CANONICAL_NAMESPACE}}}identityNumber"):
        try:
            identity.verify(element.text or "", where=root.getroottree().getpath(element))
        except ClientError as error:
            errors.append(str(error))
    return errors


__all__ = ["ValidationReport", "validate_file"]
