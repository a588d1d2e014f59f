"""The supervision office (监察局, electronic supervision): a SOAP 1.1 system, UTF-8, its own
namespace and data-element abbreviations (XHLB, BJBH, SXBM ...).

Receives XHTZ (operation JieShouJianChaXinHao: a yellow light, yellow card or red card the hub
issued about a case, or closed when the case was corrected) and answers XHHZ (CLJG JS, or CF
for a repeated key). It has no clerk: it only receives. What it received is kept, like every
mock department's, and listed by `govhub mock-departments received SUPERVISION`.
"""

from __future__ import annotations

from typing import ClassVar

from lxml import etree

from mock_departments.soap import SOAP11
from mock_departments.soap_department import SoapDepartment

NS = "urn:jianchaju:dzjc:2026"


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


class SupervisionOffice(SoapDepartment):
    code = "SUPERVISION"
    name = "Supervision office (electronic supervision)"
    reference_prefix = "JC"
    version = SOAP11
    schema = "departments/SUPERVISION/supervision.xsd"
    wsdl = "departments/SUPERVISION/supervision.wsdl"
    operations: ClassVar[dict[str, str]] = {_q("XHTZ"): "XHTZ"}

    def identity_numbers(self, document: etree._Element) -> list[str]:
        return []  # a signal names the case, never the applicant

    def receipt(self, reference: str, *, is_new: bool) -> etree._Element:
        answer = etree.Element(_q("XHHZ"), nsmap={"jc": NS})
        etree.SubElement(answer, _q("CLJG")).text = "JS" if is_new else "CF"
        etree.SubElement(answer, _q("JSBH")).text = reference
        return answer
