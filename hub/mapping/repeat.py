"""Repeated records in a mapping: ``[[repeat]]`` maps every element (XML) or array item (JSON)
at a source path, each with its own ``[[repeat.fields]]`` read relative to it, into one
element or array item at a target path, in the source's order. A mapping without
``[[repeat]]`` never enters this module (docs/mappings.md, "Repeated records").

    [[repeat]]
    from = "q:record"          # every q:record under the source root
    to = "records"             # each one an item of the target's "records" array
    [[repeat.fields]]
    from = "q:value"           # relative to the record
    to = "value"               # relative to the item
    codes = "maritalStatus"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from hub.errors import MappingError
from hub.mapping.builders import JsonBuilder, XmlBuilder, find_conflict
from hub.mapping.fields import CompiledField
from hub.mapping.fileformat import (
    FieldSpec,
    MappingSpec,
    check_keys,
    config_error,
    read_field,
    table_of,
    text_of,
)
from hub.mapping.paths import FieldPath, parse_json_path, parse_xml_path

_REPEAT_KEYS = {"from", "to", "fields", "description"}
CompileField = Callable[[MappingSpec, FieldSpec], CompiledField]


@dataclass(frozen=True)
class RepeatSpec:
    where: str  # e.g. '[[repeat]] #1 (from = "q:record")', for error messages
    source: str
    to: str
    fields: tuple[FieldSpec, ...]


def read_repeats(file: Path, raw: Any) -> tuple[RepeatSpec, ...]:
    """The ``[[repeat]]`` tables of a mapping file, checked; every mistake names its place."""
    if not isinstance(raw, list):
        raise config_error(file, "[[repeat]]", "must be a list of [[repeat]] tables")
    repeats = []
    for number, item in enumerate(raw, start=1):
        where = f"[[repeat]] #{number}"
        table = table_of(file, where, item)
        check_keys(file, where, table, _REPEAT_KEYS, required={"from", "to", "fields"})
        where += f" (from = {table['from']!r})"
        fields = table["fields"]
        if not isinstance(fields, list) or not fields:
            raise config_error(file, f"{where}.fields", "at least one field is needed")
        repeats.append(
            RepeatSpec(
                where,
                text_of(file, f"{where}.from", table["from"]),
                text_of(file, f"{where}.to", table["to"]),
                tuple(
                    read_field(file, f"{where} [[fields]] #{n}", field)
                    for n, field in enumerate(fields, start=1)
                ),
            )
        )
    return tuple(repeats)


class RepeatGroup:
    """One compiled ``[[repeat]]``: selects the records, maps each, places the results."""

    def __init__(
        self,
        select: Callable[[Any], list[Any]],
        fields: tuple[CompiledField, ...],
        item: XmlBuilder | JsonBuilder,
        target: FieldPath,
    ) -> None:
        self._select = select
        self._fields = fields
        self._item = item
        self._target = target

    def fields(self) -> tuple[CompiledField, ...]:
        return self._fields

    def place(self, result: Any, document: Any) -> None:
        """Map every record of ``document`` into ``result`` (built by the top-level fields)."""
        items = [
            self._item.build([field.value(record) for field in self._fields])
            for record in self._select(document)
        ]
        if isinstance(result, dict):
            holder = result
            for key in self._target.steps[:-1]:
                holder = holder.setdefault(key, {})
            holder[self._target.steps[-1]] = items
            return
        parent = result
        for tag in self._target.steps[:-1]:
            found = parent.find(tag)
            parent = etree.SubElement(parent, tag) if found is None else found
        parent.extend(items)


def compile_repeat(spec: MappingSpec, repeat: RepeatSpec, field_of: CompileField) -> RepeatGroup:
    """Compile one ``[[repeat]]`` (its fields with ``field_of``, as top-level ones are)."""
    try:
        target = _parse(spec, spec.target.format, repeat.to)
        select = _selector(spec, repeat.source)
        item_paths = [_parse(spec, spec.target.format, field.to) for field in repeat.fields]
    except (ValueError, etree.XPathError) as exc:
        raise config_error(spec.file, repeat.where, f"path does not parse: {exc}") from exc
    if target.attribute is not None:
        raise config_error(spec.file, repeat.where, "'to' names an element, not an attribute")
    conflict = find_conflict(item_paths)
    if conflict is not None:
        raise config_error(spec.file, f"{repeat.where} to = {conflict[0].text!r}", conflict[1])
    fields = tuple(field_of(spec, field) for field in repeat.fields)
    item: XmlBuilder | JsonBuilder
    if spec.target.format == "json":
        item = JsonBuilder(item_paths)
    else:
        item = XmlBuilder(target.steps[-1], spec.target.namespaces, item_paths)
    return RepeatGroup(select, fields, item, target)


def _parse(spec: MappingSpec, fmt: str, text: str) -> FieldPath:
    if fmt == "json":
        return parse_json_path(text)
    return parse_xml_path(text, spec.target.namespaces)


def _selector(spec: MappingSpec, text: str) -> Callable[[Any], list[Any]]:
    if spec.source.format == "xml":
        path = parse_xml_path(text, spec.source.namespaces)
        if path.attribute is not None:
            raise ValueError(f"{text!r} must name elements, not an attribute")
        xpath = etree.XPath(text, namespaces=dict(spec.source.namespaces))
        return lambda document: list(xpath(document))  # type: ignore[arg-type]
    keys = parse_json_path(text).steps

    def select(document: Any) -> list[Any]:
        value = document
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise MappingError(f"{text} holds a {type(value).__name__}, not a list of objects")
        return value

    return select
