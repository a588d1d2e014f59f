"""Routes to another hub's department: ``DIVISION/CODE``, or ``{PATH}/CODE`` for "the hub
responsible for the division the record holds at PATH" (the marriage's registration office).
At the city hub (320100): its own division is its own department; a county under it goes to
that child; anything else to the province above."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from hubstack import HubStack, header, marriage, running_hub

from hub.errors import ConfigurationError
from hub.polling import wait_for
from hub.routing import RouteEntry, RoutingTable
from hub.store.records import DeliveryStatus

ROUTES = """
[MarriageRegistered]
senders = ["MARRIAGE_REGISTRY"]
receivers = ["{c:registrationOffice}/TAX", "320000/SOCIAL_SECURITY"]
"""


@pytest.fixture
def city(tmp_path: Path) -> Iterator[HubStack]:
    (tmp_path / "link").write_text("a link secret")
    federation = tmp_path / "federation.toml"
    federation.write_text(
        'division = "320100"\n'
        '[parent]\ndivision = "320000"\nendpoint = "http://province-hub.test/soap"\n'
        f'secret = "file:{tmp_path / "link"}"\n'
        '[[children]]\ndivision = "320102"\nendpoint = "http://127.0.0.1:9/soap"\n'
        f'secret = "file:{tmp_path / "link"}"\n'
    )
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    with (
        responses.RequestsMock(assert_all_requests_are_fired=False) as province,
        running_hub(tmp_path, federation_file=str(federation), routes_file=routes) as running,
    ):
        province.add_passthru(re.compile(r"http://127\.0\.0\.1"))  # the hub, mocks, the child
        province.add(responses.POST, PROVINCE_SOAP, body=PROVINCE_SAYS_NO, status=500)
        yield running


PROVINCE_SOAP = "http://province-hub.test/soap"
# The province hub (a fake: it is outside this test's hub) refuses every forward.
PROVINCE_SAYS_NO = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:h="urn:govhub:hub:1"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode>
 <faultstring>no</faultstring><detail><h:HubFault><h:code>Client.UnknownDivision</h:code>
 <h:reason>no hub serves division 440100 (asked at 320000)</h:reason></h:HubFault></detail>
 </soapenv:Fault></soapenv:Body></soapenv:Envelope>"""


@pytest.mark.parametrize(
    ("office", "legs"),
    [
        ("320100", ["TAX", "320000/SOCIAL_SECURITY"]),  # the city's own office: its own TAX
        ("320102", ["320102/TAX", "320000/SOCIAL_SECURITY"]),  # a county below: forwarded
        ("440100", ["440100/TAX", "320000/SOCIAL_SECURITY"]),  # elsewhere: up to the province
    ],
)
def test_a_marriage_goes_to_the_tax_office_of_the_division_that_registered_it(
    city: HubStack, office: str, legs: list[str]
) -> None:
    receipt = city.client().service.Submit(
        header=header(), message=marriage(registrationOffice=office)
    )

    assert list(receipt.receivers) == legs
    status = city.runtime.store.message_status(receipt.messageId)
    assert [d.department for d in status.deliveries] == legs


def test_a_forward_the_next_hub_refuses_fails_at_once_and_one_nobody_answers_is_retried(
    city: HubStack,
) -> None:
    up = city.client().service.Submit(
        header=header(), message=marriage(registrationOffice="440100")
    )
    down = city.client().service.Submit(
        header=header(), message=marriage(registrationOffice="320102")
    )

    refused = city.wait_settled(up.messageId)
    leg = next(d for d in refused.deliveries if d.department == "440100/TAX")
    assert (leg.state, leg.attempts) == ("failed", 1)
    assert leg.last_error == (
        "PermanentDeliveryError: hub 320000 refused the forward: Client.UnknownDivision: "
        "no hub serves division 440100 (asked at 320000)"
    )
    store = city.runtime.store

    def child_leg() -> DeliveryStatus:
        status = store.message_status(down.messageId)
        return next(d for d in status.deliveries if d.department == "320102/TAX")

    assert wait_for(lambda: child_leg().attempts >= 2), child_leg()
    assert child_leg().state in ("retrying", "queued", "delivering")
    assert "hub 320102 cannot be reached" in (child_leg().last_error or "")


def test_a_field_address_outside_the_safe_xpath_subset_is_refused_when_configured() -> None:
    table = RoutingTable.from_entries(
        [
            RouteEntry("MarriageRegistered", "MARRIAGE_REGISTRY", "sends"),
            RouteEntry("MarriageRegistered", "{document('x')}/TAX", "receives"),
        ]
    )
    with pytest.raises(ConfigurationError, match=r"receiver \{document\('x'\)\}/TAX"):
        table.check_against({"MARRIAGE_REGISTRY"})
