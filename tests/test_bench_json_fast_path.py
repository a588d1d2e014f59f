"""The JSON Schema fast path (hub/json_fastpath.py, used by SchemaRegistry.validate_json for
speed) never calls valid what jsonschema refuses, and does take the shipped examples."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.errors import SchemaInvalid
from hub.schemas import SchemaRegistry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {
    "departments/TAX/marital-event.json": [
        "TAX/outbound/MarriageRegistered.out.json",
        "TAX/outbound/DivorceRegistered.out.json",
    ],
    "departments/TAX/insurance-enrollment.json": ["TAX/outbound/InsuredPersonEnrolled.out.json"],
    "departments/TAX/address-change.json": ["TAX/inbound/AddressChanged.in.json"],
}
ODD_VALUES: list[Any] = [None, "", "x" * 300, 7, 7.5, True, [], {}, "M", "20260520", "\uff11"]


def mutations(document: Any) -> Iterator[Any]:
    """The document with one change each: a key dropped or added, a value replaced."""
    if isinstance(document, dict):
        yield {**document, "unexpected": "x"}
        for key, value in document.items():
            yield {k: v for k, v in document.items() if k != key}
            for odd in ODD_VALUES:
                yield {**document, key: odd}
            for changed in mutations(value):
                yield {**document, key: changed}


def cases() -> Iterator[tuple[str, Any]]:
    for schema, files in EXAMPLES.items():
        for name in files:
            document = json.loads((ROOT / "examples" / "mappings" / name).read_text("utf-8"))
            yield schema, document
            for changed in mutations(document):
                yield schema, copy.deepcopy(changed)


@pytest.fixture(scope="module")
def schemas() -> SchemaRegistry:
    return SchemaRegistry()


def test_every_shipped_json_schema_gets_a_fast_check(schemas: SchemaRegistry) -> None:
    for schema in EXAMPLES:
        schemas.json_validator(schema)
        assert schemas._json_fast[schema] is not None, schema


@pytest.mark.parametrize("schema", sorted(EXAMPLES))
def test_the_fast_check_agrees_with_jsonschema_on_examples_and_their_mutations(
    schemas: SchemaRegistry, schema: str
) -> None:
    validator = schemas.json_validator(schema)
    fast = schemas._json_fast[schema]
    assert fast is not None
    verdicts = []
    for name, document in cases():
        if name != schema:
            continue
        verdicts.append(validator.is_valid(document))
        assert fast(document) == verdicts[-1], document

    # It compared something, on both sides: the examples pass, many mutations do not.
    assert len(verdicts) > 50 and True in verdicts and False in verdicts


def test_a_document_the_fast_check_refuses_still_gets_jsonschemas_error(
    schemas: SchemaRegistry,
) -> None:
    with pytest.raises(SchemaInvalid) as caught:
        schemas.validate_json({"eventType": "MARRIAGE"}, "departments/TAX/marital-event.json")
    assert "is a required property" in caught.value.message
