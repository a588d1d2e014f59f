"""The canonical model's versions read from xsd/canonical/versions.toml, and their chain.

Every message type has version 1.0 (canonical/canonical.xsd, namespace urn:govhub:canonical:1),
the version route conditions and the identity index read. A later version follows exactly one
earlier version and names the conversions up to it and down from it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from lxml import etree

from hub.errors import ConfigurationError
from hub.resources import CANONICAL_NAMESPACE, CANONICAL_SCHEMA, CANONICAL_SCHEMA_VERSION, XSD_ROOT

VERSIONS_FILE = XSD_ROOT / "canonical" / "versions.toml"
BASE_VERSION = CANONICAL_SCHEMA_VERSION
STATUSES = ("active", "deprecated", "retired")
_VERSION_KEYS = {"schema", "status", "follows", "up", "down", "lossy", "examples"}


@dataclass(frozen=True)
class ExamplePair:
    older: str
    newer: str
    only: str | None = None  # "down": the newer holds what the older cannot


@dataclass(frozen=True)
class ModelVersion:
    """One version of one message type."""

    message_type: str
    version: str
    schema: str
    status: str = "active"
    follows: str | None = None
    up: str | None = None  # mapping file: the version it follows -> this one
    down: str | None = None  # mapping file: this one -> the version it follows
    lossy: str | None = None  # what the down conversion cannot carry
    examples: tuple[ExamplePair, ...] = field(default=(), repr=False)

    @property
    def label(self) -> str:
        return f"{self.message_type} {self.version}"


@dataclass(frozen=True)
class Step:
    """One conversion of a chain: ``mapping_file`` turns ``source`` into ``target``."""

    source: ModelVersion
    target: ModelVersion
    mapping_file: str

    @property
    def lossy(self) -> str | None:
        """Going down from a version that declares a loss loses it."""
        return self.source.lossy if self.source.follows == self.target.version else None


class VersionTable:
    """Every version of every type, as declared; lookups only (no conversion)."""

    def __init__(self, versions: Iterable[ModelVersion]) -> None:
        self._by_type: dict[str, dict[str, ModelVersion]] = {}
        for version in versions:
            self._by_type.setdefault(version.message_type, {})[version.version] = version
        self._check_chains()
        # Oldest first, worked out once: ingress and delivery ask on every record.
        self._ordered = {
            message_type: sorted(declared.values(), key=lambda v: _ordering(v.version))
            for message_type, declared in self._by_type.items()
        }

    def versions_of(self, message_type: str) -> list[ModelVersion]:
        """Oldest first; a type not declared has 1.0 only."""
        ordered = self._ordered.get(message_type)
        return ordered if ordered is not None else [base_version(message_type)]

    def find(self, message_type: str, version: str) -> ModelVersion | None:
        return next((v for v in self.versions_of(message_type) if v.version == version), None)

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def newest_accepted(self, message_type: str) -> ModelVersion:
        """What a refusal or a warning tells a sender to use: the newest active version, else
        the newest not retired."""
        versions = self.versions_of(message_type)
        for wanted in (("active",), ("active", "deprecated")):
            chosen = [v for v in versions if v.status in wanted]
            if chosen:
                return chosen[-1]
        return versions[-1]

    def of_record(self, message_type: str, root_tag: str) -> ModelVersion | None:
        """The version a record (by its root's Clark name) is in."""
        for version in self.versions_of(message_type):
            if root_tag == f"{{{namespace_of(version)}}}{message_type}":
                return version
        return None

    def chain(self, message_type: str, source: str, target: str) -> list[Step]:
        """The conversions from ``source`` to ``target``, one per neighbour passed."""
        order = [v.version for v in self.versions_of(message_type)]
        if source not in order or target not in order:
            missing = source if source not in order else target
            raise ConfigurationError(f"{message_type} has no version {missing}")
        here, there = order.index(source), order.index(target)
        versions = self.versions_of(message_type)
        steps = []
        step = 1 if there > here else -1
        for index in range(here, there, step):
            older, newer = sorted((versions[index], versions[index + step]), key=versions.index)
            if step == 1:
                steps.append(Step(older, newer, _needed(newer, "up")))
            else:
                steps.append(Step(newer, older, _needed(newer, "down")))
        return steps

    def _check_chains(self) -> None:
        """Each type's versions form one line from 1.0: no gap, no fork, no loop."""
        for message_type, declared in self._by_type.items():
            if BASE_VERSION not in declared:
                raise ConfigurationError(f"{message_type}: version {BASE_VERSION} is not declared")
            ordered = sorted(declared.values(), key=lambda v: _ordering(v.version))
            for older, newer in pairwise(ordered):
                if newer.follows != older.version:
                    raise ConfigurationError(
                        f"{newer.label} follows {newer.follows or 'nothing'}, but the version "
                        f"before it is {older.version}: the chain has a gap"
                    )
                _needed(newer, "up")
                _needed(newer, "down")


@cache
def base_version(message_type: str) -> ModelVersion:
    return ModelVersion(message_type, BASE_VERSION, CANONICAL_SCHEMA)


def namespace_of(version: ModelVersion) -> str:
    """The target namespace of the version's schema (1.0's: urn:govhub:canonical:1)."""
    if version.schema == CANONICAL_SCHEMA:
        return CANONICAL_NAMESPACE
    return _target_namespace(version.schema)


def read_versions(path: Path = VERSIONS_FILE) -> VersionTable:
    """Read and check the versions file; ConfigurationError names the version and the key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the canonical versions file {path}: {exc}") from exc
    versions = []
    for message_type, table in raw.items():
        for number, entry in _table(f"[{message_type}]", table).items():
            versions.append(_version(message_type, number, entry))
    return VersionTable(versions)


def _version(message_type: str, number: str, raw: Any) -> ModelVersion:
    where = f"[{message_type}.{number!r}]"
    entry = _table(where, raw)
    unknown = set(entry) - _VERSION_KEYS
    if unknown:
        raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}")
    if "schema" not in entry:
        raise ConfigurationError(f"{where}: missing key 'schema'")
    status = entry.get("status", "active")
    if status not in STATUSES:
        raise ConfigurationError(f"{where}.status must be one of {', '.join(STATUSES)}")
    _ordering(number, where)
    return ModelVersion(
        message_type=message_type,
        version=number,
        schema=str(entry["schema"]),
        status=status,
        follows=entry.get("follows"),
        up=entry.get("up"),
        down=entry.get("down"),
        lossy=entry.get("lossy"),
        examples=tuple(_example(where, item) for item in entry.get("examples", [])),
    )


def _example(where: str, raw: Any) -> ExamplePair:
    entry = _table(f"{where}.examples", raw)
    if "older" not in entry or "newer" not in entry:
        raise ConfigurationError(f"{where}.examples: each example needs 'older' and 'newer'")
    only = entry.get("only")
    if only not in (None, "up", "down"):
        raise ConfigurationError(f"{where}.examples: only must be 'up' or 'down'")
    return ExamplePair(str(entry["older"]).strip(), str(entry["newer"]).strip(), only)


def _needed(version: ModelVersion, direction: str) -> str:
    file: str | None = getattr(version, direction)
    if not file:
        raise ConfigurationError(
            f"{version.label} names no {direction!r} conversion: the chain has a gap"
        )
    return file


def _ordering(number: str, where: str = "") -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in number.split("."))
    except ValueError as exc:
        raise ConfigurationError(f"{where or number}: a version is numbers and dots") from exc


def _table(where: str, raw: Any) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{where} must be a table")
    return raw


@cache
def _target_namespace(schema: str) -> str:
    path = XSD_ROOT / schema
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ConfigurationError(f"schema {schema} cannot be read: {exc}") from exc
    return str(root.getroot().get("targetNamespace", ""))
