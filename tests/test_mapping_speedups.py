"""The fast paths of validate-and-map give exactly what the plain code gives (issue 6, goal 3):
the one-call check character, the date renderers (compact, and midnight in a fixed zone), the
fused JSON Schema checks, the inlined code lookup and the skeleton filled with new attributes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree
from referencing import Registry

from hub.errors import InvalidIdentityNumber, MappingError
from hub.identity import check_character, is_valid, verify
from hub.json_fastpath import compile_check
from hub.mapping import load_mapping
from hub.mapping.builders import XmlBuilder
from hub.mapping.formats import (
    _render_compact_date,
    _render_compact_datetime,
    make_converter,
    parse_timezone,
)
from hub.mapping.paths import parse_xml_path

BEIJING = timezone(timedelta(hours=8))


def test_the_one_call_check_character_agrees_with_the_weighted_sum() -> None:
    draw = random.Random(6)
    for _ in range(20_000):
        first = "".join(draw.choice("0123456789") for _ in range(17))
        expected = check_character(first)
        assert is_valid(first + expected)
        assert not is_valid(first + ("0" if expected != "0" else "1"))
    for first in ("0" * 17, "9" * 17, "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧"):  # the last: Arabic-Indic digits
        assert is_valid(first + check_character(first))


def test_a_wrong_identity_number_is_refused_with_the_same_words_as_before() -> None:
    with pytest.raises(InvalidIdentityNumber, match="has check character 1, expected one"):
        verify("110105199003070131")
    with pytest.raises(InvalidIdentityNumber, match="is not 17 digits and a check character"):
        verify("11010519900307013 ")
    with pytest.raises(InvalidIdentityNumber, match="is not 17 digits"):
        verify("+1010519900307013X")  # int() would take the sign; the shape check does not


@pytest.mark.parametrize(
    "moment",
    [
        date(1, 1, 1),
        date(999, 12, 31),
        date(2026, 5, 20),
        datetime(5, 2, 3, 4, 5, 6, 7, tzinfo=BEIJING),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=BEIJING),
        datetime(2026, 5, 28, 1, 15, 30, tzinfo=UTC),
    ],
)
def test_compact_renderers_write_what_field_by_field_formatting_writes(moment: date) -> None:
    day = f"{moment.year:04d}{moment.month:02d}{moment.day:02d}"
    assert _render_compact_date(moment, BEIJING) == day
    local = (
        moment.astimezone(BEIJING)
        if isinstance(moment, datetime)
        else datetime.combine(moment, time(0), tzinfo=BEIJING)
    )
    clock = f"{local.hour:02d}{local.minute:02d}{local.second:02d}"
    assert _render_compact_datetime(moment, BEIJING) == f"{local:%Y%m%d}{clock}".rjust(14, "0")


# Keywords without "type" apply only to values of their kind; enums mix types.
SCHEMAS: list[dict[str, Any]] = [
    {"pattern": "^[0-9]+$", "minLength": 2, "maxLength": 3},
    {"type": "string", "pattern": "^a", "maxLength": 2},
    {"required": ["a"], "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    {"type": "object", "required": ["a", "b"]},
    {"additionalProperties": False},
    {"type": "object", "properties": {"s": {"enum": ["M", "F"]}, "n": {"enum": [1, "1", None]}}},
    {"enum": [True, 1, 1.5, "x"]},
]
FLOAT_ONE = {"n": 1.0}
FLOATS_EQUAL_TO_INTS = [1.0, FLOAT_ONE]
VALUES: list[Any] = [
    None, True, False, 0, 1, 1.0, 1.5, "", "a", "ab", "12", "123", "1234", "١٢", "x", "M", [],
    {}, {"a": 1}, {"a": "1"}, {"a": 1, "b": 2}, {"b": 2}, {"s": "M"}, {"s": "m"}, {"n": 1},
    {"n": True}, {"n": "1"}, {"n": None}, FLOAT_ONE, {"s": "F", "x": 1},
]  # fmt: skip


@pytest.mark.parametrize("schema", SCHEMAS)
def test_fused_json_checks_agree_with_jsonschema(schema: dict[str, Any]) -> None:
    check = compile_check(schema, Registry(), "")
    assert check is not None
    validator = jsonschema.Draft202012Validator(schema)
    for value in VALUES:
        fast, full = check(value), validator.is_valid(value)
        assert full or not fast, value  # never "valid" where jsonschema says no
        # 1.0 against enum [1]: the fast check says no and leaves it to jsonschema (allowed).
        assert fast == full or any(value is odd for odd in FLOATS_EQUAL_TO_INTS), value


MAPPING = """
[mapping]
department = "TAX"
direction = "outbound"
message_type = "MarriageRegistered"
version = 1

[source]
format = "json"
schema = "departments/TAX/address-change.json"

[target]
format = "json"
schema = "departments/TAX/address-change.json"

[codes.sex]
"1" = "M"

[[fields]]
from = "taxpayer.sex"
to = "taxpayer.sex"
codes = "sex"
"""


def test_an_unknown_code_still_names_the_field_and_the_table(tmp_path: Path) -> None:
    file = tmp_path / "m.toml"
    file.write_text(MAPPING, encoding="utf-8")
    field = load_mapping(file).fields()[0]
    assert field.value_of("1") == "M"
    with pytest.raises(MappingError) as caught:
        field.value_of("7")
    assert caught.value.message == (
        "cannot map taxpayer.sex to taxpayer.sex: code '7' is not in code table 'sex'"
    )
    assert isinstance(caught.value.__cause__, MappingError)


def test_a_filled_skeleton_keeps_attributes_in_the_order_the_fields_declare_them() -> None:
    namespaces = {"c": "urn:x"}
    paths = [parse_xml_path(p, namespaces) for p in ["c:a/@y", "c:a", "@top", "c:a/@x"]]
    builder = XmlBuilder("{urn:x}r", namespaces, paths)
    values = ["1", "text & <more>", "3", "4"]
    built = builder.build(values)
    assert etree.tostring(built) == etree.tostring(builder._build_lazily(values))
    assert etree.tostring(built) == (
        b'<c:r xmlns:c="urn:x" top="3"><c:a y="1" x="4">text &amp; &lt;more&gt;</c:a></c:r>'
    )


@pytest.mark.parametrize("zone_name", ["+08:00", "Z", "-05:30", "Asia/Shanghai"])
def test_a_date_becomes_midnight_in_the_zone_as_a_datetime_built_in_full_says(
    zone_name: str,
) -> None:
    zone = parse_timezone(zone_name)
    for source, text, day in [
        ("iso-date", "2026-05-20", date(2026, 5, 20)),
        ("compact-date", "19880415", date(1988, 4, 15)),  # Shanghai kept summer time then
        ("iso-date", "0001-01-01", date(1, 1, 1)),
    ]:
        convert = make_converter(source, "iso-datetime", zone_name)
        assert convert(text) == datetime.combine(day, time(0), tzinfo=zone).isoformat()
    with pytest.raises(MappingError, match="is not a valid iso-date value"):
        make_converter("iso-date", "iso-datetime", zone_name)("2026-02-30")
