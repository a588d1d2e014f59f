"""The supervision office receives the signals: each one the hub issues, and each one it
closes when the case is corrected, travels the normal path (a stored message from HUB, a leg
to SUPERVISION, its attempt, the audit, GetStatus) to the mock department SUPERVISION, which
keeps it in its own format."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hubstack import HUSBAND_ID, HubStack, header, running_hub
from lxml import etree
from test_supervision_cli import SHANGHAI

from hub.polling import wait_for
from hub.supervision import signal_issuer
from hub.supervision.signals import SignalIssuer
from mock_departments.supervision import NS

pytestmark = pytest.mark.slow

CASE = "MZ-20260930-0001"


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[HubStack]:
    # The worker's own pass is off: the test runs passes at the moments it chooses.
    with running_hub(
        tmp_path, database_url=database_url, supervision_evaluate_seconds=0
    ) as running:
        yield running


def issuer(stack: HubStack) -> SignalIssuer:
    runtime = stack.runtime
    settings = replace(runtime.settings, supervision_evaluate_seconds=60)
    made = signal_issuer(
        settings,
        runtime.store.engine,
        store=runtime.store,
        publisher=runtime.publisher,
        routes=runtime.routes,
    )
    assert made is not None
    return made


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SHANGHAI)


def submit(stack: HubStack, message_type: str, record: dict[str, object]) -> None:
    stack.client().service.Submit(
        header=header(message_type, "MARRIAGE_REGISTRY"), message={message_type: record}
    )


def accept(stack: HubStack) -> None:
    """The marriage registry reports a case it accepted on 30 September (committed limit:
    3 working days, due on the make-up Saturday 10 October)."""
    record = {
        "itemCode": "MZ-HYDJ-001",
        "caseNumber": CASE,
        "applicant": {"identityNumber": HUSBAND_ID},
        "acceptedAt": at(9, 30),
        "department": "MARRIAGE_REGISTRY",
    }
    submit(stack, "CaseAccepted", record)


def received(stack: HubStack, count: int) -> list[dict[str, str]]:
    """The signal notices SUPERVISION kept, once it has ``count`` of them, by rule."""
    office = stack.mocks.supervision.store
    assert wait_for(lambda: office.count() >= count, 30), office.count()
    notices = []
    for record in office.received(limit=100):
        document = etree.fromstring(record.payload.encode("utf-8"))
        assert document.tag == f"{{{NS}}}XHTZ"
        notices.append({etree.QName(e).localname: e.text or "" for e in document})
    return sorted(notices, key=lambda n: (n["GZ"], "JCSJ" in n))


def test_signals_issued_and_closed_reach_the_supervision_office(stack: HubStack) -> None:
    accept(stack)
    one = issuer(stack)

    first = one.leased_pass(at(10, 9))
    issued = received(stack, 2)
    submit(
        stack,
        "CaseConcluded",
        {"caseNumber": CASE, "outcome": "withdrawn", "concludedAt": at(10, 9, 16)},
    )
    second = one.leased_pass(at(10, 12))
    everything = received(stack, 4)

    assert first is not None and len(first.issued) == 2
    assert second is not None and len(second.closed) == 2
    assert [(n["XHLB"], n["GZ"], n["BJBH"], n["SXBM"], n["BMDM"]) for n in issued] == [
        ("HD", "committed-deadline-near", CASE, "MZ-HYDJ-001", "MARRIAGE_REGISTRY"),
        ("HP", "step-overdue:handled", CASE, "MZ-HYDJ-001", "MARRIAGE_REGISTRY"),
    ]
    near = issued[0]
    assert (near["QX"], near["FCSJ"]) == ("20261010", "2026-10-09T10:00:00+08:00")
    closed = [n for n in everything if "JCSJ" in n]
    assert [(n["GZ"], n["JCSJ"], n["JCYY"]) for n in closed] == [
        ("committed-deadline-near", "2026-10-12T10:00:00+08:00", "ZG"),
        ("step-overdue:handled", "2026-10-12T10:00:00+08:00", "ZG"),
    ]
    assert stack.mocks.supervision.store.deliveries().applied_twice == 0


def test_get_status_follows_a_signal_like_any_message(stack: HubStack) -> None:
    accept(stack)
    issuer(stack).leased_pass(at(10, 12))
    key = f"supervision:{CASE}:not-concluded-in-time:issued"
    message_id = stack.runtime.store.find_message_id("HUB", key)
    assert message_id is not None

    stack.wait_settled(message_id)
    status = stack.client().service.GetStatus(message_id)

    assert (status.state, status.messageType, status.sender) == (
        "delivered",
        "SupervisionSignal",
        "HUB",
    )
    assert [(leg.department, leg.state, leg.attempts) for leg in status.deliveries] == [
        ("SUPERVISION", "delivered", 1)
    ]
