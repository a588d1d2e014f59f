"""Schema registry: every XSD and JSON Schema compiled once, validation with clear errors.

Paths are relative to the ``xsd/`` folder that ships in the package, e.g.
``canonical/canonical.xsd`` or ``departments/TAX/marital-event.json``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import jsonschema
from lxml import etree
from referencing import Registry, Resource

from hub import xmlparse
from hub.errors import ConfigurationError, SchemaInvalid
from hub.json_fastpath import Check, compile_check
from hub.resources import XSD_ROOT


class SchemaRegistry:
    """Compiles schemas on first use and keeps them; safe to share between threads."""

    def __init__(self, root: Path = XSD_ROOT) -> None:
        self.root = root
        self._xml: dict[str, etree.XMLSchema] = {}
        self._json: dict[str, jsonschema.protocols.Validator] = {}
        self._json_fast: dict[str, Check | None] = {}
        self._lock = threading.Lock()
        # An XMLSchema keeps its error log in the object, so validating threads must not share
        # one: each thread gets its own copy (compiled once per thread), and needs no lock.
        self._per_thread = threading.local()

    def xml_schema(self, relative_path: str) -> etree.XMLSchema:
        schema = self._xml.get(relative_path)
        if schema is None:
            with self._lock:
                schema = self._xml.get(relative_path) or self._compile_xml(relative_path)
                self._xml[relative_path] = schema
        return schema

    def validate_xml(self, element: etree._Element, relative_path: str) -> None:
        """Raise SchemaInvalid naming the first error's path and line."""
        known: dict[str, etree.XMLSchema] | None = getattr(self._per_thread, "xml", None)
        schema = known.get(relative_path) if known is not None else None
        if schema is None:  # the first time in this thread
            schema = self._thread_schema(relative_path)
        if schema.validate(element):
            return
        errors: list[Any] = list(cast(Iterable[Any], schema.error_log))
        if errors:
            first = errors[0]
            found = xmlparse.element_at(element, first.path or "")
            path = xmlparse.named_path(found) if found is not None else first.path
            raise SchemaInvalid(
                f"does not match {relative_path}: {first.message}",
                detail=f"{path} line {first.line}",
                path=path,
                line=first.line,
            )

    def _thread_schema(self, relative_path: str) -> etree.XMLSchema:
        schemas: dict[str, etree.XMLSchema] | None = getattr(self._per_thread, "xml", None)
        if schemas is None:
            schemas = self._per_thread.xml = {}
        schema = schemas.get(relative_path)
        if schema is None:
            self.xml_schema(relative_path)  # compiled once here first: errors are raised once
            schema = schemas[relative_path] = self._compile_xml(relative_path)
        return schema

    def json_validator(self, relative_path: str) -> jsonschema.protocols.Validator:
        validator = self._json.get(relative_path)
        if validator is None:
            with self._lock:
                validator = self._json.get(relative_path) or self._compile_json(relative_path)
                self._json[relative_path] = validator
        return validator

    def validate_json(self, document: Any, relative_path: str) -> None:
        validator = self.json_validator(relative_path)
        fast = self._json_fast.get(relative_path)
        if fast is not None and fast(document):
            return  # the fast check says "valid" only when jsonschema would
        error = jsonschema.exceptions.best_match(validator.iter_errors(document))
        if error is not None:
            path = "/" + "/".join(str(part) for part in error.absolute_path)
            raise SchemaInvalid(
                f"does not match {relative_path}: {error.message}", detail=path, path=path
            )

    def _compile_xml(self, relative_path: str) -> etree.XMLSchema:
        path = self._existing(relative_path)
        try:
            return etree.XMLSchema(etree.parse(str(path), _schema_parser()))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            raise ConfigurationError(f"schema {relative_path} does not compile: {exc}") from exc

    def _compile_json(self, relative_path: str) -> jsonschema.protocols.Validator:
        path = self._existing(relative_path)
        # Sibling JSON Schemas may be referenced by their $id (e.g. "urn:tax:common").
        resources = []
        for sibling in sorted(path.parent.glob("*.json")):
            contents = json.loads(sibling.read_text(encoding="utf-8"))
            if "$id" in contents:
                resources.append((contents["$id"], Resource.from_contents(contents)))
        schema = json.loads(path.read_text(encoding="utf-8"))
        validator_class = jsonschema.validators.validator_for(schema)
        try:
            validator_class.check_schema(schema)
        except jsonschema.exceptions.SchemaError as exc:
            raise ConfigurationError(f"schema {relative_path} is not valid: {exc.message}") from exc
        registry: Registry[Any] = Registry().with_resources(resources)
        self._json_fast[relative_path] = compile_check(schema, registry, schema.get("$id", ""))
        return validator_class(schema, registry=registry)

    def _existing(self, relative_path: str) -> Path:
        path = (self.root / relative_path).resolve()
        if not path.is_file() or self.root.resolve() not in path.parents:
            raise ConfigurationError(f"schema {relative_path} not found under {self.root}")
        return path


_default: SchemaRegistry | None = None


def default_registry() -> SchemaRegistry:
    global _default
    if _default is None:
        _default = SchemaRegistry()
    return _default


def _schema_parser() -> etree.XMLParser:
    """A schema may come from a department package: read without entities or network (a
    new parser each time: threads compile their own copies, and parsers are not shared)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
