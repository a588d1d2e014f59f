"""The /metrics labels the issue lists that the other metric tests do not reach: a refusal at
/native counted under its fault code, and a leg a department rejects for good counted as a
"failed" delivery of that department, with its time in the histogram."""

from __future__ import annotations

from pathlib import Path

import requests
from hubstack import header, marriage, running_hub
from test_observability_metrics import Samples, scrape, value

from hub.polling import wait_for


def test_a_native_refusal_and_a_failed_delivery_are_counted_under_their_labels(
    tmp_path: Path,
) -> None:
    with running_hub(tmp_path, max_attempts=2) as hub:
        before = scrape(hub.server.url)
        refused = requests.post(
            f"{hub.server.url}/native/TAX/api/v1/address-changes",
            data=b'{"identityNumber": ',  # not even JSON
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        hub.mocks.tax.faults.fail_next(1, permanent=True)
        receipt = hub.client().service.Submit(header=header(), message=marriage())
        assert hub.wait_settled(receipt.messageId).state == "failed"
        # A worker counts a leg just after its record commits: the message may read settled
        # a moment before its second leg is counted.
        after = wait_for(lambda: _both_legs_counted(before, scrape(hub.server.url)))
        assert after is not None, "the two legs were never both counted"

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    fault = refused.json()["error"]
    assert refused.status_code in (400, 401)
    assert grew("govhub_messages_refused_total", fault=fault) == 1
    assert grew("govhub_deliveries_total", department="TAX", outcome="failed") == 1
    assert grew("govhub_deliveries_total", department="TAX", outcome="delivered") == 0
    assert grew("govhub_delivery_seconds_count", department="TAX") == 1
    assert grew("govhub_deliveries_total", department="SOCIAL_SECURITY", outcome="delivered") == 1


def _both_legs_counted(before: Samples, now: Samples) -> Samples | None:
    counted = sum(
        value(now, "govhub_deliveries_total", department=department, outcome=outcome)
        - value(before, "govhub_deliveries_total", department=department, outcome=outcome)
        for department in ("TAX", "SOCIAL_SECURITY")
        for outcome in ("delivered", "failed", "duplicate")
    )
    return now if counted >= 2 else None
