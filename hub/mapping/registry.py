"""Every mapping file under one folder, compiled eagerly at start-up.

Layout: ``<root>/<DEPARTMENT>/<direction>/<MessageType>.toml``; the folder names must agree
with the file's own ``[mapping]`` table, so a misplaced file fails loudly, not silently.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from pathlib import Path

from hub.errors import ConfigurationError
from hub.mapping.engine import Mapping, compile_mapping
from hub.mapping.fileformat import read_spec
from hub.resources import MAPPINGS_ROOT
from hub.schemas import SchemaRegistry, default_registry

Key = tuple[str, str, str]
# Finds a mapping that is no longer the newest by its name ("DEPT/direction/Type@version").
Archive = Callable[[str], "Mapping | None"]


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
        self.archive: Archive | None = None

    def with_mappings(self, mappings: Iterable[Mapping]) -> MappingRegistry:
        """A copy that also holds ``mappings`` (each replacing the one with its key)."""
        copy = MappingRegistry.__new__(MappingRegistry)
        copy.root, copy._mappings, copy.archive = self.root, dict(self._mappings), self.archive
        copy._mappings.update({(m.department, m.direction, m.message_type): m for m in mappings})
        return copy

    def replace_with(self, other: MappingRegistry) -> None:
        """Take ``other``'s mappings at once (a configuration reload)."""
        self._mappings, self.archive = other._mappings, other.archive

    def named(self, name: str) -> Mapping | None:
        """The mapping of that name and version: the installed one, or an older version
        still kept for replay (registered department packages keep every version)."""
        department, direction, rest = [*name.split("/", 2), "", ""][:3]
        current = self.find(department, direction, rest.partition("@")[0])
        if current is not None and current.name == name:
            return current
        return self.archive(name) if self.archive is not None else None

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
