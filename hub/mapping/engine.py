"""A compiled mapping, and the compiler that turns a checked mapping file into one.

Everything costly (XPath objects, code tables, converters, schemas) is prepared here once;
``Mapping.apply`` then only reads values and builds the target document.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from lxml import etree

from hub.errors import ConfigurationError, MappingError
from hub.mapping.builders import JsonBuilder, XmlBuilder, find_conflict
from hub.mapping.fields import CompiledField
from hub.mapping.fileformat import FieldSpec, MappingSpec, SideSpec, config_error
from hub.mapping.formats import DEFAULT_TIMEZONE, Converter, make_converter
from hub.mapping.paths import (
    FieldPath,
    Reader,
    clark_name,
    json_reader,
    parse_json_path,
    parse_xml_path,
    xml_reader,
)
from hub.mapping.repeat import RepeatGroup, compile_repeat
from hub.mapping.sourcereader import XmlSourceReader
from hub.schemas import SchemaRegistry

Document = etree._Element | dict[str, Any]


@dataclass(frozen=True, eq=False)
class Mapping:
    """A compiled mapping: immutable, and safe to share between threads."""

    department: str
    direction: str
    message_type: str
    version: int
    source_format: str
    target_format: str
    source_schema: str
    target_schema: str
    source_root: str | None  # Clark name of the expected source root (xml sources)
    target_encoding: str
    file: str
    _fields: tuple[CompiledField, ...]
    _builder: XmlBuilder | JsonBuilder
    _schemas: SchemaRegistry
    _source_reader: XmlSourceReader | None = None  # xml sources: all fields in one pass
    _repeats: tuple[RepeatGroup, ...] = ()  # [[repeat]]: repeated records, placed after
    # Per field: its raw value is its target value when present (no codes, no conversion).
    _plain: tuple[bool, ...] = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        plain = tuple(field.passes_through for field in self._fields)
        object.__setattr__(self, "_plain", plain)  # frozen: set once, here

    @property
    def name(self) -> str:
        return f"{self.department}/{self.direction}/{self.message_type}@{self.version}"

    @property
    def target_root(self) -> str | None:
        """The Clark name of the target's root element (xml targets)."""
        return self._builder.root if isinstance(self._builder, XmlBuilder) else None

    def fields(self) -> tuple[CompiledField, ...]:
        return self._fields

    def translate(self, document: Document) -> Document:
        """Validate the source against its schema, apply, validate the result, return it."""
        self._validate(document, self.source_format, self.source_schema)
        result = self.apply(document)
        self._validate(result, self.target_format, self.target_schema)
        return result

    def apply(self, document: Document) -> Document:
        """Translate without schema validation. Raises MappingError naming the field."""
        self._check_source(document)
        if self._source_reader is None:
            result = self._builder.build([field.value(document) for field in self._fields])
        else:
            raws = self._source_reader.read(document)
            # value_of only where it has work to do: a call per field costs ~0.1 us.
            result = self._builder.build(
                [
                    raw if plain and raw is not None else field.value_of(raw)
                    for field, plain, raw in zip(self._fields, self._plain, raws, strict=True)
                ]
            )
        for repeat in self._repeats:
            repeat.place(result, document)
        return result

    def _check_source(self, document: Document) -> None:
        if self.source_format == "json":
            if not isinstance(document, dict):
                raise MappingError(f"{self.name} expects a JSON object")
        elif not isinstance(document, etree._Element) or document.tag != self.source_root:
            got = document.tag if isinstance(document, etree._Element) else type(document).__name__
            raise MappingError(f"{self.name} expects a {self.source_root} element, got {got}")

    def _validate(self, document: Document, fmt: str, schema: str) -> None:
        if fmt == "xml" and isinstance(document, etree._Element):
            self._schemas.validate_xml(document, schema)
        else:
            self._schemas.validate_json(document, schema)

    def __repr__(self) -> str:
        return f"<Mapping {self.name}>"


def compile_mapping(spec: MappingSpec, schemas: SchemaRegistry) -> Mapping:
    """Prepare everything once; raise ConfigurationError naming the file and the field."""
    _compile_schema(spec, "[source].schema", spec.source, schemas)
    _compile_schema(spec, "[target].schema", spec.target, schemas)
    targets = [_target_path(spec, field) for field in spec.fields]
    conflict = find_conflict(targets)
    if conflict is not None:
        path, reason = conflict
        raise config_error(spec.file, f"the field with to = {path.text!r}", reason)
    fields = tuple(_compile_field(spec, field) for field in spec.fields)
    return Mapping(
        department=spec.department,
        direction=spec.direction,
        message_type=spec.message_type,
        version=spec.version,
        source_format=spec.source.format,
        target_format=spec.target.format,
        source_schema=spec.source.schema,
        target_schema=spec.target.schema,
        source_root=_root(spec, "[source].root", spec.source),
        target_encoding=spec.target.encoding,
        file=str(spec.file),
        _fields=fields,
        _builder=_builder(spec, targets),
        _schemas=schemas,
        _source_reader=_source_reader(spec, fields),
        _repeats=tuple(compile_repeat(spec, repeat, _compile_field) for repeat in spec.repeats),
    )


def _source_reader(spec: MappingSpec, fields: tuple[CompiledField, ...]) -> XmlSourceReader | None:
    if spec.source.format != "xml":
        return None  # JSON reads are plain dict lookups already
    # Every 'from' path parsed when its field compiled, so this cannot fail.
    paths = [
        None if field.source is None else parse_xml_path(field.source, spec.source.namespaces)
        for field in fields
    ]
    return XmlSourceReader(paths, [field.read for field in fields])


def _compile_schema(spec: MappingSpec, where: str, side: SideSpec, schemas: SchemaRegistry) -> None:
    try:
        if side.format == "xml":
            schemas.xml_schema(side.schema)
        else:
            schemas.json_validator(side.schema)
    except ConfigurationError as exc:
        raise config_error(spec.file, where, exc.message) from exc


def _root(spec: MappingSpec, where: str, side: SideSpec) -> str | None:
    if side.root is None or side.format != "xml":
        return None
    try:
        return clark_name(side.root, side.namespaces)
    except ValueError as exc:
        raise config_error(spec.file, where, str(exc)) from exc


def _builder(spec: MappingSpec, targets: list[FieldPath]) -> XmlBuilder | JsonBuilder:
    if spec.target.format == "json":
        return JsonBuilder(targets)
    root = _root(spec, "[target].root", spec.target)
    assert root is not None  # read_spec insists on a root for xml sides
    return XmlBuilder(root, spec.target.namespaces, targets)


def _target_path(spec: MappingSpec, field: FieldSpec) -> FieldPath:
    try:
        return _parse(spec.target, field.to)
    except ValueError as exc:
        raise config_error(spec.file, field.where, f"'to' path does not parse: {exc}") from exc


def _parse(side: SideSpec, text: str) -> FieldPath:
    if side.format == "json":
        return parse_json_path(text)
    return parse_xml_path(text, side.namespaces)


def _compile_field(spec: MappingSpec, field: FieldSpec) -> CompiledField:
    if field.value is not None:
        if field.codes or field.convert or field.default is not None:
            raise config_error(
                spec.file, field.where, "a constant 'value' takes no codes, convert or default"
            )
        return CompiledField(target=field.to, source=None, read=None, constant=field.value)
    assert field.source is not None  # read_spec insists on exactly one of from / value
    return CompiledField(
        target=field.to,
        source=field.source,
        read=_reader(spec, field, field.source),
        codes_name=field.codes,
        codes=_code_table(spec, field),
        convert=_converter(spec, field),
        required=field.required,
        default=field.default,
    )


def _reader(spec: MappingSpec, field: FieldSpec, text: str) -> Reader:
    try:
        path = _parse(spec.source, text)
        if spec.source.format == "json":
            return json_reader(path)
        return xml_reader(path, spec.source.namespaces)
    except (ValueError, etree.XPathError) as exc:
        raise config_error(spec.file, field.where, f"'from' path does not parse: {exc}") from exc


def _code_table(spec: MappingSpec, field: FieldSpec) -> dict[str, str] | None:
    if field.codes is None:
        return None
    if field.codes not in spec.codes:
        known = ", ".join(sorted(spec.codes)) or "none"
        raise config_error(
            spec.file, field.where, f"unknown code table {field.codes!r} (known: {known})"
        )
    return spec.codes[field.codes]


def _converter(spec: MappingSpec, field: FieldSpec) -> Converter | None:
    if field.convert is None:
        return None
    options = field.convert
    try:
        return make_converter(
            options["from"], options["to"], options.get("timezone", DEFAULT_TIMEZONE)
        )
    except ValueError as exc:
        raise config_error(spec.file, f"{field.where}.convert", str(exc)) from exc
