"""Routes to another hub's department: ``DIVISION/CODE``, or ``{PATH}/CODE`` for "the hub
responsible for the division the record holds at PATH" (the marriage's registration office).
At the city hub (320100): its own division is its own department; a county under it goes to
that child; anything else to the province above."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hubstack import HubStack, header, marriage, running_hub

from hub.errors import ConfigurationError
from hub.routing import RouteEntry, RoutingTable

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
        '[parent]\ndivision = "320000"\nendpoint = "http://127.0.0.1:9/soap"\n'
        f'secret = "file:{tmp_path / "link"}"\n'
        '[[children]]\ndivision = "320102"\nendpoint = "http://127.0.0.1:9/soap"\n'
        f'secret = "file:{tmp_path / "link"}"\n'
    )
    routes = tmp_path / "routes.toml"
    routes.write_text(ROUTES)
    with running_hub(tmp_path, federation_file=str(federation), routes_file=routes) as running:
        yield running


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


def test_a_field_address_outside_the_safe_xpath_subset_is_refused_when_configured() -> None:
    table = RoutingTable.from_entries(
        [
            RouteEntry("MarriageRegistered", "MARRIAGE_REGISTRY", "sends"),
            RouteEntry("MarriageRegistered", "{document('x')}/TAX", "receives"),
        ]
    )
    with pytest.raises(ConfigurationError, match=r"receiver \{document\('x'\)\}/TAX"):
        table.check_against({"MARRIAGE_REGISTRY"})
