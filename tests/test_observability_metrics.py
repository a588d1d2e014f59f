"""GET /metrics of a real running hub, after real submits, refusals and deliveries, read with
prometheus_client's own parser."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
import zeep.exceptions
from hubstack import HubStack, header, marriage, running_hub
from prometheus_client.parser import text_string_to_metric_families

from hub.api.admission import ByteBudget
from hub.observability.metrics import REGISTRY
from hub.polling import wait_for

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    answer = requests.get(f"{url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_accepted_messages_refusals_and_deliveries(tmp_path: Path) -> None:
    with running_hub(tmp_path) as hub:
        before = scrape(hub.server.url)
        receipt = hub.client().service.Submit(header=header(), message=marriage())
        assert hub.wait_settled(receipt.messageId).state == "delivered"
        with pytest.raises(zeep.exceptions.Fault):
            hub.client().service.Submit(header=header(sender="NOBODY"), message=marriage())
        after = scrape(hub.server.url)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    accepted = {"sender": "MARRIAGE_REGISTRY", "type": "MarriageRegistered"}
    assert grew("govhub_messages_accepted_total", **accepted) == 1
    assert grew("govhub_messages_refused_total", fault="Client.UnknownSender") == 1
    assert sorted(receipt.receivers) == ["SOCIAL_SECURITY", "TAX"]
    for department in receipt.receivers:
        assert grew("govhub_deliveries_total", department=department, outcome="delivered") == 1
        assert grew("govhub_delivery_seconds_count", department=department) == 1
        assert value(after, "govhub_deliveries_pending", department=department, state="queued") == 0
    assert ("govhub_admission_waits_total", ()) in after


def test_metrics_show_pending_legs_and_the_oldest_while_a_department_is_down(
    tmp_path: Path,
) -> None:
    with running_hub(tmp_path) as hub:
        hub.mocks.tax.faults.down()
        receipt = hub.client().service.Submit(header=header(), message=marriage())
        waiting = wait_pending(hub, "TAX")
        hub.mocks.tax.faults.clear()
        assert hub.wait_settled(receipt.messageId).state == "delivered"
        cleared = scrape(hub.server.url)
    assert (
        sum(
            value(waiting, "govhub_deliveries_pending", department="TAX", state=s)
            for s in ("queued", "delivering", "retrying")
        )
        == 1
    )
    assert value(waiting, "govhub_oldest_pending_seconds", department="TAX") > 0
    assert value(waiting, "govhub_deliveries_total", department="TAX", outcome="retry") >= 1
    assert value(cleared, "govhub_oldest_pending_seconds", department="TAX") == 0
    assert value(cleared, "govhub_deliveries_pending", department="TAX", state="retrying") == 0


def wait_pending(hub: HubStack, department: str) -> Samples:
    """A scrape taken once the department's leg failed an attempt and waits to be retried."""

    def retrying() -> Samples | None:
        samples = scrape(hub.server.url)
        if value(samples, "govhub_deliveries_pending", department=department, state="retrying"):
            return samples
        return None

    samples = wait_for(retrying, 15)
    assert samples is not None, "the leg never waited for a retry"
    return samples


def test_a_request_that_waits_for_its_bytes_is_counted_once_one_that_fits_is_not() -> None:
    budget = ByteBudget(capacity=1000, wait_seconds=10, unmetered_bytes=0)
    waits = REGISTRY.get_sample_value("govhub_admission_waits_total") or 0.0
    first = budget.acquire(800)  # fits at once
    second = threading.Thread(target=lambda: budget.acquire(800).release())
    second.start()
    assert wait_for(lambda: budget.waiting == 1, 10)
    first.release()
    second.join(10)
    assert REGISTRY.get_sample_value("govhub_admission_waits_total") == waits + 1
