"""Three hubs as three `govhub serve` processes (province 320000, city 320100, county
320102), each with its own database (SQLite; and PostgreSQL): a marriage entered at the
county's registry reaches the city's social security office and the province's tax office
once each, through the hubs, hop by hop, with the city hub SIGKILLed and restarted in the
middle."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from federation_hubs import FederatedHub, three_hubs
from hubstack import HUSBAND_ID, WIFE_ID

from hub.polling import wait_for
from hub.security import audit
from hub.store import Store
from mock_departments.people import Person

pytestmark = [pytest.mark.slow]

COUNTY_ROUTES = """
[MarriageRegistered]
senders = ["MARRIAGE_REGISTRY"]
receivers = ["320100/SOCIAL_SECURITY", "320000/TAX"]
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.distributed)])
def hubs(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, FederatedHub]]:
    with three_hubs(
        tmp_path,
        departments={
            "320000": ["TAX"],
            "320100": ["SOCIAL_SECURITY"],
            "320102": ["MARRIAGE_REGISTRY"],
        },
        routes={"320102": COUNTY_ROUTES},
        postgresql=request.param == "postgresql",
    ) as running:
        yield running


def _leg_states(store: Store, message_id: str) -> dict[str, str]:
    return {d.department: d.state for d in store.message_status(message_id).deliveries}


def test_a_county_marriage_reaches_city_and_province_departments_once_with_a_hub_killed(
    hubs: dict[str, FederatedHub],
) -> None:
    county, city, province = hubs["320102"], hubs["320100"], hubs["320000"]
    registry = county.mocks.marriage_registry
    county_store = county.store()

    first = registry.register_marriage(
        Person("张伟", HUSBAND_ID), Person("王芳", WIFE_ID), day=date(2026, 5, 20), office="320102"
    )
    first_id = wait_for(lambda: county_store.find_message_id("MARRIAGE_REGISTRY", first))
    assert first_id is not None
    assert wait_for(
        lambda: (
            _leg_states(county_store, first_id)
            == {"320100/SOCIAL_SECURITY": "delivered", "320000/TAX": "delivered"}
        ),
        seconds=60,
    ), _leg_states(county_store, first_id)

    city.kill()  # SIGKILL: the county's next legs find nobody at the city's address
    second = registry.register_marriage(
        Person("李强", HUSBAND_ID), Person("赵敏", WIFE_ID), day=date(2026, 6, 1), office="320102"
    )
    second_id = wait_for(lambda: county_store.find_message_id("MARRIAGE_REGISTRY", second))
    assert second_id is not None
    assert wait_for(
        lambda: all(d.attempts >= 1 for d in county_store.message_status(second_id).deliveries),
        seconds=30,
    ), county_store.message_status(second_id)
    assert "delivered" not in _leg_states(county_store, second_id).values()  # none got through
    city.start()

    assert wait_for(
        lambda: set(_leg_states(county_store, second_id).values()) == {"delivered"}, seconds=60
    ), county_store.message_status(second_id)
    tax, social = province.mocks.tax.store, city.mocks.social_security.store
    # A leg the killed city had sent but not yet recorded is sent again after its restart:
    # received counts that repeat, so wait until both marriages are applied.
    assert wait_for(lambda: tax.deliveries().applied >= 2 and social.deliveries().applied >= 2)
    for department in (tax, social):
        counts = department.deliveries()
        assert counts.applied == 2, counts
        assert counts.applied_twice == 0, counts
    # `govhub trace` on the county asks the city live, and the city asks the province.
    traced = _trace(county, second_id)
    assert "320000/TAX:\n    hub 320100 (answered" in traced, traced
    assert "      320000/TAX: delivered after 1 attempt(s)" in traced, traced
    assert "        hub 320000 (answered" in traced, traced
    assert "          TAX: delivered" in traced, traced
    assert "320100/SOCIAL_SECURITY:\n    hub 320100 (answered" in traced, traced
    assert "      SOCIAL_SECURITY: delivered" in traced, traced
    province.kill()
    assert "        hub 320000: no answer (ConnectionError)" in _trace(county, second_id)

    # Each hub's audit log says what it forwarded and what it received, and through whom.
    assert _audited(county, "forwarded") == {
        ("320100/SOCIAL_SECURITY", "320100"): 2,
        ("320000/TAX", "320100"): 2,
    }
    assert _audited(city, "forwarded") == {("320000/TAX", "320000"): 2}
    assert _audited(city, "forward_received") == {("320102/MARRIAGE_REGISTRY", "320102"): 4}
    assert _audited(province, "forward_received") == {
        ("320102/MARRIAGE_REGISTRY", "320102 320100"): 2
    }
    county_store.dispose()


def _audited(hub: FederatedHub, action: str) -> dict[tuple[str, str], int]:
    """(to, via) of each leg forwarded, or (sender, path) of each forward received: how
    many. A forward repeated after the kill (answered "duplicate") is the same leg."""
    store = hub.store()
    with store.engine.connect() as connection:
        found = [
            json.loads(e.details) | {"actor": e.actor, "subject": e.subject}
            for e in audit.entries(connection)
            if e.action == action
        ]
    store.dispose()
    if action == "forwarded":
        legs = {d["forwardId"]: (d["to"], d["via"]) for d in found}
        return dict(Counter(legs.values()))
    return dict(Counter((d["actor"], " ".join(d["path"])) for d in found))


def _trace(hub: FederatedHub, message_id: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "trace", message_id],
        env=hub.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout
