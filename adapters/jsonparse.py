"""Safe parsing of JSON a department pushed: strict UTF-8, one object at the top, bounded
nesting, no duplicate keys, no NaN or Infinity. The caller has already bounded the size."""

from __future__ import annotations

import json
from typing import Any

from hub.errors import MalformedJSON

DEFAULT_MAX_DEPTH = 64


def parse_object(data: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> dict[str, Any]:
    """Parse untrusted bytes into a JSON object, or raise MalformedJSON saying why."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON(f"body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise MalformedJSON(
            f"not valid JSON: {exc.msg}", detail=f"line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:  # the C scanner gives up near the recursion limit
        raise MalformedJSON(f"JSON nesting deeper than {max_depth} levels") from exc
    except ValueError as exc:  # duplicate keys, NaN, integers with too many digits
        raise MalformedJSON(f"not acceptable JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedJSON(f"expected a JSON object at the top level, got {_kind(value)}")
    _check_depth(value, max_depth)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two values for one key are read differently by different parsers: refuse them.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _check_depth(value: Any, max_depth: int) -> None:
    # Iterative, so a hostile document cannot exhaust the stack here either.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise MalformedJSON(f"JSON nesting deeper than {max_depth} levels")
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _kind(value: object) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean"}
    return kinds.get(type(value), "a number or null")
