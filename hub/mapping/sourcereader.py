"""Read every field of an XML source in one pass, sharing the lookups of common parents.

An XPath call per field costs ~1.5-2.5 us (lxml sets up an evaluation context each time), and
the fields of a mapping mostly sit under a handful of parents. This walks each parent's
children once and keeps the first child of each wanted name. That is exactly the node the
field's ``string(path)`` XPath reads whenever the walk ends at an element without child
nodes, or at one carrying the wanted attribute: the first child at every step comes first
in document order. In every other case (a step missing, child nodes, no such attribute) the
field's own XPath answers, so the results never differ, only the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hub.mapping.paths import FieldPath, Reader

_Key = tuple[str, ...]
# Per parent with wanted children: its slot, and {child name: child slot}.
_Lookup = tuple[int, dict[str, int]]
# Per field: the slot of its element, its attribute and its own XPath reader.
_Plan = tuple[int, str | None, Reader]
_SLICE_AT_MOST = 32


class XmlSourceReader:
    """Raw values (None where empty or absent) for each field; a None path is a constant."""

    def __init__(
        self, paths: Sequence[FieldPath | None], fallbacks: Sequence[Reader | None]
    ) -> None:
        slots: dict[_Key, int] = {(): 0}
        children: dict[int, list[tuple[str, int]]] = {}
        for path in paths:
            for depth in range(1, len(path.steps) + 1 if path else 0):
                key = path.steps[:depth] if path else ()
                if key not in slots:
                    slots[key] = len(slots)
                    children.setdefault(slots[key[:-1]], []).append((key[-1], slots[key]))
        self._size = len(slots)
        # Dicts keep insertion order, so a parent is always found before its children.
        self._lookups: tuple[_Lookup, ...] = tuple(
            (parent, dict(wanted)) for parent, wanted in children.items()
        )
        self._plans: tuple[_Plan | None, ...] = tuple(
            None if path is None or read is None else (slots[path.steps], path.attribute, read)
            for path, read in zip(paths, fallbacks, strict=True)
        )

    def read(self, root: Any) -> list[str | None]:
        nodes = self._find(root)
        values: list[str | None] = []
        append = values.append
        # _value inlined: a call per field costs as much as reading the value itself.
        for plan in self._plans:
            if plan is None:
                append(None)
                continue
            slot, attribute, read = plan
            element = nodes[slot]
            if element is not None:
                if attribute is not None:
                    value = element.get(attribute)
                    if value is not None:
                        append(value or None)
                        continue
                elif not len(element):  # text only, so .text is the whole string value
                    append(element.text or None)
                    continue
            append(read(root))
        return values

    def _find(self, root: Any) -> list[Any]:
        nodes: list[Any] = [None] * self._size
        nodes[0] = root
        for parent_slot, wanted in self._lookups:
            parent = nodes[parent_slot]
            if parent is not None:
                _first_children(parent, wanted, nodes)
        return nodes


def _first_children(parent: Any, wanted: dict[str, int], nodes: list[Any]) -> None:
    if len(wanted) == 1:  # one name: lxml's own iterator is cheaper than a loop in Python
        [(tag, slot)] = wanted.items()
        nodes[slot] = next(parent.iterchildren(tag), None)
        return
    slots = wanted.copy()
    # A short list of children at once is cheaper than lxml's iterator; a long one is walked
    # lazily, so a parent with thousands of children does not get a proxy for each.
    for child in parent[:] if len(parent) <= _SLICE_AT_MOST else parent:
        slot = slots.pop(child.tag, -1)
        if slot >= 0:
            nodes[slot] = child
            if not slots:
                return
