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

_STRING_KEYWORDS = {"pattern", "minLength", "maxLength"}
_OBJECT_KEYWORDS = {"required", "properties", "additionalProperties"}
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
        checks: list[Check] = []
        on_strings: list[Check] = []  # these assume a str, those a dict: guarded once below
        on_objects: list[Check] = []
        for key, value in schema.items():
            if key in _ANNOTATIONS:
                continue
            if key in _STRING_KEYWORDS:
                on_strings.append(_string_keyword(key, value))
            elif key in _OBJECT_KEYWORDS:
                check = self._object_keyword(key, value, schema, base)
                if check is not None:
                    on_objects.append(check)
            else:
                checks.append(self._keyword(key, value, base))
        kind = schema.get("type")
        checks = _typed(checks, str, "string", kind, on_strings)
        return _all(_typed(checks, dict, "object", kind, on_objects))

    def _keyword(self, key: str, value: Any, base: str) -> Check:
        if key == "$ref" and isinstance(value, str):
            return self._ref(value, base)
        if key == "type" and isinstance(value, str) and value in _TYPES:
            return _TYPES[value]
        if key == "enum" and all(_scalar(item) for item in value):
            return _enum(value)
        raise Unsupported(key)

    def _object_keyword(
        self, key: str, value: Any, schema: dict[str, Any], base: str
    ) -> Check | None:
        if key == "required":
            names = frozenset(value)
            return lambda v: v.keys() >= names
        if key == "properties":
            return self._properties(value, schema.get("additionalProperties", True), base)
        if isinstance(value, bool):  # additionalProperties
            if value or "properties" in schema:
                return None  # checked together with "properties"
            return lambda v: not v
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
        unknown = _always if additional else _never

        def check(v: dict[str, Any]) -> bool:
            # A loop, not all(...): a generator would cost more than the checks themselves.
            for name, item in v.items():  # noqa: SIM110
                if not checks.get(name, unknown)(item):
                    return False
            return True

        return check


def _string_keyword(key: str, value: Any) -> Check:
    """A check that assumes a str: pattern, minLength, maxLength."""
    if key == "pattern":
        search = re.compile(value).search
        return lambda v: search(v) is not None
    if key == "minLength":
        return lambda v: len(v) >= value
    return lambda v: len(v) <= value


def _typed(
    checks: list[Check], cls: type, name: str, kind: Any, guarded: list[Check]
) -> list[Check]:
    """Add ``guarded`` (checks that assume ``cls``) to ``checks``, testing the type once.

    With "type": name the type check itself becomes the guard; otherwise the guarded checks
    pass any value of another type, as JSON Schema says.
    """
    if not guarded:
        return checks
    inner = _all(guarded)
    if kind == name:
        type_check = _TYPES[name]
        return [c for c in checks if c is not type_check] + [
            lambda v: isinstance(v, cls) and inner(v)
        ]
    return [*checks, lambda v: not isinstance(v, cls) or inner(v)]


def _all(checks: list[Check]) -> Check:
    """One check for all of ``checks``, with no generator or loop for one or two."""
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    every = tuple(checks)

    def check(v: Any) -> bool:
        for each in every:  # noqa: SIM110 (as in _properties)
            if not each(v):
                return False
        return True

    return check


def _enum(choices: list[Any]) -> Check:
    if all(type(item) is str for item in choices):
        words = frozenset(choices)  # equal strs are the only equal values of type str
        return lambda v: type(v) is str and v in words
    pairs = [(type(item), item) for item in choices]
    return lambda v: any(type(v) is t and v == item for t, item in pairs)


def _always(v: Any) -> bool:
    return True


def _never(v: Any) -> bool:
    return False


def base_of(ref: str, base: str) -> str:
    """The document a reference points into: its own URI, or the current one for '#...'."""
    document = ref.split("#", 1)[0]
    return document if document else base


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None
