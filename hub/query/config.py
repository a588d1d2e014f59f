"""The query configuration: which departments answer which part (routes of the kind
``answers``), how each is asked, and which parts each department may read."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from hub.errors import ConfigurationError

Protocol = Literal["soap11", "soap12", "rest-json"]
PROTOCOLS: tuple[Protocol, ...] = ("soap11", "soap12", "rest-json")
MERGE_RULES = ("latest", "preferred")
_SOURCE_KEYS = {"protocol", "path", "charset"}
DEFAULT_QUERY_FILE = Path(__file__).resolve().parent.parent / "defaults" / "queries.toml"


@dataclass(frozen=True)
class PartRule:
    name: str
    answers: tuple[str, ...]  # departments, in order of preference
    merge: str  # latest | preferred


@dataclass(frozen=True)
class SourceConfig:
    department: str
    protocol: Protocol
    path: str  # resolved against the department's endpoint
    charset: str = "UTF-8"
    # Its answers' schema and words are in its answers mappings (mappings/DEPT/answers/).


@dataclass(frozen=True)
class QueryConfig:
    parts: Mapping[str, PartRule]
    sources: Mapping[str, SourceConfig]
    reads: Mapping[str, frozenset[str]]

    def readable(self, department: str) -> list[str]:
        """The parts ``department`` may read, in the configuration's order."""
        allowed = self.reads.get(department, frozenset())
        return [name for name in self.parts if name in allowed]


def load_query_config(path: Path = DEFAULT_QUERY_FILE) -> QueryConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read query file {path}: {exc}") from exc
    sources = {
        code: read_source(code, table, f"{path} [sources.{code}]")
        for code, table in raw.get("sources", {}).items()
    }
    parts = {}
    for name, table in raw.get("parts", {}).items():
        answers, merge = table.get("answers"), table.get("merge", "latest")
        if not isinstance(answers, list) or not answers or merge not in MERGE_RULES:
            raise ConfigurationError(
                f"{path} [parts.{name}]: answers must list departments, merge is one of "
                + ", ".join(MERGE_RULES)
            )
        missing = [code for code in answers if code not in sources]
        if missing:
            raise ConfigurationError(f"{path} [parts.{name}]: no [sources.{missing[0]}]")
        parts[name] = PartRule(name, tuple(answers), merge)
    reads = {code: frozenset(names) for code, names in raw.get("reads", {}).items()}
    unknown = sorted({n for names in reads.values() for n in names} - set(parts))
    if unknown:
        raise ConfigurationError(f"{path} [reads] names unknown part(s) {', '.join(unknown)}")
    return QueryConfig(parts, sources, reads)


def read_source(code: str, table: Mapping[str, object], where: str) -> SourceConfig:
    unknown = sorted(set(table) - _SOURCE_KEYS)
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown key(s) {', '.join(unknown)} (known: "
            f"{', '.join(sorted(_SOURCE_KEYS))}; an answer's schema and words belong in its "
            "mapping, mappings/DEPT/answers/PART.toml)"
        )
    protocol, path = table.get("protocol"), table.get("path")
    if protocol not in PROTOCOLS or not isinstance(path, str):
        raise ConfigurationError(f"{where}: protocol is one of {', '.join(PROTOCOLS)}, path text")
    return SourceConfig(code, protocol, path, charset=str(table.get("charset", "UTF-8")))
