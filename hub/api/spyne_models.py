"""Spyne types built from our XSDs, so the WSDL offers typed operations.

The XSD stays the one source of truth: each top-level element becomes a spyne ComplexModel
with the same namespace, element names, order and occurrences. Leaves keep their XSD
primitive (date, dateTime) so zeep users can pass Python dates; everything else is text.
Validation itself is done by lxml against the XSD, not by spyne.
"""

from __future__ import annotations

from typing import Any

import xmlschema
from spyne import ComplexModel, Date, DateTime, Unicode

from hub.resources import XSD_ROOT

_PRIMITIVES: dict[str, Any] = {"date": Date, "dateTime": DateTime}


def element_models(schema_path: str, namespace: str) -> dict[str, type[ComplexModel]]:
    """Top-level element name -> spyne model, for every element of one schema."""
    schema = xmlschema.XMLSchema10(str(XSD_ROOT / schema_path))
    builder = _ModelBuilder(namespace)
    return {name: builder.complex_model(name, el.type) for name, el in schema.elements.items()}


class _ModelBuilder:
    def __init__(self, namespace: str) -> None:
        self._namespace = namespace
        self._named: dict[str, type[ComplexModel]] = {}

    def complex_model(self, fallback_name: str, xsd_type: Any) -> type[ComplexModel]:
        name = xsd_type.local_name or fallback_name
        if name not in self._named:
            fields = [(el.local_name, self._field(el)) for el in xsd_type.content.iter_elements()]
            attrs = {"__namespace__": self._namespace, "_type_info": fields}
            self._named[name] = type(name, (ComplexModel,), attrs)
        return self._named[name]

    def _field(self, element: Any) -> Any:
        occurs = {"min_occurs": element.min_occurs, "max_occurs": element.max_occurs or "unbounded"}
        if element.type.has_simple_content() and not element.type.is_simple():
            return Unicode.customize(**occurs)  # text with attributes (a dossier's value)
        if element.type.is_simple():
            primitive = element.type.primitive_type.local_name
            return _PRIMITIVES.get(primitive, Unicode).customize(**occurs)
        return self.complex_model(element.local_name, element.type).customize(**occurs)
