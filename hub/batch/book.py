"""The rule sets a hub holds, every version kept: registering a set or changing its
parameters makes a new version recorded with who and why, read by the next check (no
restart). Versions are rows of the hub's database (batch_rule_versions), never updated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from hub.batch.rules import RuleSet, compiled, parse_rule_set
from hub.batch.tables import batch_rule_versions as versions
from hub.errors import NotFound, RuleSetRefused


@dataclass(frozen=True)
class Version:
    version: int
    actor: str
    reason: str
    at: str
    rule_set: RuleSet


class RuleBook:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
        return self._save(compiled(definition).definition(), actor, reason)

    def get(self, name: str, version: int | None = None) -> RuleSet:
        return self.entry(name, version).rule_set

    def entry(self, name: str, version: int | None = None) -> Version:
        newest = self._newest(name)
        if newest == 0:
            known = ", ".join(self._names()) or "none"
            raise NotFound(f"there is no rule set {name}; there is {known}")
        chosen = newest if version is None else version
        if not 1 <= chosen <= newest:
            raise NotFound(f"rule set {name} has no version {chosen}; it has 1 to {newest}")
        return self._read(name, chosen)

    def history(self, name: str) -> list[Version]:
        return [self._read(name, v) for v in range(1, self._newest(name) + 1)]

    def _save(self, definition: dict[str, Any], actor: str, reason: str) -> Version:
        name = definition["name"]
        version = self._newest(name) + 1
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(versions).values(
                        name=name,
                        version=version,
                        actor=actor,
                        reason=reason,
                        made_at=datetime.now(UTC),
                        definition=json.dumps(definition, ensure_ascii=False),
                    )
                )
        except IntegrityError as exc:  # another admin made this version meanwhile
            raise RuleSetRefused(f"{name}@{version} was made meanwhile; try again") from exc
        return self._read(name, version)

    def _read(self, name: str, version: int) -> Version:
        query = select(versions).where(versions.c.name == name, versions.c.version == version)
        with self.engine.connect() as connection:
            row = connection.execute(query).one()
        rule_set = compiled(json.loads(row.definition), version)
        at = row.made_at.isoformat(timespec="seconds")
        return Version(version, row.actor, row.reason, at, rule_set)

    def _newest(self, name: str) -> int:
        query = select(func.max(versions.c.version)).where(versions.c.name == name)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def _names(self) -> list[str]:
        with self.engine.connect() as connection:
            query = select(versions.c.name).distinct().order_by(versions.c.name)
            return list(connection.execute(query).scalars())


def parse_reference(reference: str) -> tuple[str, int | None]:
    """NAME or NAME@VERSION."""
    name, _, version = reference.partition("@")
    if version and not version.isdigit():
        raise NotFound(f"{reference}: a rule set is NAME or NAME@VERSION (a number)")
    return name, int(version) if version else None
