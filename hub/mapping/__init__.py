"""Declarative mappings between each department's native format and the canonical model.

A mapping is a TOML file (see docs/mappings.md), compiled once into a ``Mapping`` whose
``translate`` validates the source, maps it and validates the result.
"""

from hub.mapping.engine import Document, Mapping
from hub.mapping.registry import MappingRegistry, load_mapping
from hub.mapping.serialize import canonical_xml, to_bytes

__all__ = [
    "Document",
    "Mapping",
    "MappingRegistry",
    "canonical_xml",
    "load_mapping",
    "to_bytes",
]
