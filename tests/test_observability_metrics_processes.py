"""Metrics of the distributed setup: `govhub serve --no-workers` and two `govhub worker
--metrics-port 0` processes; the sum over the processes is the hub's count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import zeep
from deployment import PROCESS_START_SECONDS, Deployment, deployed
from hubstack import header, marriage
from prometheus_client.parser import text_string_to_metric_families

from hub.polling import wait_for

pytestmark = [pytest.mark.distributed, pytest.mark.slow]

MESSAGES = 6


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with deployed(tmp_path) as running:
        running.start_api()
        running.start_worker("--metrics-port", "0")
        running.start_worker("--metrics-port", "0")
        yield running


def test_api_and_each_worker_expose_their_counts_and_together_they_are_the_hubs(
    deployment: Deployment,
) -> None:
    listed = wait_for(
        lambda: len(metrics_urls(deployment.logs)) == 2, seconds=PROCESS_START_SECONDS
    )
    assert listed, "each worker says where its metrics are"
    workers = metrics_urls(deployment.logs)
    client = zeep.Client(f"{deployment.hub_url}/soap?wsdl")
    ids = [
        client.service.Submit(
            header=header(), message=marriage(registrationNumber=f"J110105-20260520-{n:04d}")
        ).messageId
        for n in range(MESSAGES)
    ]
    assert wait_for(lambda: deployment.all_delivered(ids), seconds=60)

    api = scrape(f"{deployment.hub_url}/metrics")
    per_worker = [scrape(url) for url in workers]
    accepted = ("MARRIAGE_REGISTRY", "MarriageRegistered")
    assert api[("govhub_messages_accepted_total", accepted)] == MESSAGES
    for department in ("SOCIAL_SECURITY", "TAX"):
        delivered = ("govhub_deliveries_total", (department, "delivered"))
        assert sum(samples.get(delivered, 0) for samples in per_worker) == MESSAGES
        assert api.get(delivered, 0) == 0  # the API process delivers nothing
        for samples in (api, *per_worker):  # the database's gauges, the same in every process
            assert samples[("govhub_deliveries_pending", (department, "queued"))] == 0


def metrics_urls(logs: Path) -> list[str]:
    text = "".join(path.read_text() for path in sorted(logs.glob("worker-*.log")))
    return re.findall(r"govhub worker metrics on (http://\S+/metrics)", text) or []


def scrape(url: str) -> dict[tuple[str, tuple[str, ...]], float]:
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    return {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }
