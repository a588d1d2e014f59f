"""The rule sets a hub holds, every version kept: registering a set or changing its
parameters makes a new version recorded with who and why, read by the next check (no
restart). Versions are JSON files under the data folder's rules/NAME/, one per version,
never rewritten."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.batch.rules import RuleSet, compiled, parse_rule_set
from hub.errors import NotFound, RuleSetRefused


@dataclass(frozen=True)
class Version:
    version: int
    actor: str
    reason: str
    at: str
    rule_set: RuleSet


class RuleBook:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def register(self, text: str, actor: str, reason: str) -> Version:
        """A new version of the set the TOML ``text`` defines (refused unless it compiles and
        passes its own examples)."""
        return self._save(parse_rule_set(text).definition(), actor, reason)

    def set_parameters(
        self, name: str, changes: dict[str, Any], actor: str, reason: str
    ) -> Version:
        """A new version of ``name`` with some parameters changed (its rules unchanged)."""
        definition = self.get(name).definition()
        unknown = set(changes) - set(definition["parameters"])
        if unknown:
            raise RuleSetRefused(f"{name} has no parameter {', '.join(sorted(unknown))}")
        definition["parameters"] = {**definition["parameters"], **changes}
        return self._save(definition, actor, reason)

    def get(self, name: str, version: int | None = None) -> RuleSet:
        return self.entry(name, version).rule_set

    def entry(self, name: str, version: int | None = None) -> Version:
        versions = self._numbers(name)
        if not versions:
            known = ", ".join(sorted(p.name for p in self._folders())) or "none"
            raise NotFound(f"there is no rule set {name}; there is {known}")
        chosen = versions[-1] if version is None else version
        if chosen not in versions:
            raise NotFound(f"rule set {name} has no version {chosen}; it has 1 to {versions[-1]}")
        return self._read(name, chosen)

    def history(self, name: str) -> list[Version]:
        return [self._read(name, v) for v in self._numbers(name)]

    def _save(self, definition: dict[str, Any], actor: str, reason: str) -> Version:
        name = definition["name"]
        version = (self._numbers(name) or [0])[-1] + 1
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        at = datetime.now(UTC).isoformat(timespec="seconds")
        entry = {"version": version, "actor": actor, "reason": reason, "at": at}
        path = folder / f"{version}.json"
        with path.open("x", encoding="utf-8") as out:  # "x": a version is never rewritten
            json.dump({**entry, "definition": definition}, out, ensure_ascii=False, indent=2)
        return self._read(name, version)

    def _read(self, name: str, version: int) -> Version:
        stored = json.loads((self.folder / name / f"{version}.json").read_text("utf-8"))
        rule_set = compiled(stored["definition"], version)
        return Version(version, stored["actor"], stored["reason"], stored["at"], rule_set)

    def _numbers(self, name: str) -> list[int]:
        folder = self.folder / name
        if "/" in name or not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    def _folders(self) -> list[Path]:
        return [p for p in self.folder.glob("*") if p.is_dir()] if self.folder.is_dir() else []


def parse_reference(reference: str) -> tuple[str, int | None]:
    """NAME or NAME@VERSION."""
    name, _, version = reference.partition("@")
    if version and not version.isdigit():
        raise NotFound(f"{reference}: a rule set is NAME or NAME@VERSION (a number)")
    return name, int(version) if version else None
