"""Out and back: a canonical record sent to a department and read back keeps its content.

No shipped department both sends and receives the same message type, so the way back is a
reverse mapping written here; where both directions ship, the registry's own pair is used.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.mapping import Mapping, MappingRegistry, canonical_xml, load_mapping, to_bytes
from hub.xmlparse import parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
REGISTRY = MappingRegistry()

CANONICAL = """
[mapping]
department = "{department}"
direction = "inbound"
message_type = "{message_type}"
version = 1

[target]
format = "xml"
schema = "canonical/canonical.xsd"
root = "c:{message_type}"
namespaces = {{ c = "urn:govhub:canonical:1" }}
"""

SOCIAL_SECURITY_MARRIAGE = """
[source]
format = "xml"
schema = "departments/SOCIAL_SECURITY/social-security.xsd"
root = "si:MaritalStatusNotice"
namespaces = { si = "http://si.example.gov.cn/schema/2024" }

[[fields]]
from = "si:Event/@registration"
to = "c:registrationNumber"
[[fields]]
from = "si:Event/@date"
to = "c:registeredOn"
[[fields]]
from = "si:Event/@office"
to = "c:registrationOffice"
[[fields]]
from = "si:Principal/@id"
to = "c:partyA/c:identityNumber"
[[fields]]
from = "si:Principal/si:FullName"
to = "c:partyA/c:name"
[[fields]]
from = "si:Principal/@sex"
to = "c:partyA/c:sex"
[[fields]]
from = "si:Principal/si:BirthDate"
to = "c:partyA/c:birthDate"
[[fields]]
from = "si:Spouse/@id"
to = "c:partyB/c:identityNumber"
[[fields]]
from = "si:Spouse/si:FullName"
to = "c:partyB/c:name"
[[fields]]
from = "si:Spouse/@sex"
to = "c:partyB/c:sex"
[[fields]]
from = "si:Spouse/si:BirthDate"
to = "c:partyB/c:birthDate"
[[fields]]
from = "si:Principal/si:MaritalStatus/@code"
to = "c:maritalStatus"
"""

MARRIAGE_REGISTRY_ADDRESS = """
[source]
format = "xml"
schema = "departments/MARRIAGE_REGISTRY/marriage-registry.xsd"
root = "hy:DiZhiBianGeng"
namespaces = { hy = "urn:mz:hydj:2019" }

[[fields]]
from = "hy:ShenFenZhengHao"
to = "c:person/c:identityNumber"
[[fields]]
from = "hy:XingMing"
to = "c:person/c:name"
[[fields]]
from = "hy:XingZhengQuHua"
to = "c:newAddress/c:divisionCode"
[[fields]]
from = "hy:XiangXiDiZhi"
to = "c:newAddress/c:detail"
[[fields]]
from = "hy:YouZhengBianMa"
to = "c:newAddress/c:postalCode"
required = false
[[fields]]
from = "hy:ShengXiaoRiQi"
to = "c:effectiveFrom"
convert = { from = "compact-date", to = "iso-date" }
[[fields]]
from = "hy:DengJiShiJian"
to = "c:recordedAt"
convert = { from = "compact-datetime", to = "iso-datetime" }
"""

TAX_ENROLLMENT = """
[source]
format = "json"
schema = "departments/TAX/insurance-enrollment.json"

[codes.sex]
M = "1"
F = "2"

[codes.insurance]
PENSION = "pension"

[[fields]]
from = "taxpayer.idNumber"
to = "c:person/c:identityNumber"
[[fields]]
from = "taxpayer.fullName"
to = "c:person/c:name"
[[fields]]
from = "taxpayer.sex"
to = "c:person/c:sex"
codes = "sex"
[[fields]]
from = "taxpayer.birthDate"
to = "c:person/c:birthDate"
[[fields]]
from = "insuranceNumber"
to = "c:insuranceNumber"
[[fields]]
from = "insuranceType"
to = "c:insuranceType"
codes = "insurance"
[[fields]]
from = "employerCreditCode"
to = "c:employerCreditCode"
[[fields]]
from = "enrolledAt"
to = "c:enrolledOn"
convert = { from = "iso-datetime", to = "iso-date" }
[[fields]]
from = "regionCode"
to = "c:division"
"""


REVERSES = [
    ("SOCIAL_SECURITY", "MarriageRegistered", SOCIAL_SECURITY_MARRIAGE),
    ("MARRIAGE_REGISTRY", "AddressChanged", MARRIAGE_REGISTRY_ADDRESS),
    ("TAX", "InsuredPersonEnrolled", TAX_ENROLLMENT),
]


def _reverse(tmp_path: Path, department: str, message_type: str, body: str) -> Mapping:
    file = tmp_path / f"{department}-{message_type}.toml"
    header = CANONICAL.format(department=department, message_type=message_type)
    file.write_text(header + body, encoding="utf-8")
    return load_mapping(file)


def _out_and_back(outbound: Mapping, inbound: Mapping, canonical: bytes) -> bytes:
    # Through bytes, as on the wire, in the department's own encoding.
    native = to_bytes(outbound.translate(parse(canonical)), outbound.target_encoding)
    document = json.loads(native) if outbound.target_format == "json" else parse(native)
    return to_bytes(inbound.translate(document))


@pytest.mark.parametrize(("department", "message_type", "body"), REVERSES)
def test_a_record_sent_out_and_read_back_keeps_its_canonical_content(
    tmp_path: Path, department: str, message_type: str, body: str
) -> None:
    canonical = (EXAMPLES / "canonical" / f"{message_type}.xml").read_bytes()
    # The registry keeps Beijing local time: a UTC instant comes back as the same instant
    # written with +08:00, so start from the local spelling to compare text with text.
    canonical = canonical.replace(b"2026-05-28T01:15:30Z", b"2026-05-28T09:15:30+08:00")
    outbound = REGISTRY.get(department, "outbound", message_type)
    inbound = _reverse(tmp_path, department, message_type, body)
    assert canonical_xml(_out_and_back(outbound, inbound, canonical)) == canonical_xml(canonical)


def _pairs(registry: MappingRegistry) -> list[tuple[Mapping, Mapping]]:
    """Every (outbound, inbound) pair of one department and message type in ``registry``."""
    pairs = []
    for outbound in registry.all():
        if outbound.direction == "outbound":
            inbound = registry.find(outbound.department, "inbound", outbound.message_type)
            if inbound is not None:
                pairs.append((outbound, inbound))
    return pairs


def test_every_pair_in_a_registry_keeps_the_canonical_content(tmp_path: Path) -> None:
    # None ships today, so the reverse mappings above are installed where no shipped inbound
    # mapping is; a shipped pair, once there is one, is checked here as it is.
    reverses = [
        _reverse(tmp_path, department, message_type, body)
        for department, message_type, body in REVERSES
        if REGISTRY.find(department, "inbound", message_type) is None
    ]
    registry = REGISTRY.with_mappings(reverses)

    pairs = _pairs(registry)

    assert len(pairs) >= len(REVERSES)  # it cannot pass by finding nothing
    for outbound, inbound in pairs:
        canonical = (EXAMPLES / "canonical" / f"{outbound.message_type}.xml").read_bytes()
        canonical = canonical.replace(b"2026-05-28T01:15:30Z", b"2026-05-28T09:15:30+08:00")
        back = _out_and_back(outbound, inbound, canonical)
        assert canonical_xml(back) == canonical_xml(canonical), outbound.name
