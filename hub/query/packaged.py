"""The query configuration a department package brings (its ``queries.toml``): the parts its
department answers (routes of the kind ``answers``), how the hub asks it, the parts it may
read, and parts the hub did not know yet. Checked at registration; laid over the shipped or
deployed query file for as long as that package version is the active one, so registering,
rolling back or disabling changes who answers without a restart.

    answers = ["address"]            # the parts this department answers
    reads = ["maritalStatus"]        # the parts this department may read
    [source]                         # as [sources.CODE] in hub/defaults/queries.toml
    protocol = "soap11"
    path = "/query/answer"

Each part it answers needs its answers mapping in the package, mappings/answers/PART.toml.
    [parts.household]                # a part new to the hub: its merge rule, and the
    merge = "latest"                 # other departments that may read it
    readers = ["TAX"]
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.configuration.compile import CompiledPackage
from hub.configuration.loader import Configuration
from hub.errors import HubError
from hub.query.config import (
    MERGE_RULES,
    PartRule,
    QueryConfig,
    SourceConfig,
    load_query_config,
    read_source,
)

log = logging.getLogger(__name__)

FILE_IN_PACKAGE = "queries.toml"
_KEYS = {"answers", "reads", "source", "parts"}


@dataclass(frozen=True)
class QueryLayer:
    code: str
    answers: tuple[str, ...]
    reads: tuple[str, ...]
    source: SourceConfig | None
    new_parts: Mapping[str, str]  # part -> merge rule
    readers: Mapping[str, tuple[str, ...]]  # new part -> the other departments that may read it


def read_layer(
    folder: Path, code: str, has_mapping: Callable[[str], bool], known_parts: Iterable[str]
) -> tuple[QueryLayer | None, list[str]]:
    """The package's query layer (None without a queries.toml) and every mistake in it."""
    path = folder / FILE_IN_PACKAGE
    if not path.is_file():
        return None, []
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [f"cannot read {path}: {exc}"]
    problems = []
    if set(raw) - _KEYS:
        problems.append(f"{path}: unknown key(s) {', '.join(sorted(set(raw) - _KEYS))}")
    new_parts, readers = _new_parts(path, raw.get("parts", {}), problems)
    known = {*known_parts, *new_parts}
    answers = _part_list(path, "answers", raw.get("answers", []), known, problems)
    reads = _part_list(path, "reads", raw.get("reads", []), known, problems)
    source = _source(path, code, raw.get("source"), problems) if answers else None
    if answers and source is None and "source" not in raw:
        problems.append(f"{path}: answers needs a [source] table saying how the hub asks {code}")
    problems += [
        f"{path}: answers {part} needs its mapping, mappings/answers/{part}.toml"
        for part in answers
        if not has_mapping(part)
    ]
    return QueryLayer(code, answers, reads, source, new_parts, readers), problems


def package_problems(package: CompiledPackage) -> list[str]:
    """The mistakes of a package's queries.toml, for its registration checks (its parts
    checked against the shipped query file's and its own new ones)."""
    return read_layer(
        package.folder, package.code, _mapping_finder(package), load_query_config().parts
    )[1]


def _mapping_finder(package: CompiledPackage) -> Callable[[str], bool]:
    return lambda part: package.mapping("answers", part) is not None


def layered(base: QueryConfig, layers: Iterable[QueryLayer]) -> QueryConfig:
    """``base`` with each layer's parts, sources and rights added (a department already
    in ``base`` takes the package's way of being asked)."""
    parts, sources = dict(base.parts), dict(base.sources)
    reads = {code: set(names) for code, names in base.reads.items()}
    for layer in layers:
        for name, merge in layer.new_parts.items():
            parts.setdefault(name, PartRule(name, (), merge))
        if layer.source is not None:
            sources[layer.code] = layer.source
        for name in layer.answers:
            rule = parts[name]
            if layer.code not in rule.answers:
                parts[name] = dataclasses.replace(rule, answers=(*rule.answers, layer.code))
        reads.setdefault(layer.code, set()).update(layer.reads)
        for name, codes in layer.readers.items():
            for reader in codes:
                reads.setdefault(reader, set()).add(name)
    answered = {name: rule for name, rule in parts.items() if rule.answers}
    return QueryConfig(answered, sources, {code: frozenset(names) for code, names in reads.items()})


class LiveQueryConfig:
    """The query configuration of the configuration in use, built again only when its
    generation moves (a package registered, rolled back, a department disabled)."""

    def __init__(self, base: QueryConfig, configuration: Callable[[], Configuration]) -> None:
        self._base = base
        self._configuration = configuration
        self._lock = threading.Lock()
        self._built: tuple[int, QueryConfig] | None = None

    def __call__(self) -> QueryConfig:
        configuration = self._configuration()
        with self._lock:
            if self._built is None or self._built[0] != configuration.generation:
                self._built = (configuration.generation, self._build(configuration))
            return self._built[1]

    def _build(self, configuration: Configuration) -> QueryConfig:
        layers = []
        for code in sorted(configuration.packages):
            if code in configuration.disabled:
                continue
            package = configuration.packages[code]
            layer, problems = read_layer(
                package.folder, code, _mapping_finder(package), self._base.parts
            )
            if problems:  # checked at registration; the deployment's query file may differ
                log.error("%s's queries.toml is not used: %s", code, "; ".join(problems))
                continue
            if layer is not None:
                layers.append(layer)
        return layered(self._base, layers)


def _new_parts(
    path: Path, raw: Any, problems: list[str]
) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    if not isinstance(raw, dict):
        problems.append(f"{path}: [parts] holds one table per new part")
        return {}, {}
    parts, readers = {}, {}
    for name, table in raw.items():
        here = f"{path} [parts.{name}]"
        if not isinstance(table, dict) or set(table) - {"merge", "readers"}:
            problems.append(f"{here}: a new part takes merge and readers only")
            continue
        merge, codes = table.get("merge", "latest"), table.get("readers", [])
        if merge not in MERGE_RULES:
            problems.append(f"{here}: merge is one of {', '.join(MERGE_RULES)}")
        elif not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            problems.append(f"{here}: readers lists department codes")
        else:
            parts[str(name)], readers[str(name)] = str(merge), tuple(codes)
    return parts, readers


def _part_list(
    path: Path, key: str, raw: Any, known: set[str], problems: list[str]
) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        problems.append(f"{path}: {key} lists part names")
        return ()
    unknown = [name for name in raw if name not in known]
    if unknown:
        problems.append(
            f"{path}: {key} names unknown part(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))}; a new one needs a [parts.NAME] table)"
        )
    return tuple(name for name in raw if name in known)


def _source(path: Path, code: str, raw: Any, problems: list[str]) -> SourceConfig | None:
    if not isinstance(raw, dict):
        return None
    try:
        return read_source(code, raw, f"{path} [source]")
    except HubError as exc:
        problems.append(str(exc))
        return None
