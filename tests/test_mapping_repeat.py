"""The mapping engine's repeated records ([[repeat]], hub/mapping/repeat.py): every record at
a source path mapped, in order, into one item at a target path, each field read relative to
its record; mistakes named by place."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from hub.errors import ConfigurationError, MappingError
from hub.mapping.registry import load_mapping
from hub.xmlparse import parse

Q = "urn:govhub:query:1"
HEAD = """
[mapping]
department = "MARRIAGE_REGISTRY"
direction = "answers"
message_type = "maritalStatus"
version = 1
"""
XML_TO_JSON = (
    HEAD
    + """
[source]
format = "xml"
schema = "departments/query-answer.xsd"
root = "q:Answer"
namespaces = { q = "urn:govhub:query:1" }

[target]
format = "json"
schema = "hub/query-facts.json"

[codes.status]
"已婚" = "married"
"离婚" = "divorced"

[[repeat]]
from = "q:record"
to = "person.records"

[[repeat.fields]]
from = "q:value"
to = "value"
codes = "status"

[[repeat.fields]]
from = "q:asOf"
to = "asOf"
"""
)


def mapping_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "maritalStatus.toml"
    path.write_text(text, encoding="utf-8")
    return path


def answer(*records: tuple[str, str]) -> etree._Element:
    body = "".join(
        f"<q:record><q:value>{v}</q:value><q:asOf>{d}</q:asOf></q:record>" for v, d in records
    )
    return parse(f'<q:Answer xmlns:q="{Q}">{body}</q:Answer>'.encode())


def test_every_xml_record_becomes_one_json_item_in_order_with_its_codes(tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, XML_TO_JSON))

    facts = mapping.apply(answer(("已婚", "2019-05-20"), ("离婚", "2023-11-02")))

    assert facts == {
        "person": {
            "records": [
                {"value": "married", "asOf": "2019-05-20"},
                {"value": "divorced", "asOf": "2023-11-02"},
            ]
        }
    }


def test_no_records_is_an_empty_list_not_a_missing_key(tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, XML_TO_JSON))
    assert mapping.apply(answer()) == {"person": {"records": []}}


def test_a_record_with_an_unknown_code_names_the_field(tmp_path: Path) -> None:
    mapping = load_mapping(mapping_file(tmp_path, XML_TO_JSON))
    with pytest.raises(MappingError, match="cannot map q:value to value: code '丧偶'"):
        mapping.apply(answer(("已婚", "2019-05-20"), ("丧偶", "2024-01-01")))


def test_json_records_become_repeated_xml_elements_beside_the_top_level_fields(
    tmp_path: Path,
) -> None:
    text = (
        HEAD
        + """
[source]
format = "json"
schema = "departments/TAX/query-answer.json"

[target]
format = "xml"
schema = "canonical/canonical.xsd"
root = "c:CitizenDossier"
namespaces = { c = "urn:govhub:canonical:1" }

[[fields]]
from = "subject"
to = "c:subject"

[[repeat]]
from = "records"
to = "c:section/c:value"

[[repeat.fields]]
from = "value"
to = "@text"
"""
    )
    mapping = load_mapping(mapping_file(tmp_path, text))

    document = mapping.apply({"subject": "S", "records": [{"value": "a"}, {"value": "b"}]})

    assert isinstance(document, etree._Element)
    c = "{urn:govhub:canonical:1}"
    assert document.findtext(f"{c}subject") == "S"
    assert [v.get("text") for v in document.iterfind(f"{c}section/{c}value")] == ["a", "b"]
    with pytest.raises(MappingError, match="records holds a str, not a list of objects"):
        mapping.apply({"subject": "S", "records": "many"})


def test_a_repeat_without_fields_is_refused_naming_its_place(tmp_path: Path) -> None:
    text = XML_TO_JSON[: XML_TO_JSON.index("[[repeat.fields]]")]
    with pytest.raises(ConfigurationError, match=r"\[\[repeat\]\] #1: missing key 'fields'"):
        load_mapping(mapping_file(tmp_path, text))
