"""SoapAdapter.deliver against a real mock department, against requests.post of the same bytes.

What a delivery worker's thread pays for one SOAP delivery: SOCIAL_SECURITY's native
MarriageRegistered (SOAP 1.2) through ``SoapAdapter.deliver`` to the mock social security
office, served in this process on a free port. The floor is ``requests.post`` of prebuilt
envelope bytes of the same size on a keep-alive session: HTTP alone, no envelope work. Each
delivery has its own idempotency key, so the department stores every one (none is a
duplicate). CPU is the calling thread's (``time.thread_time``: the mock's server threads are
not counted); wall includes the department's answer. The two are measured alternately, in
short rounds, so a neighbour's load hits both alike.

    .venv/bin/python -m bench --only soap_adapter --seconds 4
    .venv/bin/python -m bench.soap_adapter [--seconds S]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from lxml import etree

from adapters._http import new_session
from adapters.base import OutboundDelivery
from adapters.soap import SoapAdapter
from bench.report import print_result
from hub import xmlparse
from hub.departments import DepartmentConfig, DepartmentDirectory
from hub.resources import DEFAULTS_ROOT, HEADER_NAMESPACE
from mock_departments.runner import start_mock_departments

CODE = "SOCIAL_SECURITY"
MESSAGE_TYPE = "MarriageRegistered"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
ACTION = "http://si.example.gov.cn/service/2024/NotifyMaritalStatus"
EXAMPLE = (
    Path(__file__).resolve().parent.parent
    / "examples/mappings/SOCIAL_SECURITY/outbound/MarriageRegistered.out.xml"
)
ROUNDS = 5
# Deliveries per second a thread manages is a few hundred; this bounds one round's count.
SECONDS_TO_DELIVERIES = 400


def run(options: Any) -> dict[str, Any]:
    per_round = max(20, int(options.seconds * SECONDS_TO_DELIVERIES / ROUNDS / 2))
    with tempfile.TemporaryDirectory(prefix="govhub-bench-soap-") as work:
        rows = measure(Path(work), per_round)
    return {
        "name": "soap_adapter",
        "what": f"one thread: SoapAdapter.deliver of {CODE}'s {MESSAGE_TYPE} vs requests.post",
        "goal": "CPU per delivery close to the floor (requests.post of prebuilt bytes)",
        "rows": rows,
    }


def measure(work: Path, per_round: int) -> list[dict[str, Any]]:
    with _social_security(work) as endpoint:
        config = _department(endpoint)
        adapter = SoapAdapter(config)
        floor = _Floor(endpoint, config)
        try:
            cases: dict[str, Callable[[int], _Totals]] = {
                "requests.post (floor)": floor.run,
                "SoapAdapter.deliver": lambda n: _adapter_run(adapter, n),
            }
            totals = {name: _Totals() for name in cases}
            for case in cases.values():  # warm-up: connections, first-call caches
                case(10)
            for _ in range(ROUNDS):
                for name, case in cases.items():
                    totals[name].add(case(per_round))
        finally:
            adapter.close()
            floor.close()
    base = totals["requests.post (floor)"]
    return [total.row(name, base) for name, total in totals.items()]


class _Totals:
    def __init__(self) -> None:
        self.count = 0
        self.cpu = 0.0
        self.wall = 0.0

    def add(self, other: _Totals) -> None:
        self.count += other.count
        self.cpu += other.cpu
        self.wall += other.wall

    def row(self, name: str, base: _Totals) -> dict[str, Any]:
        cpu_us, wall_us = self.cpu / self.count * 1e6, self.wall / self.count * 1e6
        return {
            "case": name,
            "deliveries": self.count,
            "cpu_us": round(cpu_us, 1),
            "wall_us": round(wall_us, 1),
            "cpu_ratio": round(cpu_us / (base.cpu / base.count * 1e6), 2),
            "wall_ratio": round(wall_us / (base.wall / base.count * 1e6), 2),
            "per_second": round(self.count / self.wall, 1),
        }


def _timed(calls: Iterator[Callable[[], object]]) -> _Totals:
    totals = _Totals()
    for call in calls:
        cpu, wall = time.thread_time(), time.perf_counter()
        call()
        totals.cpu += time.thread_time() - cpu
        totals.wall += time.perf_counter() - wall
        totals.count += 1
    return totals


def _adapter_run(adapter: SoapAdapter, count: int) -> _Totals:
    # Documents are parsed before timing: a worker's mapping hands the adapter a fresh tree.
    deliveries = [_delivery(f"bench-{uuid.uuid4()}") for _ in range(count)]
    return _timed((lambda d=d: adapter.deliver(d)) for d in deliveries)  # type: ignore[misc]


class _Floor:
    """requests.post of prebuilt envelopes: what any SOAP client pays at the least."""

    def __init__(self, endpoint: str, config: DepartmentConfig) -> None:
        self._endpoint = endpoint
        self._session = new_session(endpoint)  # the adapters' kind of session
        self._headers = {  # what SoapAdapter sends (tests/test_adapter_soap_envelope.py)
            "SOAPAction": f'"{ACTION}"',
            "Content-Type": f'application/soap+xml; charset=UTF-8; action="{ACTION}"',
        }
        self._timeout = config.timeout_seconds

    def run(self, count: int) -> _Totals:
        bodies = [_envelope_bytes(f"floor-{uuid.uuid4()}") for _ in range(count)]
        return _timed((lambda b=b: self._post(b)) for b in bodies)  # type: ignore[misc]

    def _post(self, body: bytes) -> None:
        response = self._session.post(
            self._endpoint,
            data=body,
            headers=self._headers,
            timeout=self._timeout,
            allow_redirects=False,
        )
        if response.status_code != 200:
            raise RuntimeError(f"the floor's post failed: HTTP {response.status_code}")

    def close(self) -> None:
        self._session.close()


def _delivery(key: str) -> OutboundDelivery:
    return OutboundDelivery(CODE, MESSAGE_TYPE, f"m-{key}", key, xmlparse.parse(_EXAMPLE_BYTES))


def _envelope_bytes(key: str) -> bytes:
    # Built here, not by adapters/soap_envelope.py, so the floor is the same on an older tree.
    envelope = etree.Element(f"{{{SOAP12}}}Envelope", nsmap={"soap-env": SOAP12})
    header = etree.SubElement(envelope, f"{{{SOAP12}}}Header")
    etree.SubElement(header, f"{{{HEADER_NAMESPACE}}}IdempotencyKey").text = key
    etree.SubElement(envelope, f"{{{SOAP12}}}Body").append(xmlparse.parse(_EXAMPLE_BYTES))
    return bytes(etree.tostring(envelope, encoding="UTF-8", xml_declaration=True))


_EXAMPLE_BYTES = EXAMPLE.read_bytes()


def _department(endpoint: str) -> DepartmentConfig:
    config = DepartmentDirectory.from_file(DEFAULTS_ROOT / "departments.toml").get(CODE)
    return replace(config, endpoint=endpoint)


@contextmanager
def _social_security(work: Path) -> Iterator[str]:
    # Nothing listens on port 9: the mock never pushes anything to a hub here.
    mocks = start_mock_departments(
        data_dir=work, ports={CODE: 0}, codes=[CODE], hub_url="http://127.0.0.1:9"
    )
    try:
        yield mocks.endpoints()[CODE]
    finally:
        mocks.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soap_adapter", description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0, help="about how long to run")
    options = parser.parse_args()
    print_result(run(options))


if __name__ == "__main__":
    main()
