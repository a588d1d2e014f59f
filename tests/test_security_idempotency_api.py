"""Through the running hub (zeep for Submit, HTTP for native pushes), on SQLite and
PostgreSQL: a different record under a used idempotency key is Client.IdempotencyConflict
(native: HTTP 409), the same record again is still a duplicate, and the refusal is audited."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import requests
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree
from zeep.exceptions import Fault

from hub.identity import make_number
from hub.security import audit
from mock_departments.people import Person

pytestmark = pytest.mark.slow
ZHANG = Person("Zhang San", make_number("11010519900307", "123"))
TAX_PATH = "/native/TAX/api/v1/address-changes"


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[HubStack]:
    with running_hub(tmp_path, database_url=database_url) as running:
        yield running


def refusals(stack: HubStack) -> list[dict[str, str]]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            {"actor": e.actor, "subject": e.subject, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]


def test_submit_of_another_record_under_a_used_key_is_an_idempotency_conflict(
    stack: HubStack,
) -> None:
    hub = stack.client()
    key = f"J110105-{uuid.uuid4().hex[:8]}"
    first = hub.service.Submit(header=header(idempotencyKey=key), message=marriage())

    with pytest.raises(Fault) as refused:
        hub.service.Submit(
            header=header(idempotencyKey=key),
            message=marriage(registrationNumber="J110105-20260520-0002"),
        )

    assert refused.value.code.endswith("Client.IdempotencyConflict")
    assert key in refused.value.message and first.messageId in refused.value.message
    again = hub.service.Submit(header=header(idempotencyKey=key), message=marriage())
    assert (again.messageId, again.duplicate) == (first.messageId, True)
    last = refusals(stack)[-1]
    assert (last["actor"], last["code"]) == ("MARRIAGE_REGISTRY", "Client.IdempotencyConflict")


def test_submit_of_the_same_record_in_another_envelope_is_a_duplicate(stack: HubStack) -> None:
    hub = stack.client()
    key = f"J110105-{uuid.uuid4().hex[:8]}"
    first = hub.service.Submit(header=header(idempotencyKey=key), message=marriage())
    envelope = hub.create_message(
        hub.service, "Submit", header=header(idempotencyKey=key), message=marriage()
    )
    # Another client's envelope: a namespace it declares but the record does not use,
    # indentation, and UTF-16 on the wire.
    etree.cleanup_namespaces(envelope, top_nsmap={"extra": "urn:example:extra"})
    body = etree.tostring(envelope, pretty_print=True, encoding="UTF-16", xml_declaration=True)

    answer = requests.post(
        stack.soap_url, data=body, headers={"Content-Type": "text/xml; charset=utf-16"}
    )

    assert answer.status_code == 200, answer.text
    assert first.messageId.encode() in answer.content
    assert b">true</" in answer.content  # duplicate
    stored = stack.runtime.store.find_message_id("MARRIAGE_REGISTRY", key)
    assert stored == first.messageId


def test_a_native_push_of_another_record_under_a_used_key_is_409(stack: HubStack) -> None:
    tax = stack.mocks.tax
    bodies = [
        tax.store.outbox_entry(
            tax.record_address_change(
                ZHANG, region_code="110105", line=line, effective=date(2024, 5, day)
            )
        ).body
        for day, line in ((1, "朝阳路1号"), (2, "朝阳路2号"))
    ]
    key = f"addr-{ZHANG.id_number}"

    def push(body: bytes) -> requests.Response:
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
        return requests.post(stack.server.url + TAX_PATH, data=body, headers=headers, timeout=10)

    accepted = push(bodies[0])
    conflict = push(bodies[1])
    repeat = push(bodies[0])

    assert accepted.status_code == 202, accepted.text
    assert conflict.status_code == 409, conflict.text
    refusal = conflict.json()
    assert refusal["error"] == "Client.IdempotencyConflict"
    assert refusal["firstMessageId"] == accepted.json()["messageId"]
    assert refusal["idempotencyKey"].startswith("addr-")
    assert ZHANG.id_number not in conflict.text  # the key's identity number is masked
    assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
    assert repeat.json()["messageId"] == accepted.json()["messageId"]
    assert refusals(stack)[-1]["code"] == "Client.IdempotencyConflict"
