"""The WSDL of /soap, built from the XSDs the hub validates with, so it states the whole
contract: every facet (identity-number pattern, code-table enumerations, lengths), required
fields required and never nillable, the faults each operation returns with their typed
detail (h:HubFault), and a SOAP 1.1 and a SOAP 1.2 binding and port at the same address.

Every schema is inlined: the canonical model first (its includes flattened into one schema),
then the API's, whose xs:import of the canonical namespace is thereby resolvable without a
schemaLocation (wsimport: "Cannot resolve the name 's0:CanonicalMessage'" when it was not).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from hub.api.soap_faults import OPERATION_FAULTS
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, HEADER_NAMESPACE, XSD_ROOT
from hub.versions import default_versions

API_SCHEMA = "hub/soap-api.xsd"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11 = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
SERVICE = "GovHub"
PORTS = {"GovHubSoap11": WSDL_SOAP11, "GovHubSoap12": WSDL_SOAP12}
_NSMAP = {
    "wsdl": WSDL,
    "soap": WSDL_SOAP11,
    "soap12": WSDL_SOAP12,
    "xs": XS,
    "h": HEADER_NAMESPACE,
    "c": CANONICAL_NAMESPACE,
}


def wsdl_document(address: str) -> bytes:
    """The WSDL, with both ports at ``address`` (the URL the client asked for it at)."""
    root = _definitions()
    for port in root.iter(f"{{{WSDL_SOAP11}}}address", f"{{{WSDL_SOAP12}}}address"):
        port.set("location", address)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@cache
def _template() -> etree._Element:
    definitions = etree.Element(
        f"{{{WSDL}}}definitions", name=SERVICE, targetNamespace=HEADER_NAMESPACE, nsmap=_NSMAP
    )
    types = etree.SubElement(definitions, f"{{{WSDL}}}types")
    types.append(flattened_schema(XSD_ROOT / CANONICAL_SCHEMA))
    for schema in active_version_schemas():  # canonical 2.0 and on, each its own namespace
        types.append(flattened_schema(XSD_ROOT / schema))
    types.append(flattened_schema(XSD_ROOT / API_SCHEMA))
    for name, (request, response) in _OPERATIONS.items():
        _message(definitions, f"{name}Request", request)
        _message(definitions, f"{name}Response", response)
    _message(definitions, "HubFault", "HubFault")
    port_type = etree.SubElement(definitions, f"{{{WSDL}}}portType", name=SERVICE)
    for name in _OPERATIONS:
        operation = etree.SubElement(port_type, f"{{{WSDL}}}operation", name=name)
        etree.SubElement(operation, f"{{{WSDL}}}documentation").text = (
            "Faults (h:HubFault code): " + ", ".join(OPERATION_FAULTS[name])
        )
        etree.SubElement(operation, f"{{{WSDL}}}input", message=f"h:{name}Request")
        etree.SubElement(operation, f"{{{WSDL}}}output", message=f"h:{name}Response")
        etree.SubElement(operation, f"{{{WSDL}}}fault", name="HubFault", message="h:HubFault")
    for port, soap in PORTS.items():
        _binding(definitions, port, soap)
    service = etree.SubElement(definitions, f"{{{WSDL}}}service", name=SERVICE)
    for port, soap in PORTS.items():
        element = etree.SubElement(service, f"{{{WSDL}}}port", name=port, binding=f"h:{port}")
        etree.SubElement(element, f"{{{soap}}}address", location="")
    return definitions


def active_version_schemas() -> list[str]:
    """The schema of every version beyond 1.0 not retired, once each."""
    versions = default_versions().table
    schemas = [
        version.schema
        for message_type in versions.types()
        for version in versions.versions_of(message_type)
        if version.schema != CANONICAL_SCHEMA and version.status != "retired"
    ]
    return list(dict.fromkeys(schemas))


def _definitions() -> etree._Element:
    return etree.fromstring(etree.tostring(_template()))  # a copy: the address is per call


# Operation: (request element, answer element).
_OPERATIONS = {
    "Submit": ("Submit", "SubmitResponse"),
    "GetStatus": ("GetStatus", "GetStatusResponse"),
    "ListServices": ("ListServices", "ListServicesResponse"),
    "GetSchema": ("GetSchema", "GetSchemaResponse"),
    "Receive": ("Receive", "ReceiveResponse"),
    "Ack": ("Ack", "AckResponse"),
    "Nack": ("Nack", "NackResponse"),
    "Query": ("Query", "QueryResponse"),
    "QueryAsync": ("QueryAsync", "QueryAsyncResponse"),
    "GetQueryResult": ("GetQueryResult", "GetQueryResultResponse"),
    "SubmitBatch": ("SubmitBatch", "SubmitBatchResponse"),
    "GetDataUsage": ("GetDataUsage", "GetDataUsageResponse"),
}


def _message(definitions: etree._Element, name: str, element: str) -> None:
    message = etree.SubElement(definitions, f"{{{WSDL}}}message", name=name)
    etree.SubElement(message, f"{{{WSDL}}}part", name="parameters", element=f"h:{element}")


def _binding(definitions: etree._Element, port: str, soap: str) -> None:
    binding = etree.SubElement(definitions, f"{{{WSDL}}}binding", name=port, type=f"h:{SERVICE}")
    etree.SubElement(binding, f"{{{soap}}}binding", style="document", transport=HTTP_TRANSPORT)
    for name in _OPERATIONS:
        operation = etree.SubElement(binding, f"{{{WSDL}}}operation", name=name)
        etree.SubElement(operation, f"{{{soap}}}operation", soapAction=name, style="document")
        for direction in ("input", "output"):
            part = etree.SubElement(operation, f"{{{WSDL}}}{direction}")
            etree.SubElement(part, f"{{{soap}}}body", use="literal")
        fault = etree.SubElement(operation, f"{{{WSDL}}}fault", name="HubFault")
        etree.SubElement(fault, f"{{{soap}}}fault", name="HubFault", use="literal")


def flattened_schema(path: Path) -> etree._Element:
    """The schema at ``path`` with its xs:include-d files' content in place of the includes
    (each type once) and its imports' schemaLocation dropped: the WSDL carries them all."""
    schema = etree.parse(str(path)).getroot()
    nsmap = {**schema.nsmap, "xs": XS, "c": CANONICAL_NAMESPACE, "h": HEADER_NAMESPACE}
    flat = etree.Element(f"{{{XS}}}schema", dict(schema.attrib), nsmap=nsmap)
    seen: set[tuple[str, str | None]] = set()
    for child in _content(path, set()):
        key = (child.tag, child.get("name"))
        if child.get("name") is None or key not in seen:
            seen.add(key)
            flat.append(child)
    for imported in flat.iter(f"{{{XS}}}import"):
        imported.attrib.pop("schemaLocation", "")
    imports = [child for child in flat if child.tag == f"{{{XS}}}import"]
    for position, imported in enumerate(imports):  # xs:import must come first
        flat.insert(position, imported)
    return flat


def _content(path: Path, visited: set[Path]) -> list[etree._Element]:
    if path in visited:
        return []
    visited.add(path)
    children: list[etree._Element] = []
    for child in etree.parse(str(path)).getroot():
        if not isinstance(child.tag, str):
            continue  # comments
        if child.tag == f"{{{XS}}}include":
            children.extend(_content((path.parent / child.get("schemaLocation", "")), visited))
        else:
            children.append(child)
    return children


__all__ = ["PORTS", "SERVICE", "flattened_schema", "wsdl_document"]
