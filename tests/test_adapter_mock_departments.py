"""The built-in adapters against the real mock departments, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from fixtures.adapters.samples import department

from adapters.base import Adapter, NativeDocument, OutboundDelivery
from adapters.registry import load_adapter
from hub import xmlparse
from hub.errors import PermanentDeliveryError, RetryableDeliveryError
from mock_departments.runner import DEPARTMENTS, MockDepartments, start_mock_departments

EXAMPLES = Path(__file__).parent.parent / "examples" / "mappings"
OUTBOUND = [
    ("MARRIAGE_REGISTRY", "AddressChanged", "AddressChanged.out.xml"),
    ("SOCIAL_SECURITY", "MarriageRegistered", "MarriageRegistered.out.xml"),
    ("SOCIAL_SECURITY", "DivorceRegistered", "DivorceRegistered.out.xml"),
    ("SOCIAL_SECURITY", "AddressChanged", "AddressChanged.out.xml"),
    ("TAX", "MarriageRegistered", "MarriageRegistered.out.json"),
    ("TAX", "DivorceRegistered", "DivorceRegistered.out.json"),
    ("TAX", "InsuredPersonEnrolled", "InsuredPersonEnrolled.out.json"),
]


@pytest.fixture(scope="module")
def mocks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockDepartments]:
    ports = dict.fromkeys(DEPARTMENTS, 0)
    data_dir = tmp_path_factory.mktemp("mocks")
    # Nothing listens on port 9: the mocks' own pushes to a hub simply wait.
    with start_mock_departments(data_dir=data_dir, ports=ports, hub_url="http://127.0.0.1:9") as m:
        yield m


def adapter_for(mocks: MockDepartments, code: str) -> Adapter:
    return load_adapter(department(code, endpoint=mocks.endpoints()[code]))


def example(code: str, file_name: str) -> NativeDocument:
    data = (EXAMPLES / code / "outbound" / file_name).read_bytes()
    return json.loads(data) if file_name.endswith(".json") else xmlparse.parse(data)


def delivery(code: str, message_type: str, file_name: str, key: str) -> OutboundDelivery:
    return OutboundDelivery(code, message_type, f"m-{key}", key, example(code, file_name))


@pytest.mark.parametrize(("code", "message_type", "file_name"), OUTBOUND)
def test_each_example_is_accepted_once_then_reported_as_duplicate(
    mocks: MockDepartments, code: str, message_type: str, file_name: str
) -> None:
    adapter = adapter_for(mocks, code)
    sent = delivery(code, message_type, file_name, f"key-{code}-{message_type}")
    first = adapter.deliver(sent)
    again = adapter.deliver(replace(sent, message_id="m-again"))
    adapter.close()
    assert first.status == "accepted" and first.reference
    assert again.status == "duplicate"


@pytest.mark.parametrize("code", ["MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX"])
def test_a_failing_department_is_retryable_and_a_rejecting_one_permanent(
    mocks: MockDepartments, code: str
) -> None:
    _, message_type, file_name = next(row for row in OUTBOUND if row[0] == code)
    faults = mocks.running[code].department.faults
    adapter = adapter_for(mocks, code)
    faults.fail_next(1)
    with pytest.raises(RetryableDeliveryError):
        adapter.deliver(delivery(code, message_type, file_name, f"fail-{code}"))
    faults.fail_next(1, permanent=True)
    with pytest.raises(PermanentDeliveryError):
        adapter.deliver(delivery(code, message_type, file_name, f"reject-{code}"))
    faults.down()
    try:
        with pytest.raises(RetryableDeliveryError, match="HTTP 503"):
            adapter.deliver(delivery(code, message_type, file_name, f"down-{code}"))
    finally:
        faults.clear()
        adapter.close()


def test_one_soap_adapter_serves_several_worker_threads_at_once(mocks: MockDepartments) -> None:
    adapter = adapter_for(mocks, "SOCIAL_SECURITY")
    sent = [
        delivery("SOCIAL_SECURITY", "AddressChanged", "AddressChanged.out.xml", f"thread-{n}")
        for n in range(8)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(adapter.deliver, sent))
    adapter.close()
    assert [result.status for result in results] == ["accepted"] * 8
    assert len({result.reference for result in results}) == 8
