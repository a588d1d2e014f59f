"""A city hub (320100) as neighbour hubs meet it: a forward from its child county hub
(320102) is delivered to the city's department once however often it comes; forwards from a
hub that is not a neighbour, with the wrong link secret, that passed the city before, or for a
division no hub serves are refused with their own fault, audited; the federation file is read
again when an admin edits it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from backends import EXAMPLES
from hubstack import HubStack, header, marriage, running_hub
from lxml import etree

from hub.federation import FederationConfig, Neighbour
from hub.federation.forwarder import forward_request
from hub.federation.status import ask
from hub.polling import wait_for
from hub.resources import HEADER_NAMESPACE
from hub.security import audit

CITY, COUNTY, PROVINCE = "320100", "320102", "320000"
LINK_SECRET = "county-city-link-secret"


def federation_file(path: Path, county_secret: str) -> None:
    secrets = path.parent
    (secrets / "county.secret").write_text(county_secret)
    (secrets / "province.secret").write_text("province-city-link-secret")
    path.write_text(
        f'division = "{CITY}"\n'
        f'[parent]\ndivision = "{PROVINCE}"\nendpoint = "http://127.0.0.1:9/soap"\n'
        f'secret = "file:{secrets / "province.secret"}"\n'
        f'[[children]]\ndivision = "{COUNTY}"\nendpoint = "http://127.0.0.1:9/soap"\n'
        f'secret = "file:{secrets / "county.secret"}"\n'
    )


@pytest.fixture
def city(tmp_path: Path) -> Iterator[HubStack]:
    path = tmp_path / "federation.toml"
    federation_file(path, LINK_SECRET)
    with running_hub(tmp_path, federation_file=str(path)) as running:
        yield running


def forward(
    stack: HubStack,
    *,
    target: str = f"{CITY}/SOCIAL_SECURITY",
    path: str = COUNTY,
    signed_as: str = COUNTY,
    secret: str = LINK_SECRET,
    key: str | None = None,
) -> requests.Response:
    key = key or str(uuid.uuid4())
    record = etree.parse(str(EXAMPLES / "canonical" / "MarriageRegistered.xml")).getroot()
    fields = {
        "messageId": key,
        "sender": f"{path.split()[0]}/MARRIAGE_REGISTRY",
        "messageType": "MarriageRegistered",
        "schemaVersion": "1.0",
        "idempotencyKey": key,
        "purpose": "marriage registration",
        "sentAt": datetime.now(UTC).isoformat(),
        "forwardedTo": target,
        "hubPath": path,
    }
    return requests.post(
        stack.soap_url,
        data=forward_request(fields, record, signed_as, secret),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )


def answer(response: requests.Response, field: str) -> str | None:
    return etree.fromstring(response.content).findtext(f".//{{{HEADER_NAMESPACE}}}{field}")


def fault_code(response: requests.Response) -> str | None:
    return answer(response, "code")


def audited(stack: HubStack, action: str) -> list[audit.AuditEntry]:
    with stack.runtime.store.engine.connect() as connection:
        return [e for e in audit.entries(connection) if e.action == action]


def test_a_forward_from_the_child_hub_reaches_the_city_department_once(city: HubStack) -> None:
    key = str(uuid.uuid4())
    first, again = forward(city, key=key), forward(city, key=key)

    assert first.status_code == 200, first.text
    assert answer(first, "duplicate") == "false"
    assert answer(again, "duplicate") == "true"  # a repeated forward: no new leg
    store = city.mocks.social_security.store
    assert wait_for(lambda: store.deliveries().received == 1)
    status = city.wait_settled(key)
    assert status.sender == f"{COUNTY}/MARRIAGE_REGISTRY"  # the original sender is kept
    assert [(d.department, d.state) for d in status.deliveries] == [
        ("SOCIAL_SECURITY", "delivered")
    ]
    [received] = audited(city, "forward_received")  # once: the repeat wrote nothing
    assert received.actor == f"{COUNTY}/MARRIAGE_REGISTRY"
    assert json.loads(received.details)["path"] == [COUNTY]
    # Chained with the message's acceptance, in the accept's own transaction.
    [accepted] = [e for e in audited(city, "accepted") if e.subject == received.subject]
    assert received.seq == accepted.seq + 1


@pytest.mark.parametrize(
    ("change", "code", "said"),
    [
        ({"path": "330100", "signed_as": "330100"}, "Client.NotNeighbour", "not a neighbour"),
        ({"secret": "a guessed secret"}, "Client.NotAuthenticated", "hub 320102"),
        ({"path": f"{CITY} {COUNTY}"}, "Client.LoopRefused", "already seen"),
        ({"target": "320105/TAX"}, "Client.UnknownDivision", "no hub serves division 320105"),
        ({"target": f"{CITY}/PUBLIC_SECURITY"}, "Client.NotAuthorized", "PUBLIC_SECURITY"),
    ],
)
def test_a_forward_the_city_may_not_take_is_refused_with_its_reason_and_audited(
    city: HubStack, change: dict[str, str], code: str, said: str
) -> None:
    response = forward(city, **change)

    assert response.status_code == 500, response.text
    assert fault_code(response) == code
    assert said in response.text
    assert [json.loads(e.details)["code"] for e in audited(city, audit.REFUSED)] == [code]
    assert city.mocks.social_security.store.deliveries().received == 0


def test_an_edited_federation_file_is_in_force_without_a_restart(
    city: HubStack, tmp_path: Path
) -> None:
    assert forward(city).status_code == 200

    federation_file(tmp_path / "federation.toml", "the link's new secret")

    # Read again within a second: the old secret is out, the new one in.
    assert wait_for(lambda: fault_code(forward(city)) == "Client.NotAuthenticated", seconds=5)
    assert forward(city, secret="the link's new secret").status_code == 200
    (tmp_path / "federation.toml").write_text("division = 'not a code'")
    time.sleep(1.5)
    # A broken edit is refused in the log; the last good file stays in force.
    assert forward(city, secret="the link's new secret").status_code == 200


def as_hub(division: str, city: HubStack, secret: str) -> FederationConfig:
    """A neighbour's federation configuration, pointing at the city under test."""
    link = Neighbour(CITY, city.soap_url, secret)
    if division == PROVINCE:
        return FederationConfig(PROVINCE, children=(link,))
    return FederationConfig(division, parent=link)


def test_a_neighbour_learns_how_its_own_forwards_went_and_nothing_else(city: HubStack) -> None:
    key = str(uuid.uuid4())
    assert forward(city, key=key).status_code == 200
    city.wait_settled(key)
    local = city.client().service.Submit(header=header(), message=marriage()).messageId

    answer = ask(as_hub(COUNTY, city, LINK_SECRET), f"{CITY}/SOCIAL_SECURITY", key)
    assert answer["hub"] == CITY
    assert [(leg["department"], leg["state"]) for leg in answer["legs"]] == [
        ("SOCIAL_SECURITY", "delivered")
    ]
    # A message the county did not forward, and the county's forward asked by the province:
    # the same answer as an id nobody knows.
    assert ask(as_hub(COUNTY, city, LINK_SECRET), f"{CITY}/TAX", local)["unreachable"] == (
        "HTTP 404"
    )
    province = as_hub(PROVINCE, city, "province-city-link-secret")
    assert ask(province, f"{CITY}/SOCIAL_SECURITY", key)["unreachable"] == "HTTP 404"
    stranger = as_hub("330100", city, "a guessed secret")
    assert ask(stranger, f"{CITY}/SOCIAL_SECURITY", key)["unreachable"] == "HTTP 403"
