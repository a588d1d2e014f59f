"""The tax mock: REST/JSON with an Idempotency-Key header."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.identity import make_number
from mock_departments.runner import RunningDepartment, start_one
from mock_departments.tax import Tax

ZHANG = make_number("11010519900307", "123")
LI = make_number("11010519920611", "124")


@pytest.fixture
def tax(tmp_path: Path) -> Iterator[RunningDepartment]:
    running = start_one(Tax, data_dir=tmp_path, hub_url="http://127.0.0.1:9")
    yield running
    running.stop()


def marital_event(**changes: Any) -> dict[str, Any]:
    event = {
        "eventType": "MARRIAGE",
        "registrationNumber": "J110105-20240520-0001",
        "registeredAt": "2024-05-20T09:30:00+08:00",
        "taxpayer": {"idNumber": ZHANG, "fullName": "张三", "sex": "M"},
        "spouse": {"idNumber": LI, "fullName": "李四", "sex": "F"},
    }
    return {**event, **changes}


def post(
    tax: RunningDepartment,
    document: Any,
    key: str | None = "key-1",
    path: str = "/api/v1/marital-events",
) -> requests.Response:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if key:
        headers["Idempotency-Key"] = key
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return requests.post(tax.url + path, data=body, headers=headers, timeout=10)


def test_tax_accepts_a_marital_event(tax: RunningDepartment) -> None:
    answer = post(tax, marital_event())
    assert answer.status_code == 201
    assert answer.json() == {"status": "accepted", "reference": "TAX-00000001"}
    record = tax.department.store.get("key-1")
    assert (record.kind, record.encoding) == ("marital-event", "UTF-8")
    assert "张三" in record.payload
    assert len(tax.department.store.received_for(LI)) == 1


def test_tax_accepts_an_insurance_enrollment(tax: RunningDepartment) -> None:
    enrollment = {
        "taxpayer": {"idNumber": ZHANG, "fullName": "Zhang San"},
        "insuranceNumber": "SI-1",
        "insuranceType": "PENSION",
        "employerCreditCode": "91110105MA01ABCD2X",
        "enrolledAt": "2024-05-01T00:00:00Z",
        "regionCode": "110105",
    }
    assert post(tax, enrollment, path="/api/v1/insurance-enrollments").status_code == 201
    assert tax.department.store.count("insurance-enrollment") == 1


def test_tax_answers_a_repeated_key_as_a_duplicate(tax: RunningDepartment) -> None:
    post(tax, marital_event())
    again = post(tax, marital_event(eventType="DIVORCE"))
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "reference": "TAX-00000001"}
    assert tax.department.store.count() == 1


def test_without_a_key_identical_content_counts_once(tax: RunningDepartment) -> None:
    assert post(tax, marital_event(), key=None).status_code == 201
    assert post(tax, marital_event(), key=None).status_code == 200
    assert post(tax, marital_event(eventType="DIVORCE"), key=None).status_code == 201


def test_tax_refuses_an_invalid_event_with_a_json_error(tax: RunningDepartment) -> None:
    answer = post(tax, marital_event(eventType="ENGAGEMENT"))
    assert answer.status_code == 400
    assert answer.json()["status"] == "error"
    assert "marital-event.json" in answer.json()["error"]
    assert tax.department.store.count() == 0


def test_tax_refuses_a_body_that_is_not_json(tax: RunningDepartment) -> None:
    answer = requests.post(tax.url + "/api/v1/marital-events", data=b"{oops", timeout=10)
    assert answer.status_code == 400


def test_tax_refuses_a_wrong_identity_check_character(tax: RunningDepartment) -> None:
    wrong = LI[:17] + ("0" if LI[17] != "0" else "1")
    spouse = {"idNumber": wrong, "fullName": "李四"}
    answer = post(tax, marital_event(spouse=spouse))
    assert answer.status_code == 400
    assert wrong not in answer.text


def test_faults_are_set_over_http_and_fail_the_next_deliveries(tax: RunningDepartment) -> None:
    control = requests.post(tax.url + "/_control/faults", json={"fail_next": 1}, timeout=10)
    assert control.json()["fail_next"] == 1
    assert post(tax, marital_event()).status_code == 500
    assert post(tax, marital_event()).status_code == 201


def test_a_permanent_fault_is_a_400(tax: RunningDepartment) -> None:
    requests.post(
        tax.url + "/_control/faults", json={"fail_next": 1, "permanent": True}, timeout=10
    )
    assert post(tax, marital_event()).status_code == 400


def test_a_down_department_still_takes_control_requests(tax: RunningDepartment) -> None:
    requests.post(tax.url + "/_control/faults", json={"down": True}, timeout=10)
    assert post(tax, marital_event()).status_code == 503
    requests.post(tax.url + "/_control/faults", json={"clear": True}, timeout=10)
    assert post(tax, marital_event()).status_code == 201


def test_a_slow_department_still_answers(tax: RunningDepartment) -> None:
    tax.department.faults.slow(0.2)
    assert post(tax, marital_event()).status_code == 201
    assert requests.get(tax.url + "/_control/faults", timeout=10).json()["slow"] == 0.2


def test_control_refuses_unknown_fault_settings(tax: RunningDepartment) -> None:
    answer = requests.post(tax.url + "/_control/faults", json={"explode": 1}, timeout=10)
    assert answer.status_code == 400


def test_what_was_received_can_be_read_over_http(tax: RunningDepartment) -> None:
    post(tax, marital_event())
    summary = requests.get(tax.url + "/_control/received", timeout=10).json()
    assert summary["count"] == 1
    assert summary["by_kind"] == {"marital-event": 1}
    assert summary["records"][0]["idempotency_key"] == "key-1"
