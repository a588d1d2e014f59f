"""Content conditions on routes: a receiver gets a message only when a canonical field
matches, e.g. an administrative-division prefix (GB/T 2260) for a county office.

A condition's XPath is limited to a safe subset (hub/condition_syntax.py), refused when it
is configured. One that fails on a record raises ConditionFailed: the routing skips that
receiver for that message, and the other receivers still get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.condition_syntax import refusal
from hub.errors import ConditionFailed, ConfigurationError
from hub.resources import CANONICAL_NAMESPACE

NAMESPACES = {"c": CANONICAL_NAMESPACE}
_KEYS = {"path", "prefix", "equals"}


@dataclass(frozen=True)
class Condition:
    """``path`` is an XPath into the canonical message (prefix ``c``); the text it selects
    must start with one of ``prefixes`` or equal ``equals``."""

    path: str
    prefixes: tuple[str, ...] = ()
    equals: str | None = None

    def matches(self, canonical: etree._Element) -> bool:
        """Raises ConditionFailed when the path is not allowed or cannot be evaluated."""
        value = self.value(canonical)
        if self.equals is not None:
            return value == self.equals
        return any(value.startswith(prefix) for prefix in self.prefixes)

    def value(self, canonical: etree._Element) -> str:
        """The text the path selects in ``canonical``."""
        try:
            return str(_compiled(self.path)(canonical)).strip()
        except etree.XPathError as exc:
            raise ConditionFailed(f"condition {self.describe()} failed: {exc}") from exc

    def describe(self) -> str:
        if self.equals is not None:
            return f"{self.path} = {self.equals}"
        return f"{self.path} starts with {' or '.join(self.prefixes)}"

    def as_dict(self) -> dict[str, Any]:
        if self.equals is not None:
            return {"path": self.path, "equals": self.equals}
        prefix: str | list[str] = (
            self.prefixes[0] if len(self.prefixes) == 1 else list(self.prefixes)
        )
        return {"path": self.path, "prefix": prefix}


def parse_condition(raw: Any, where: str, *, stored: bool = False) -> Condition:
    """A condition from its table form; ConfigurationError names ``where`` and the problem.

    ``stored``: read back from the database, where an older release may have kept a path
    outside the subset. It is loaded (the hub must still start) and refused when evaluated.
    """
    if not isinstance(raw, dict) or set(raw) - _KEYS or "path" not in raw:
        raise ConfigurationError(f"{where}: when must be a table with path and prefix or equals")
    path = raw["path"]
    if not isinstance(path, str) or not path:
        raise ConfigurationError(f"{where}: when.path must be an XPath")
    reason = None if stored else refusal(path)
    if reason is not None:
        raise ConfigurationError(f"{where}: when.path {path[:80]!r} is refused: {reason}")
    try:
        etree.XPath(path, namespaces=NAMESPACES)
    except etree.XPathSyntaxError as exc:
        raise ConfigurationError(f"{where}: when.path {path!r} is not an XPath: {exc}") from exc
    if ("prefix" in raw) == ("equals" in raw):
        raise ConfigurationError(f"{where}: when needs exactly one of prefix and equals")
    if "equals" in raw:
        if not isinstance(raw["equals"], str):
            raise ConfigurationError(f"{where}: when.equals must be text")
        return Condition(path, equals=raw["equals"])
    prefixes = raw["prefix"] if isinstance(raw["prefix"], list) else [raw["prefix"]]
    if not prefixes or not all(isinstance(item, str) and item for item in prefixes):
        raise ConfigurationError(f"{where}: when.prefix must be text or a list of texts")
    return Condition(path, prefixes=tuple(prefixes))


_xpaths: dict[str, etree.XPath] = {}


def _compiled(path: str) -> etree.XPath:
    # Compiled once per path and shared between threads, like the mapping engine's readers.
    # Only a path inside the subset is ever given to lxml, whatever its origin.
    xpath = _xpaths.get(path)
    if xpath is None:
        reason = refusal(path)
        if reason is not None:
            raise ConditionFailed(f"condition path {path[:80]!r} is not allowed: {reason}")
        xpath = _xpaths[path] = etree.XPath(f"string({path})", namespaces=NAMESPACES)
    return xpath
