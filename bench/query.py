"""Query: one CitizenDossier from three departments that each answer in 50 ms, through
`govhub serve` (embedded setup). The answer should take the slowest source's time, not the
sum: reported per source (each asked directly, the baseline, in the same run), for Query
through the hub (its p50 and what the hub adds over the slowest source) and for the merge
alone (building the dossier from three answers, in this process).

The sources are the real mock departments (their own protocols and formats) with 50 ms of
fault-injected delay on every answer.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from bench.load import LoadResult, closed_loop
from bench.processes import Fleet
from bench.setups import embedded
from bench.stats import latency_ms, percentile, ratio
from hub.identity import make_number
from hub.mapping import MappingRegistry
from hub.query.config import load_query_config
from hub.query.dossier import Dossier, Outcome, dossier_element
from hub.query.sources import Fact, ask_source
from mock_departments.runner import start_mock_departments

SOURCE_DELAY_SECONDS = 0.05
SUBJECT = make_number("11010519900307", "131")
# (part, department, its own word for the value)
ANSWERS = (
    ("maritalStatus", "MARRIAGE_REGISTRY", "已婚"),
    ("socialInsurance", "SOCIAL_SECURITY", "INSURED"),
    ("address", "TAX", "110105 朝阳区建国路1号"),
)
_QUERY = (
    '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:h="urn:govhub:hub:1"><soapenv:Body><h:Query><h:header>'
    "<h:messageId>0b5f3c1e-8a43-4f1e-9a55-5c8f0d6f7a10</h:messageId><h:sender>TAX</h:sender>"
    "<h:messageType>Query</h:messageType><h:schemaVersion>1.0</h:schemaVersion>"
    "<h:idempotencyKey>bench</h:idempotencyKey><h:purpose>benchmark</h:purpose>"
    "<h:sentAt>2026-12-06T00:00:00Z</h:sentAt></h:header><h:request>"
    f"<h:subject>{SUBJECT}</h:subject><h:part>maritalStatus</h:part>"
    "<h:part>socialInsurance</h:part><h:part>address</h:part>"
    "</h:request></h:Query></soapenv:Body></soapenv:Envelope>"
)


def run(options: Any) -> dict[str, Any]:
    count = max(10, int(options.seconds * 15))  # about what one client asks in that time
    mocks = start_mock_departments(
        data_dir=options.work / "query-mocks",
        ports={code: 0 for _, code, _ in ANSWERS},
        codes=[code for _, code, _ in ANSWERS],
    )
    try:
        for part, code, value in ANSWERS:
            department = mocks.running[code].department
            department.store.put_fact(
                id_number=SUBJECT, topic=part, value=value, as_of="2024-01-10"
            )
            department.faults.slow(SOURCE_DELAY_SECONDS)
        endpoints = mocks.endpoints()
        rows = [_source_row(code, part, endpoints[code], count) for part, code, _ in ANSWERS]
        slowest = max(row["p50_ms"] for row in rows)
        with Fleet(options.work / "logs" / "query") as fleet, embedded(options.work) as env:
            env = {
                **env,
                "GOVHUB_DEPARTMENT_ENDPOINTS": ",".join(f"{c}={u}" for c, u in endpoints.items()),
            }
            _, url = fleet.hub("query", env, "--no-workers")
            body = _QUERY.encode("utf-8")
            closed_loop(url, [body] * 3, concurrency=1, seconds=30)  # warm up
            result = closed_loop(
                url, [body] * count, concurrency=1, seconds=options.seconds, check=_all_answered
            )
        rows.append(_query_row(result, slowest))
        rows.append(_merge_row())
    finally:
        mocks.stop()
    return {
        "name": "query",
        "what": "Query from three sources of 50 ms each: per source, through the hub, merge",
        "concurrency": 1,
        "rows": rows,
    }


def _all_answered(status: int, body: bytes) -> bool:
    """A dossier in which every source answered (a timeout or an error is a failure here)."""
    return status == 200 and body.count(b'status="ok"') == len(ANSWERS)


def _source_row(code: str, part: str, endpoint: str, count: int) -> dict[str, Any]:
    source = load_query_config().sources[code]
    mapping = MappingRegistry().find(code, "answers", part)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        ask_source(source, endpoint, part, SUBJECT, 5.0, mapping)
        latencies.append(time.perf_counter() - started)
    return {
        "operation": f"source {code} ({source.protocol}, asked directly)",
        **latency_ms(latencies),
    }


def _query_row(result: LoadResult, slowest_source_ms: float) -> dict[str, Any]:
    latencies = latency_ms(result.latencies)
    return {
        "operation": "Query through the hub (3 sources in parallel)",
        **latencies,
        "hub_cost_p50_ms": round(latencies["p50_ms"] - slowest_source_ms, 2),
        "ratio_to_slowest_source": ratio(latencies["p50_ms"], slowest_source_ms),
        "ok": result.ok,
        "failed": result.failed,
        "first_failure": result.first_failure[:300],
    }


def _merge_row() -> dict[str, Any]:
    """Building the dossier of three answered parts, in this process."""
    config = load_query_config()
    dossier = Dossier("bench", SUBJECT, "TAX", "benchmark", datetime.now(UTC))
    for part, code, value in ANSWERS:
        fact = Fact(value, date(2024, 1, 10))
        dossier.sections.append(
            (config.parts[part], [Outcome(code, "ok", datetime.now(UTC), (fact,))])
        )
    timings = []
    for _ in range(2000):
        started = time.perf_counter()
        dossier_element(dossier)
        timings.append(time.perf_counter() - started)
    ordered = sorted(timings)
    return {
        "operation": "merge: the dossier of 3 parts",
        "p50_ms": round(percentile(ordered, 0.5) * 1000, 3),
    }
