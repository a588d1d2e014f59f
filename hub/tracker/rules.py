"""The tracker's rules from configuration: which departments are citizen portals (may call
GetDataUsage) and who may grant an exemption for which accessing department."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub.errors import ConfigurationError
from hub.resources import DEFAULTS_ROOT

DEFAULT_TRACKER_FILE = DEFAULTS_ROOT / "tracker.toml"


@dataclass(frozen=True)
class TrackerRules:
    portals: frozenset[str]
    # accessing department -> the operator accounts that may exempt its access
    grantors: Mapping[str, frozenset[str]]

    def may_grant(self, actor: str, department: str) -> bool:
        """Only someone the rule names, and never the department for its own access."""
        return actor != department and actor in self.grantors.get(department, frozenset())


def load_tracker_rules(path: str | Path = "") -> TrackerRules:
    source = Path(path) if path else DEFAULT_TRACKER_FILE
    try:
        raw = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read tracker rules {source}: {exc}") from exc
    portals = raw.get("portals", [])
    exemptions = raw.get("exemptions", {})
    if not _names(portals) or not isinstance(exemptions, dict):
        raise ConfigurationError(
            f"{source}: portals lists department codes; [exemptions] maps a department to "
            "the operator accounts that may exempt its access"
        )
    for department, names in exemptions.items():
        if not _names(names):
            raise ConfigurationError(f"{source} [exemptions] {department}: a list of accounts")
    return TrackerRules(
        frozenset(portals),
        {department: frozenset(names) for department, names in exemptions.items()},
    )


def _names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
