"""The hub's faults as a SOAP 1.2 client reads them when the hub is at fault, and the detail
every fault carries (validated against the schema the WSDL declares)."""

from __future__ import annotations

from lxml import etree

from hub.api.soap_faults import HubFault, fault_envelope, fault_from
from hub.errors import Busy, SchemaInvalid
from hub.resources import XSD_ROOT

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
HUB = "urn:govhub:hub:1"
API_SCHEMA = etree.XMLSchema(etree.parse(str(XSD_ROOT / "hub" / "soap-api.xsd")))


def code_of(envelope: bytes) -> tuple[str, list[str]]:
    """(Code/Value, [Subcode/Value...]) of a SOAP 1.2 fault."""
    code = etree.fromstring(envelope).find(f".//{{{SOAP12}}}Code")
    assert code is not None
    subcodes = [value.text or "" for value in code.iter(f"{{{SOAP12}}}Value")][1:]
    return code.findtext(f"{{{SOAP12}}}Value") or "", subcodes


def test_the_hubs_own_trouble_is_a_receiver_fault_with_the_hub_code_as_subcode() -> None:
    envelope = fault_envelope(fault_from(Busy("too many bytes in flight")), soap12=True)

    assert code_of(envelope) == ("soapenv:Receiver", ["h:Busy"])


def test_a_version_mismatch_is_the_soap12_code_itself_without_a_subcode() -> None:
    envelope = fault_envelope(HubFault("VersionMismatch", "send 1.2 as ..."), soap12=True)

    assert code_of(envelope) == ("soapenv:VersionMismatch", [])


def test_the_detail_has_the_declared_shape_and_a_line_only_when_asked() -> None:
    error = SchemaInvalid("bad", path="Submit/message/MarriageRegistered/sex", line=7)
    for soap12 in (False, True):
        detail = etree.fromstring(fault_envelope(fault_from(error), soap12=soap12)).find(
            f".//{{{HUB}}}HubFault"
        )

        assert detail is not None and API_SCHEMA.validate(detail)
        assert detail.findtext(f"{{{HUB}}}path") == "Submit/message/MarriageRegistered/sex"
        assert detail.find(f"{{{HUB}}}line") is None  # written before reading: no line
