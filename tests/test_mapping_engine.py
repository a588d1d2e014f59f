"""Applying compiled mappings: values, codes, defaults, nesting, and record errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from hub.errors import MappingError, SchemaInvalid
from hub.identity import make_number
from hub.mapping import Mapping, MappingRegistry, canonical_xml, load_mapping, to_bytes
from hub.xmlparse import parse

MAN = make_number("11010519900307", "013")
WOMAN = make_number("31010419920815", "028")
REGISTRY = MappingRegistry()
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

HEADER = """
[mapping]
department = "MARRIAGE_REGISTRY"
direction = "inbound"
message_type = "MarriageRegistered"
version = 3

[source]
format = "xml"
schema = "departments/MARRIAGE_REGISTRY/marriage-registry.xsd"
root = "hy:JieHunDengJi"
namespaces = { hy = "urn:mz:hydj:2019" }

[target]
format = "xml"
schema = "canonical/canonical.xsd"
root = "c:MarriageRegistered"
namespaces = { c = "urn:govhub:canonical:1" }
"""


def _mapping(tmp_path: Path, body: str, header: str = HEADER) -> Mapping:
    file = tmp_path / "mapping.toml"
    file.write_text(header + body, encoding="utf-8")
    return load_mapping(file)


def _registration(*, man_sex: str = "1", remark: str | None = None) -> etree._Element:
    remark_xml = f"<hy:BeiZhu>{remark}</hy:BeiZhu>" if remark else ""
    return parse(
        f"""<hy:JieHunDengJi xmlns:hy="urn:mz:hydj:2019">
          <hy:DengJiBianHao>J-1</hy:DengJiBianHao><hy:DengJiRiQi>20260520</hy:DengJiRiQi>
          <hy:DengJiJiGuan>110105</hy:DengJiJiGuan>
          <hy:NanFang><hy:XingMing>张伟</hy:XingMing><hy:ShenFenZhengHao>{MAN}</hy:ShenFenZhengHao>
            <hy:XingBie>{man_sex}</hy:XingBie><hy:ChuShengRiQi>19900307</hy:ChuShengRiQi></hy:NanFang>
          <hy:NvFang><hy:XingMing>李娜</hy:XingMing><hy:ShenFenZhengHao>{WOMAN}</hy:ShenFenZhengHao>
            <hy:XingBie>2</hy:XingBie><hy:ChuShengRiQi>19920815</hy:ChuShengRiQi></hy:NvFang>
          {remark_xml}
        </hy:JieHunDengJi>""".encode()
    )


def _element(document: etree._Element | dict[str, Any]) -> etree._Element:
    assert isinstance(document, etree._Element)
    return document


def _marriage() -> Mapping:
    return REGISTRY.get("MARRIAGE_REGISTRY", "inbound", "MarriageRegistered")


def test_marriage_mapping_turns_compact_dates_into_iso_dates() -> None:
    result = _marriage().apply(_registration())
    assert isinstance(result, etree._Element)
    ns = {"c": "urn:govhub:canonical:1"}
    assert result.findtext("c:registeredOn", namespaces=ns) == "2026-05-20"
    assert result.findtext("c:partyA/c:birthDate", namespaces=ns) == "1990-03-07"


def test_unknown_code_is_a_mapping_error_naming_the_field_and_the_value() -> None:
    with pytest.raises(MappingError) as caught:
        _marriage().apply(_registration(man_sex="3"))
    message = str(caught.value)
    assert "c:partyA/c:sex" in message
    assert "'3'" in message
    assert "code table 'sex'" in message


def test_missing_required_value_is_a_mapping_error_naming_the_field() -> None:
    document = _registration()
    document.remove(document[0])  # DengJiBianHao
    with pytest.raises(MappingError, match=r"c:registrationNumber.*hy:DengJiBianHao is missing"):
        _marriage().apply(document)


def test_translate_refuses_a_source_that_breaks_its_schema() -> None:
    with pytest.raises(SchemaInvalid, match=r"marriage-registry\.xsd"):
        _marriage().translate(_registration(man_sex="3"))


def test_a_document_with_another_root_is_refused_before_mapping() -> None:
    other = parse(b'<hy:LiHunDengJi xmlns:hy="urn:mz:hydj:2019"/>')
    with pytest.raises(MappingError, match=re.escape("expects a {urn:mz:hydj:2019}JieHunDengJi")):
        _marriage().apply(other)


def test_a_json_mapping_refuses_an_xml_element() -> None:
    tax = REGISTRY.get("TAX", "inbound", "AddressChanged")
    with pytest.raises(MappingError, match="expects a JSON object"):
        tax.apply(_registration())


def test_optional_values_are_left_out_and_defaults_fill_in(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        """
[[fields]]
from = "hy:BeiZhu"
to = "c:partyA/c:name"
required = false

[[fields]]
from = "hy:BeiZhu"
to = "c:registrationNumber"
default = "NONE"
""",
    )
    result = mapping.apply(_registration())
    assert canonical_xml(_element(result)) == canonical_xml(
        b'<MarriageRegistered xmlns="urn:govhub:canonical:1">'
        b"<registrationNumber>NONE</registrationNumber></MarriageRegistered>"
    )
    with_remark = mapping.apply(_registration(remark="R"))
    assert canonical_xml(_element(with_remark)) == canonical_xml(
        b'<MarriageRegistered xmlns="urn:govhub:canonical:1"><partyA><name>R</name></partyA>'
        b"<registrationNumber>R</registrationNumber></MarriageRegistered>"
    )


def test_elements_follow_declaration_order_and_intermediates_are_reused(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        """
[[fields]]
from = "hy:NvFang/hy:XingMing"
to = "c:partyB/c:name"

[[fields]]
from = "hy:NanFang/hy:XingMing"
to = "c:partyA/c:name"

[[fields]]
from = "hy:NvFang/hy:XingBie"
to = "c:partyB/c:sex"

[[fields]]
to = "c:partyB/@kind"
value = "woman"
""",
    )
    result = mapping.apply(_registration())
    assert canonical_xml(_element(result)) == canonical_xml(
        '<c:MarriageRegistered xmlns:c="urn:govhub:canonical:1">'
        '<c:partyB kind="woman"><c:name>李娜</c:name><c:sex>2</c:sex></c:partyB>'
        "<c:partyA><c:name>张伟</c:name></c:partyA></c:MarriageRegistered>".encode()
    )


def test_attributes_are_read_from_the_source_and_written_on_the_target_root() -> None:
    mapping = REGISTRY.get("SOCIAL_SECURITY", "inbound", "InsuredPersonEnrolled")
    notice = parse(
        f"""<si:EnrollmentNotice xmlns:si="http://si.example.gov.cn/schema/2024">
          <si:Insured id="{WOMAN}"><si:FullName>李娜</si:FullName></si:Insured>
          <si:Scheme code="410" insuranceNo="N-1"/><si:Employer creditCode="91310104MA1FL8XQ2K"/>
          <si:EnrolledOn>2026-05-18</si:EnrolledOn><si:Region code="310104"/>
        </si:EnrollmentNotice>""".encode()
    )
    result = mapping.translate(notice)
    assert isinstance(result, etree._Element)
    ns = {"c": "urn:govhub:canonical:1"}
    assert result.findtext("c:insuranceType", namespaces=ns) == "work-injury"
    assert result.findtext("c:person/c:sex", namespaces=ns) == "0"  # sex absent: unknown
    assert result.find("c:person/c:birthDate", namespaces=ns) is None


def test_json_source_holding_an_object_where_a_value_belongs_is_a_mapping_error() -> None:
    tax = REGISTRY.get("TAX", "inbound", "AddressChanged")
    with pytest.raises(MappingError, match=r"taxpayer\.idNumber holds a dict"):
        tax.apply({"taxpayer": {"idNumber": {"nested": "x"}}})


def test_mapping_errors_never_show_a_full_identity_number(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        """
[codes.known]
"1" = "1"

[[fields]]
from = "hy:NanFang/hy:ShenFenZhengHao"
to = "c:partyA/c:identityNumber"
codes = "known"
""",
    )
    with pytest.raises(MappingError) as caught:
        mapping.apply(_registration())
    assert MAN not in str(caught.value)
    assert MAN[:6] + "********" in str(caught.value)


def test_address_change_for_the_marriage_registry_serialises_in_gb18030() -> None:
    mapping = REGISTRY.get("MARRIAGE_REGISTRY", "outbound", "AddressChanged")
    canonical = parse((EXAMPLES / "canonical/AddressChanged.xml").read_bytes())
    data = to_bytes(mapping.translate(canonical), mapping.target_encoding)
    assert mapping.target_encoding == "GB18030"
    assert b"encoding='GB18030'" in data.split(b"?>")[0]
    assert "张伟".encode("gb18030") in data
    assert "张伟".encode() not in data


def test_json_documents_serialise_as_compact_utf8() -> None:
    assert to_bytes({"fullName": "张伟", "a": {"b": "1"}}) == json.dumps(
        {"fullName": "张伟", "a": {"b": "1"}}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")


def test_a_mapping_knows_its_name_and_formats() -> None:
    mapping = REGISTRY.get("TAX", "outbound", "MarriageRegistered")
    assert mapping.name == "TAX/outbound/MarriageRegistered@1"
    assert (mapping.source_format, mapping.target_format) == ("xml", "json")
    assert repr(mapping) == "<Mapping TAX/outbound/MarriageRegistered@1>"
