"""A wrong mapping file fails when it loads, with an error naming the file and the place."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import ConfigurationError
from hub.mapping import MappingRegistry, load_mapping

GOOD = """
[mapping]
department = "TAX"
direction = "outbound"
message_type = "MarriageRegistered"
version = 1

[source]
format = "xml"
schema = "canonical/canonical.xsd"
root = "c:MarriageRegistered"
namespaces = { c = "urn:govhub:canonical:1" }

[target]
format = "json"
schema = "departments/TAX/marital-event.json"

[codes.sex]
"1" = "M"

[[fields]]
to = "eventType"
value = "MARRIAGE"

[[fields]]
from = "c:partyA/c:sex"
to = "taxpayer.sex"
codes = "sex"
"""


def _load(tmp_path: Path, text: str) -> None:
    file = tmp_path / "broken.toml"
    file.write_text(text, encoding="utf-8")
    load_mapping(file)


def _fails(tmp_path: Path, text: str, *expected: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert str(tmp_path / "broken.toml") in message
    for part in expected:
        assert part in message
    return message


def test_the_good_example_file_loads(tmp_path: Path) -> None:
    _load(tmp_path, GOOD)


def test_an_unknown_key_in_a_field_names_the_file_field_number_and_key(tmp_path: Path) -> None:
    text = GOOD.replace('codes = "sex"', 'codes = "sex"\nconvrt = { from = "a", to = "b" }')
    _fails(tmp_path, text, "[[fields]] #2", "taxpayer.sex", "unknown key 'convrt'")


def test_an_unknown_code_table_is_named(tmp_path: Path) -> None:
    _fails(tmp_path, GOOD.replace('codes = "sex"', 'codes = "gender"'), "#2", "'gender'")


def test_an_unknown_format_is_named(tmp_path: Path) -> None:
    text = GOOD.replace('codes = "sex"', 'convert = { from = "iso-date", to = "roman-date" }')
    _fails(tmp_path, text, "[[fields]] #2", ".convert", "unknown format 'roman-date'")


@pytest.mark.parametrize(
    ("bad_path", "reason"),
    [
        ("c:partyA//c:sex", "not a qualified name"),
        ("x:partyA/c:sex", "prefix 'x' is not declared"),
        ("c:partyA/@", "not a qualified name"),
        ("c:partyA[1]/c:sex", "not a qualified name"),
    ],
)
def test_a_source_path_that_does_not_parse_is_named(
    tmp_path: Path, bad_path: str, reason: str
) -> None:
    text = GOOD.replace('from = "c:partyA/c:sex"', f'from = "{bad_path}"')
    _fails(tmp_path, text, "[[fields]] #2", "'from' path does not parse", reason)


def test_a_target_path_that_does_not_parse_is_named(tmp_path: Path) -> None:
    text = GOOD.replace('to = "taxpayer.sex"', 'to = "taxpayer..sex"')
    _fails(tmp_path, text, "[[fields]] #2", "'to' path does not parse")


def test_two_fields_writing_to_one_place_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace('to = "taxpayer.sex"', 'to = "eventType"')
    _fails(tmp_path, text, "to = 'eventType'", "writes to the same place")


def test_a_value_inside_another_value_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('to = "taxpayer.sex"', 'to = "eventType.sex"')
    _fails(tmp_path, text, "'eventType.sex'", "inside the value of 'eventType'")


def test_a_field_with_both_from_and_value_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('value = "MARRIAGE"', 'value = "MARRIAGE"\nfrom = "c:maritalStatus"')
    _fails(tmp_path, text, "[[fields]] #1", "exactly one of 'from'")


def test_a_missing_schema_is_named_with_its_table(tmp_path: Path) -> None:
    text = GOOD.replace("marital-event.json", "no-such.json")
    _fails(tmp_path, text, "[target].schema", "no-such.json")


def test_a_bad_header_is_named(tmp_path: Path) -> None:
    _fails(tmp_path, GOOD.replace('"outbound"', '"sideways"'), "[mapping].direction", "sideways")
    _fails(tmp_path, GOOD.replace("version = 1", "version = 0"), "[mapping].version")
    _fails(tmp_path, GOOD.replace('format = "json"', 'format = "csv"'), "[target].format")


def test_an_unknown_output_encoding_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace('format = "json"', 'format = "json"\nencoding = "KLINGON"')
    _fails(tmp_path, text, "[target].encoding", "KLINGON")


def test_a_file_that_is_not_toml_names_the_file(tmp_path: Path) -> None:
    _fails(tmp_path, "[mapping\n", "cannot read mapping file")


def test_a_mapping_file_in_the_wrong_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "TAX" / "inbound"
    folder.mkdir(parents=True)
    (folder / "MarriageRegistered.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="belongs at TAX/outbound/MarriageRegistered"):
        MappingRegistry(tmp_path)


def test_asking_for_a_missing_mapping_suggests_a_close_one(tmp_path: Path) -> None:
    folder = tmp_path / "TAX" / "outbound"
    folder.mkdir(parents=True)
    (folder / "MarriageRegistered.toml").write_text(GOOD, encoding="utf-8")
    registry = MappingRegistry(tmp_path)
    assert registry.find("TAX", "outbound", "MarriageRegistered") is not None
    assert registry.find("TAX", "outbound", "MarriageRegister") is None
    with pytest.raises(ConfigurationError, match="Did you mean TAX/outbound/MarriageRegistered"):
        registry.get("TAX", "outbound", "MarriageRegister")
