"""The marriage registry (civil affairs): a legacy SOAP 1.1 system speaking GB18030.

Receives DiZhiBianGeng (operation JieShouDiZhiBianGeng) and answers HuiZhi (JIESHOU, or
CHONGFU for a repeated key). Its clerk registers marriages and divorces, which it pushes to
the hub as JieHunDengJi / LiHunDengJi envelopes.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from lxml import etree

from mock_departments.answering import query_routes
from mock_departments.department import Handler
from mock_departments.http import Request, Response, json_response
from mock_departments.people import Person, json_object, new_number, parse_date, required
from mock_departments.soap import SOAP11, content_type, envelope
from mock_departments.soap_department import SoapDepartment

NS = "urn:mz:hydj:2019"
ENCODING = "GB18030"
MARRIAGE = "JieHunDengJi"
DIVORCE = "LiHunDengJi"


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


class MarriageRegistry(SoapDepartment):
    code = "MARRIAGE_REGISTRY"
    name = "Marriage registry (civil affairs)"
    reference_prefix = "HZ"
    version = SOAP11
    schema = "departments/MARRIAGE_REGISTRY/marriage-registry.xsd"
    wsdl = "departments/MARRIAGE_REGISTRY/marriage-registry.wsdl"
    operations: ClassVar[dict[str, str]] = {_q("DiZhiBianGeng"): "DiZhiBianGeng"}
    answer_encoding = ENCODING

    def identity_numbers(self, document: etree._Element) -> list[str]:
        return [str(element.text) for element in document.iter(_q("ShenFenZhengHao"))]

    def receipt(self, reference: str, *, is_new: bool) -> etree._Element:
        answer = etree.Element(_q("HuiZhi"), nsmap={"hy": NS})
        etree.SubElement(answer, _q("JieGuo")).text = "JIESHOU" if is_new else "CHONGFU"
        etree.SubElement(answer, _q("HuiZhiBianHao")).text = reference
        return answer

    # -- the clerk --------------------------------------------------------------------------

    def register_marriage(
        self,
        husband: Person,
        wife: Person,
        *,
        day: date,
        office: str,
        registration_number: str | None = None,
        note: str | None = None,
    ) -> str:
        """Register a marriage, push it to the hub; return its registration number."""
        return self._register(MARRIAGE, husband, wife, day, office, registration_number, note)

    def register_divorce(
        self,
        husband: Person,
        wife: Person,
        *,
        day: date,
        office: str,
        registration_number: str | None = None,
        note: str | None = None,
    ) -> str:
        """Register a divorce, push it to the hub; return its registration number."""
        return self._register(DIVORCE, husband, wife, day, office, registration_number, note)

    def _register(
        self,
        kind: str,
        husband: Person,
        wife: Person,
        day: date,
        office: str,
        number: str | None,
        note: str | None,
    ) -> str:
        number = number or new_number(("J" if kind == MARRIAGE else "L") + office, day)
        document = registration(kind, number, husband, wife, day, office, note)
        self.schemas.validate_xml(document, self.schema)
        self.enter(
            key=number,
            kind=kind,
            path=f"/native/{self.code}",
            content_type=content_type(SOAP11, ENCODING),
            body=envelope(SOAP11, document, encoding=ENCODING),
        )
        return number

    def other_routes(self) -> dict[tuple[str, str], Handler]:
        return {
            **super().other_routes(),
            ("POST", "/clerk/marriages"): lambda request: self._clerk(request, MARRIAGE),
            ("POST", "/clerk/divorces"): lambda request: self._clerk(request, DIVORCE),
            **query_routes(self),
        }

    def _clerk(self, request: Request, kind: str) -> Response:
        """{"husband": person, "wife": person, "date": "YYYY-MM-DD", "office": "110105",
        "registrationNumber"?: ..., "note"?: ...}"""
        doc = json_object(request.json())
        number = self._register(
            kind,
            Person.from_json(required(doc, "husband"), where="husband"),
            Person.from_json(required(doc, "wife"), where="wife"),
            parse_date(required(doc, "date"), where="date"),
            str(required(doc, "office")),
            doc.get("registrationNumber"),
            doc.get("note"),
        )
        status = self.store.outbox_entry(number).status
        return json_response(201, {"registrationNumber": number, "push": status})


def registration(
    kind: str,
    number: str,
    husband: Person,
    wife: Person,
    day: date,
    office: str,
    note: str | None = None,
) -> etree._Element:
    """A JieHunDengJi or LiHunDengJi document in the registry's own format."""
    root = etree.Element(_q(kind), nsmap={"hy": NS})
    _text(root, "DengJiBianHao", number)
    _text(root, "DengJiRiQi", f"{day:%Y%m%d}")
    _text(root, "DengJiJiGuan", office)
    _party(root, "NanFang", husband)
    _party(root, "NvFang", wife)
    if note:
        _text(root, "BeiZhu", note)
    return root


def _party(parent: etree._Element, tag: str, person: Person) -> None:
    element = etree.SubElement(parent, _q(tag))
    _text(element, "XingMing", person.name)
    _text(element, "ShenFenZhengHao", person.id_number)
    _text(element, "XingBie", str(person.sex_code))
    _text(element, "ChuShengRiQi", f"{person.born:%Y%m%d}")


def _text(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, _q(tag)).text = text
