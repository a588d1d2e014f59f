"""Every shipped mapping against its example, and the headline scenario end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from lxml import etree

from hub.mapping import Mapping, MappingRegistry, canonical_xml, to_bytes
from hub.resources import CANONICAL_SCHEMA, MAPPINGS_ROOT, XSD_ROOT
from hub.schemas import default_registry
from hub.xmlparse import parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REGISTRY = MappingRegistry()


def _example(mapping: Mapping, part: str, fmt: str) -> Path:
    folder = EXAMPLES / "mappings" / mapping.department / mapping.direction
    return folder / f"{mapping.message_type}.{part}.{fmt}"


def _load(path: Path) -> etree._Element | dict[str, Any]:
    data = path.read_bytes()
    return json.loads(data) if path.suffix == ".json" else parse(data)


def _same(actual: etree._Element | dict[str, Any], expected_file: Path) -> None:
    if isinstance(actual, dict):
        assert actual == json.loads(expected_file.read_bytes())
    else:
        assert canonical_xml(actual) == canonical_xml(expected_file.read_bytes())


@pytest.mark.parametrize("mapping", REGISTRY.all(), ids=lambda m: m.name)
def test_every_mapping_turns_its_example_input_into_its_example_output(mapping: Mapping) -> None:
    source = _load(_example(mapping, "in", mapping.source_format))
    _same(mapping.translate(source), _example(mapping, "out", mapping.target_format))


def test_every_mapping_file_has_a_shipped_example() -> None:
    files = sorted(MAPPINGS_ROOT.rglob("*.toml"))
    assert len(files) == len(REGISTRY.all()) == 16  # 12 of messages, 4 of query answers


@pytest.mark.parametrize("path", sorted((EXAMPLES / "canonical").glob("*.xml")), ids=str)
def test_every_canonical_example_is_valid_canonical_xml(path: Path) -> None:
    default_registry().validate_xml(parse(path.read_bytes()), CANONICAL_SCHEMA)


def test_there_is_a_canonical_example_of_every_message_type() -> None:
    # Every element the canonical schema declares, mapped or not (case events have no mapping).
    types = set(xmlschema.XMLSchema10(str(XSD_ROOT / CANONICAL_SCHEMA)).elements)
    messages = [mapping for mapping in REGISTRY.all() if mapping.direction != "answers"]
    assert {mapping.message_type for mapping in messages} <= types
    assert {path.stem for path in (EXAMPLES / "canonical").glob("*.xml")} == types


@pytest.mark.parametrize("name", ["MarriageRegistered.in.xml", "DivorceRegistered.in.xml"], ids=str)
def test_marriage_registry_samples_are_gb18030_encoded_and_say_so(name: str) -> None:
    data = (EXAMPLES / "mappings/MARRIAGE_REGISTRY/inbound" / name).read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="GB18030"?>')
    assert "张伟".encode("gb18030") in data or "王强".encode("gb18030") in data
    parse(data)  # decodes as declared


def test_a_marriage_registered_once_reaches_social_security_and_tax() -> None:
    native = _load(EXAMPLES / "mappings/MARRIAGE_REGISTRY/inbound/MarriageRegistered.in.xml")
    canonical = REGISTRY.get("MARRIAGE_REGISTRY", "inbound", "MarriageRegistered").translate(native)
    _same(canonical, EXAMPLES / "canonical/MarriageRegistered.xml")
    for department, fmt in (("SOCIAL_SECURITY", "xml"), ("TAX", "json")):
        outbound = REGISTRY.get(department, "outbound", "MarriageRegistered")
        _same(outbound.translate(canonical), _example(outbound, "out", fmt))


def test_an_address_change_entered_at_tax_reaches_the_marriage_registry_in_gb18030() -> None:
    native = _load(EXAMPLES / "mappings/TAX/inbound/AddressChanged.in.json")
    canonical = REGISTRY.get("TAX", "inbound", "AddressChanged").translate(native)
    outbound = REGISTRY.get("MARRIAGE_REGISTRY", "outbound", "AddressChanged")
    data = to_bytes(outbound.translate(canonical), outbound.target_encoding)
    assert data.startswith(b"<?xml version='1.0' encoding='GB18030'?>")
    assert "中关村大街".encode("gb18030") in data
    assert canonical_xml(parse(data)) == canonical_xml(
        _example(outbound, "out", "xml").read_bytes()
    )


def test_outbound_inputs_are_the_canonical_examples() -> None:
    for mapping in REGISTRY.all():
        if mapping.direction == "outbound":
            given = _example(mapping, "in", "xml").read_bytes()
            canonical = (EXAMPLES / "canonical" / f"{mapping.message_type}.xml").read_bytes()
            assert canonical_xml(given) == canonical_xml(canonical), mapping.name
