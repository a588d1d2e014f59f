"""Content conditions on routes: a receiver gets a message only when a canonical field
matches, e.g. an administrative-division prefix (GB/T 2260) for a county office."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.errors import ConfigurationError
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
        value = str(_compiled(self.path)(canonical)).strip()
        if self.equals is not None:
            return value == self.equals
        return any(value.startswith(prefix) for prefix in self.prefixes)

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


def parse_condition(raw: Any, where: str) -> Condition:
    """A condition from its table form; ConfigurationError names ``where`` and the problem."""
    if not isinstance(raw, dict) or set(raw) - _KEYS or "path" not in raw:
        raise ConfigurationError(f"{where}: when must be a table with path and prefix or equals")
    path = raw["path"]
    if not isinstance(path, str) or not path:
        raise ConfigurationError(f"{where}: when.path must be an XPath")
    try:
        _compiled(path)
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
    xpath = _xpaths.get(path)
    if xpath is None:
        xpath = _xpaths[path] = etree.XPath(f"string({path})", namespaces=NAMESPACES)
    return xpath
