"""Social security: a SOAP 1.2 system with its own namespace, ISO dates and coded attributes.

Receives MaritalStatusNotice (NotifyMaritalStatus) and ResidenceUpdate (UpdateResidence) and
answers Ack (accepted, or duplicate for a repeated key). Its clerk enrolls people in insurance
schemes, which it pushes to the hub as EnrollmentNotice envelopes.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from lxml import etree

from mock_departments.answering import query_routes
from mock_departments.department import Handler
from mock_departments.http import Request, Response, json_response
from mock_departments.people import Person, json_object, new_number, parse_date, required
from mock_departments.soap import SOAP12, content_type, envelope
from mock_departments.soap_department import SoapDepartment

NS = "http://si.example.gov.cn/schema/2024"
ENROLLMENT = "EnrollmentNotice"
ENROLL_ACTION = "http://si.example.gov.cn/service/2024/NotifyEnrollment"
_PEOPLE = {f"{{{NS}}}{tag}" for tag in ("Principal", "Spouse", "Insured")}


def _q(name: str) -> str:
    return f"{{{NS}}}{name}"


class SocialSecurity(SoapDepartment):
    code = "SOCIAL_SECURITY"
    name = "Social security"
    reference_prefix = "SI-ACK-"
    version = SOAP12
    schema = "departments/SOCIAL_SECURITY/social-security.xsd"
    wsdl = "departments/SOCIAL_SECURITY/social-security.wsdl"
    operations: ClassVar[dict[str, str]] = {
        _q("MaritalStatusNotice"): "MaritalStatusNotice",
        _q("ResidenceUpdate"): "ResidenceUpdate",
    }

    def identity_numbers(self, document: etree._Element) -> list[str]:
        return [str(e.get("id")) for e in document.iter() if e.tag in _PEOPLE and e.get("id")]

    def receipt(self, reference: str, *, is_new: bool) -> etree._Element:
        answer = etree.Element(_q("Ack"), nsmap={"si": NS})
        answer.set("status", "accepted" if is_new else "duplicate")
        answer.set("reference", reference)
        return answer

    # -- the clerk --------------------------------------------------------------------------

    def enroll(
        self,
        person: Person,
        *,
        scheme: str,
        employer_credit_code: str,
        day: date,
        region: str,
        insurance_no: str | None = None,
        enrollment_number: str | None = None,
    ) -> str:
        """Enroll a person in a scheme (110 pension ... 510 maternity), push it to the hub;
        return the enrollment number (the idempotency key of the push)."""
        number = enrollment_number or new_number("SI" + region, day)
        document = enrollment(
            person, scheme, insurance_no or number, employer_credit_code, day, region
        )
        self.schemas.validate_xml(document, self.schema)
        self.enter(
            key=number,
            kind=ENROLLMENT,
            path=f"/native/{self.code}",
            content_type=content_type(SOAP12, "UTF-8", ENROLL_ACTION),
            body=envelope(SOAP12, document),
        )
        return number

    def other_routes(self) -> dict[tuple[str, str], Handler]:
        return {
            **super().other_routes(),
            ("POST", "/clerk/enrollments"): self._clerk,
            **query_routes(self),
        }

    def _clerk(self, request: Request) -> Response:
        """{"person": person, "scheme": "110", "employerCreditCode": ..., "date": "YYYY-MM-DD",
        "region": "110105", "insuranceNo"?: ..., "enrollmentNumber"?: ...}"""
        doc = json_object(request.json())
        number = self.enroll(
            Person.from_json(required(doc, "person"), where="person"),
            scheme=str(required(doc, "scheme")),
            employer_credit_code=str(required(doc, "employerCreditCode")),
            day=parse_date(required(doc, "date"), where="date"),
            region=str(required(doc, "region")),
            insurance_no=doc.get("insuranceNo"),
            enrollment_number=doc.get("enrollmentNumber"),
        )
        status = self.store.outbox_entry(number).status
        return json_response(201, {"enrollmentNumber": number, "push": status})


def enrollment(
    person: Person, scheme: str, insurance_no: str, employer: str, day: date, region: str
) -> etree._Element:
    """An EnrollmentNotice in social security's own format."""
    root = etree.Element(_q(ENROLLMENT), nsmap={"si": NS})
    insured = etree.SubElement(root, _q("Insured"), id=person.id_number, sex=str(person.sex_code))
    etree.SubElement(insured, _q("FullName")).text = person.name
    etree.SubElement(insured, _q("BirthDate")).text = person.born.isoformat()
    etree.SubElement(root, _q("Scheme"), code=scheme, insuranceNo=insurance_no)
    etree.SubElement(root, _q("Employer"), creditCode=employer)
    etree.SubElement(root, _q("EnrolledOn")).text = day.isoformat()
    etree.SubElement(root, _q("Region"), code=region)
    return root
