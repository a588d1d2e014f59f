"""A fast yes/no check for the plain JSON Schemas departments use, compiled to closures.

jsonschema walks the schema and resolves every $ref on each call (~150-230 us for a tax
record here). The schemas we ship use a small set of keywords; this compiles those into
nested Python checks once. It only ever says "valid" when jsonschema would: a schema with
any other keyword gets no fast check (``compile_check`` returns None), and a document the
fast check rejects is validated again by jsonschema, which names the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from referencing import Registry

Check = Callable[[Any], bool]
_MAX_DEPTH = 32

_ANNOTATIONS = {"$schema", "$id", "$defs", "$comment", "title", "description", "examples"}
_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


class Unsupported(Exception):
    """The schema uses something this compiler does not know: use jsonschema only."""


def compile_check(schema: dict[str, Any], registry: Registry[Any], base_uri: str) -> Check | None:
    try:
        return _Compiler(registry).schema(schema, base_uri)
    except Unsupported:
        return None


class _Compiler:
    def __init__(self, registry: Registry[Any]) -> None:
        self._resolver = registry.resolver()
        self._depth = 0

    def schema(self, schema: Any, base: str) -> Check:
        if not isinstance(schema, dict):
            raise Unsupported(repr(schema))
        checks = [self._keyword(key, value, schema, base) for key, value in schema.items()]
        active = [check for check in checks if check is not None]
        return lambda v: all(check(v) for check in active)

    def _keyword(self, key: str, value: Any, schema: dict[str, Any], base: str) -> Check | None:
        if key in _ANNOTATIONS:
            return None
        if key == "$ref" and isinstance(value, str):
            return self._ref(value, base)
        if key == "type" and isinstance(value, str) and value in _TYPES:
            return _TYPES[value]
        if key == "enum" and all(_scalar(item) for item in value):
            choices = [(type(item), item) for item in value]
            return lambda v: any(type(v) is t and v == item for t, item in choices)
        if key == "pattern":
            pattern = re.compile(value)
            return lambda v: not isinstance(v, str) or pattern.search(v) is not None
        if key == "minLength":
            return lambda v: not isinstance(v, str) or len(v) >= value
        if key == "maxLength":
            return lambda v: not isinstance(v, str) or len(v) <= value
        if key == "required":
            return lambda v: not isinstance(v, dict) or all(name in v for name in value)
        if key == "properties":
            return self._properties(value, schema.get("additionalProperties", True), base)
        if key == "additionalProperties" and isinstance(value, bool):
            if value or "properties" in schema:
                return None  # checked together with "properties"
            return lambda v: not isinstance(v, dict) or not v
        raise Unsupported(key)

    def _ref(self, ref: str, base: str) -> Check:
        self._depth += 1
        if self._depth > _MAX_DEPTH:  # a recursive schema: leave it to jsonschema
            raise Unsupported("$ref depth")
        uri = base + ref if ref.startswith("#") else ref
        try:
            resolved = self._resolver.lookup(uri)
        except Exception as exc:  # unresolvable here; jsonschema will say why
            raise Unsupported(uri) from exc
        check = self.schema(resolved.contents, base_of(ref, base))
        self._depth -= 1
        return check

    def _properties(self, properties: dict[str, Any], additional: Any, base: str) -> Check:
        if not isinstance(additional, bool):
            raise Unsupported("additionalProperties")
        checks = {name: self.schema(sub, base) for name, sub in properties.items()}

        def check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, item in v.items():
                sub = checks.get(name)
                if sub is None:
                    if not additional:
                        return False
                elif not sub(item):
                    return False
            return True

        return check


def base_of(ref: str, base: str) -> str:
    """The document a reference points into: its own URI, or the current one for '#...'."""
    document = ref.split("#", 1)[0]
    return document if document else base


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
