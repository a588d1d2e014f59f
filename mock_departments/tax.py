"""The tax bureau: REST/JSON, camelCase, ISO 8601 timestamps with zone, sex "M"/"F".

Receives POST /api/v1/marital-events and POST /api/v1/insurance-enrollments with an
Idempotency-Key header: 201 accepted, 200 duplicate, 400 invalid. Its clerk records address
changes, which it pushes to the hub as JSON.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

from mock_departments.answering import query_routes
from mock_departments.department import Handler, MockDepartment
from mock_departments.http import Request, Response, json_response
from mock_departments.people import Person, json_object, new_number, parse_date, required

ADDRESS_CHANGE = "address-change"
BEIJING_TIME = timezone(timedelta(hours=8))
_RECEIVES = {
    "/api/v1/marital-events": ("marital-event", "departments/TAX/marital-event.json"),
    "/api/v1/insurance-enrollments": (
        "insurance-enrollment",
        "departments/TAX/insurance-enrollment.json",
    ),
}


class Tax(MockDepartment):
    code = "TAX"
    name = "Tax bureau"
    reference_prefix = "TAX-"

    def delivery_routes(self) -> dict[tuple[str, str], Handler]:
        return {("POST", path): self.receive for path in _RECEIVES}

    def other_routes(self) -> dict[tuple[str, str], Handler]:
        return {("POST", "/clerk/address-changes"): self._clerk, **query_routes(self)}

    def receive(self, request: Request) -> Response:
        kind, schema = _RECEIVES[request.path]
        document = request.json()
        self.schemas.validate_json(document, schema)
        encoding = request.charset() or "UTF-8"
        reference, is_new = self.keep(
            key=request.headers.get("idempotency-key"),
            body=request.body,
            kind=kind,
            payload=request.body.decode(encoding),
            encoding=encoding.upper(),
            id_numbers=_identity_numbers(document),
        )
        status = "accepted" if is_new else "duplicate"
        return json_response(201 if is_new else 200, {"status": status, "reference": reference})

    def failure(self, request: Request, *, permanent: bool, reason: str) -> Response:
        return json_response(400 if permanent else 500, {"status": "error", "error": reason})

    # -- the clerk --------------------------------------------------------------------------

    def record_address_change(
        self,
        person: Person,
        *,
        region_code: str,
        line: str,
        effective: date,
        postal_code: str | None = None,
        recorded_at: datetime | None = None,
        change_number: str | None = None,
    ) -> str:
        """Record a taxpayer's new address, push it to the hub; return the change number."""
        number = change_number or new_number("ADDR" + region_code, effective)
        address = {"regionCode": region_code, "line": line}
        if postal_code:
            address["postalCode"] = postal_code
        document = {
            "taxpayer": taxpayer(person),
            "address": address,
            "effectiveDate": effective.isoformat(),
            "recordedAt": (recorded_at or datetime.now(BEIJING_TIME)).isoformat("T", "seconds"),
        }
        self.schemas.validate_json(document, "departments/TAX/address-change.json")
        self.enter(
            key=number,
            kind=ADDRESS_CHANGE,
            path=f"/native/{self.code}/api/v1/address-changes",
            content_type="application/json; charset=utf-8",
            body=json.dumps(document, ensure_ascii=False).encode("utf-8"),
        )
        return number

    def _clerk(self, request: Request) -> Response:
        """{"person": person, "regionCode": "110105", "line": ..., "postalCode"?: ...,
        "effectiveDate": "YYYY-MM-DD", "changeNumber"?: ...}"""
        doc = json_object(request.json())
        number = self.record_address_change(
            Person.from_json(required(doc, "person"), where="person"),
            region_code=str(required(doc, "regionCode")),
            line=str(required(doc, "line")),
            effective=parse_date(required(doc, "effectiveDate"), where="effectiveDate"),
            postal_code=doc.get("postalCode"),
            change_number=doc.get("changeNumber"),
        )
        status = self.store.outbox_entry(number).status
        return json_response(201, {"changeNumber": number, "push": status})


def taxpayer(person: Person) -> dict[str, str]:
    return {
        "idNumber": person.id_number,
        "fullName": person.name,
        "sex": {1: "M", 2: "F"}.get(person.sex_code, "U"),
        "birthDate": person.born.isoformat(),
    }


def _identity_numbers(document: Any) -> list[str]:
    people = [document.get(name) for name in ("taxpayer", "spouse")]
    return [str(p["idNumber"]) for p in people if isinstance(p, dict) and "idNumber" in p]
