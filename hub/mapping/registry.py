"""Every mapping file under one folder, compiled eagerly at start-up.

Layout: ``<root>/<DEPARTMENT>/<direction>/<MessageType>.toml``; the folder names must agree
with the file's own ``[mapping]`` table, so a misplaced file fails loudly, not silently.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from hub.errors import ConfigurationError
from hub.mapping.engine import Mapping, compile_mapping
from hub.mapping.fileformat import read_spec
from hub.resources import MAPPINGS_ROOT
from hub.schemas import SchemaRegistry, default_registry

Key = tuple[str, str, str]


def load_mapping(path: Path, schemas: SchemaRegistry | None = None) -> Mapping:
    """Read, check and compile one mapping file; ConfigurationError names file and field."""
    return compile_mapping(read_spec(path), schemas or default_registry())


class MappingRegistry:
    """All compiled mappings by (department, direction, message type)."""

    def __init__(self, root: Path = MAPPINGS_ROOT, schemas: SchemaRegistry | None = None) -> None:
        self.root = root
        schemas = schemas or default_registry()
        self._mappings: dict[Key, Mapping] = {}
        for file in sorted(root.rglob("*.toml")):
            mapping = load_mapping(file, schemas)
            self._check_place(file, mapping)
            self._mappings[(mapping.department, mapping.direction, mapping.message_type)] = mapping

    def get(self, department: str, direction: str, message_type: str) -> Mapping:
        mapping = self.find(department, direction, message_type)
        if mapping is None:
            raise ConfigurationError(
                f"no mapping {department}/{direction}/{message_type} under {self.root}"
                + self._suggestion(department, direction, message_type)
            )
        return mapping

    def find(self, department: str, direction: str, message_type: str) -> Mapping | None:
        return self._mappings.get((department, direction, message_type))

    def all(self) -> list[Mapping]:
        return [self._mappings[key] for key in sorted(self._mappings)]

    def _check_place(self, file: Path, mapping: Mapping) -> None:
        expected = Path(mapping.department, mapping.direction, mapping.message_type + ".toml")
        if file.relative_to(self.root) != expected:
            raise ConfigurationError(
                f"mapping file {file}: its [mapping] table says it belongs at {expected}"
            )

    def _suggestion(self, department: str, direction: str, message_type: str) -> str:
        wanted = "/".join((department, direction, message_type))
        names = ["/".join(key) for key in sorted(self._mappings)]
        close = difflib.get_close_matches(wanted, names, n=1)
        return f". Did you mean {close[0]}?" if close else ""
