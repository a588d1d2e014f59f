"""The registered canonical versions: conversions compiled, examples checked, lifecycle applied.

``ModelVersions`` is built once at start (or by `govhub versions check`); building it is the
registration: a conversion that does not compile or fails one of its own examples, a gap in
a chain, or a retired version a department's mapping still reads, refuses it with a
ConfigurationError naming what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from lxml import etree
from prometheus_client import Counter

from hub.errors import ConfigurationError, RetiredSchemaVersion, UnknownSchemaVersion
from hub.mapping import Mapping
from hub.mapping.moments import normalise_moments
from hub.mapping.registry import load_mapping
from hub.observability.metrics import REGISTRY
from hub.resources import XSD_ROOT
from hub.schemas import SchemaRegistry, default_registry
from hub.versions.catalog import (
    BASE_VERSION,
    ModelVersion,
    Step,
    VersionTable,
    namespace_of,
    read_versions,
)

log = logging.getLogger(__name__)

DEPRECATED_ACCEPTED = Counter(
    "govhub_deprecated_version_accepted",
    "Records accepted in a deprecated canonical version, by sender, type and version.",
    ["sender", "type", "version"],
    registry=REGISTRY,
)


@dataclass(frozen=True)
class Accepted:
    """The version a sender's record is in, and the warning its receipt carries (if any)."""

    version: ModelVersion
    warning: str | None = None


class ModelVersions:
    """Every version of every type with its compiled conversions; safe to share."""

    def __init__(self, table: VersionTable, schemas: SchemaRegistry | None = None) -> None:
        self.table = table
        self._schemas = schemas or default_registry()
        self._conversions: dict[str, Mapping] = {}
        for message_type in table.types():
            for version in table.versions_of(message_type):
                for file in (version.up, version.down):
                    if file:
                        self._conversions[file] = self._compile(version, file)
                self._check_examples(version)

    def accept(self, message_type: str, version: str, sender: str = "") -> Accepted:
        """A sender's ``schemaVersion``: known and not retired, or refused naming the one to use."""
        found = self.table.find(message_type, version)
        if found is not None and found.status == "active":
            return Accepted(found)  # the common case: nothing more to work out
        newest = self.table.newest_accepted(message_type).version
        if found is None:
            known = ", ".join(v.version for v in self.table.versions_of(message_type))
            raise UnknownSchemaVersion(
                f"schema version {version} is not supported for {message_type}; "
                f"this hub speaks {known}"
            )
        if found.status == "retired":
            raise RetiredSchemaVersion(
                f"{message_type} {version} is retired; send version {newest}"
            )
        DEPRECATED_ACCEPTED.labels(sender, message_type, version).inc()  # deprecated
        return Accepted(found, f"{message_type} {version} is deprecated; move to {newest}")

    def convert(
        self, record: etree._Element, message_type: str, source: str, target: str
    ) -> etree._Element:
        """The record in ``target``, through every conversion between (each validated)."""
        for step in self.table.chain(message_type, source, target):
            converted = self._conversions[step.mapping_file].translate(_without_layout(record))
            assert isinstance(converted, etree._Element)  # conversions are xml to xml
            record = converted
        return record

    def for_reader(
        self, message_type: str, record: etree._Element, wanted_root: str | None
    ) -> tuple[etree._Element, str | None]:
        """The record in the version whose root is ``wanted_root`` (what a receiver's mapping
        reads), and that version; a record or root of no known version is left as it is."""
        have = self.table.of_record(message_type, record.tag)
        if have is None or wanted_root is None or wanted_root == record.tag:
            return record, None if have is None else have.version
        wanted = self.table.of_record(message_type, wanted_root)
        if wanted is None:  # the mapping reads something else: its own check says so
            return record, have.version
        return self.convert(record, message_type, have.version, wanted.version), wanted.version

    def version_of(self, message_type: str, record: etree._Element) -> ModelVersion | None:
        return self.table.of_record(message_type, record.tag)

    def later_version_of(self, record: etree._Element) -> ModelVersion | None:
        """The version after 1.0 a record is in (by its root), or None."""
        version = self.table.of_record(etree.QName(record).localname, record.tag)
        return None if version is None or version.follows is None else version

    def base_form(self, schemas: SchemaRegistry, record: etree._Element) -> etree._Element:
        """A later version's record checked against its schema and converted to 1.0 (what
        routing and the identity index read); a 1.0 record as it is."""
        version = self.later_version_of(record)
        if version is None:
            return record
        schemas.validate_xml(record, version.schema)
        normalise_moments(record)
        return self.convert(record, version.message_type, version.version, BASE_VERSION)

    def lossy_steps(self, message_type: str, source: str, target: str) -> list[Step]:
        return [s for s in self.table.chain(message_type, source, target) if s.lossy]

    def check_declared(self, mappings: Iterable[Mapping]) -> None:
        """Retiring a version a department's mapping still reads or writes is refused."""
        problems = self.retired_in_use(mappings)
        if problems:
            raise ConfigurationError("; ".join(problems))

    def retired_in_use(self, mappings: Iterable[Mapping]) -> list[str]:
        """Each mapping that reads or writes a retired version, as a reason naming both."""
        problems = []
        for mapping in mappings:
            for schema in (mapping.source_schema, mapping.target_schema):
                for version in self.table.versions_of(mapping.message_type):
                    if version.schema == schema and version.status == "retired":
                        newest = self.table.newest_accepted(mapping.message_type).version
                        problems.append(
                            f"{version.label} is retired but {mapping.department} still "
                            f"declares it (mapping {mapping.name}); move it to {newest}"
                        )
        return problems

    def declared_by(self, mappings: Iterable[Mapping]) -> dict[tuple[str, str], str]:
        """(department, message type) -> the version its outbound mapping reads."""
        declared = {}
        for mapping in mappings:
            if mapping.direction != "outbound" or mapping.source_root is None:
                continue
            version = self.table.of_record(mapping.message_type, mapping.source_root)
            if version is not None:
                declared[(mapping.department, mapping.message_type)] = version.version
        return declared

    def _compile(self, version: ModelVersion, file: str) -> Mapping:
        try:
            return load_mapping(XSD_ROOT / file, self._schemas)
        except ConfigurationError as exc:
            raise ConfigurationError(f"{version.label}: {exc.message}") from exc

    def _check_examples(self, version: ModelVersion) -> None:
        if version.follows is None:
            return
        for number, pair in enumerate(version.examples, start=1):
            older, newer = _parsed(pair.older), _parsed(pair.newer)
            where = f"{version.label} example {number}"
            for direction, source, expected, file in (
                ("up", older, newer, version.up),
                ("down", newer, older, version.down),
            ):
                if pair.only not in (None, direction):
                    continue
                assert file is not None  # the table checked the chain
                try:
                    got = self._conversions[file].translate(source)
                except Exception as exc:
                    raise ConfigurationError(f"{where}: {direction} fails: {exc}") from exc
                assert isinstance(got, etree._Element)  # conversions are xml to xml
                difference = _first_difference(got, expected)
                if difference is not None:
                    raise ConfigurationError(f"{where}: {direction} gives {difference}")
        if not version.examples:
            raise ConfigurationError(f"{version.label} has no examples to check its conversions")


_installed: ModelVersions | None = None


def install(versions: ModelVersions | None) -> None:
    """The versions this process uses from now on (a hub with GOVHUB_MODEL_VERSIONS_FILE);
    None: the shipped file's again."""
    global _installed
    _installed = versions


def default_versions() -> ModelVersions:
    """The installed versions, else the shipped file's (registered once per process)."""
    return _installed if _installed is not None else _shipped()


@cache
def _shipped() -> ModelVersions:
    return ModelVersions(read_versions())


def record_namespace(version: ModelVersion) -> str:
    return namespace_of(version)


def _parsed(text: str) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    return etree.fromstring(text.encode("utf-8"), parser)


def _without_layout(record: etree._Element) -> etree._Element:
    """A copy without indentation between elements: the string value of an element with
    children (2.0's name) must be its text alone."""
    if not any(_is_layout(e.text) and len(e) for e in record.iter()):
        return record
    copy = etree.fromstring(etree.tostring(record))
    for element in copy.iter():
        if len(element):
            if _is_layout(element.text):
                element.text = None
            for child in element:
                if _is_layout(child.tail):
                    child.tail = None
    return copy


def _is_layout(text: str | None) -> bool:
    return text is not None and not text.strip()


def _first_difference(got: etree._Element, expected: etree._Element, path: str = "") -> str | None:
    """Where a converted record first differs from the example's, said for an admin."""
    here = f"{path}/{etree.QName(got).localname}"
    if got.tag != expected.tag:
        return f"{here}, where the example has {etree.QName(expected).localname}"
    if len(got) == 0 and len(expected) == 0:
        if (got.text or "") != (expected.text or ""):
            return f"{here} = {got.text!r}, the example {expected.text!r}"
        return None
    for mine, theirs in zip(got, expected, strict=False):
        found = _first_difference(mine, theirs, here)
        if found is not None:
            return found
    if len(got) != len(expected):
        extra = got[len(expected)] if len(got) > len(expected) else expected[len(got)]
        side = "only it" if len(got) > len(expected) else "only the example"
        return f"{here}/{etree.QName(extra).localname}, which {side} has"
    return None
