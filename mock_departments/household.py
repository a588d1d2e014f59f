"""Household registration (public security): a SOAP 1.1 system, UTF-8, its own namespace and
the public-security data-element abbreviations (GMSFHM, XM, HYZKDM ...).

Receives HYZKBG (operation ShouLiHunYinBianGeng: a marriage changes the marital status on the
household register) and HKQY (ShouLiHuKouQianYi: a move of household registration) and
answers SLHZ (CLJG SL, or CF for a repeated key). It has no clerk: it only receives.

It is not one of the three default mocks: it stands for a department an admin registers
while the hub runs, so its contract lives in its department package
(examples/departments/PUBLIC_SECURITY/schemas/), the one copy of it, not under xsd/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from lxml import etree

from hub.errors import ConfigurationError
from hub.schemas import SchemaRegistry
from mock_departments.answering import query_routes
from mock_departments.department import Handler
from mock_departments.soap import SOAP11
from mock_departments.soap_department import SoapDepartment

NS = "urn:gongan:huji:2025"
PACKAGE = Path(__file__).resolve().parent.parent / "examples" / "departments" / "PUBLIC_SECURITY"
CONTRACT = PACKAGE / "schemas"


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


class HouseholdRegistration(SoapDepartment):
    code = "PUBLIC_SECURITY"
    name = "Household registration (public security)"
    reference_prefix = "SL"
    version = SOAP11
    # Absolute paths: the base class joins them to xsd/, which leaves an absolute path as is.
    schema = str(CONTRACT / "household.xsd")
    wsdl = str(CONTRACT / "household.wsdl")
    operations: ClassVar[dict[str, str]] = {_q("HYZKBG"): "HYZKBG", _q("HKQY"): "HKQY"}

    def __init__(self, *args: Any, **options: Any) -> None:
        if not CONTRACT.is_dir():
            raise ConfigurationError(
                f"{self.code}: its contract {CONTRACT} is missing (run it from a checkout)"
            )
        options.setdefault("schemas", SchemaRegistry(CONTRACT))
        super().__init__(*args, **options)

    def other_routes(self) -> dict[tuple[str, str], Handler]:
        return {**super().other_routes(), **query_routes(self)}

    def identity_numbers(self, document: etree._Element) -> list[str]:
        return [str(element.text) for element in document.iter(_q("GMSFHM"))]

    def receipt(self, reference: str, *, is_new: bool) -> etree._Element:
        answer = etree.Element(_q("SLHZ"), nsmap={"hj": NS})
        etree.SubElement(answer, _q("CLJG")).text = "SL" if is_new else "CF"
        etree.SubElement(answer, _q("SLBH")).text = reference
        return answer
