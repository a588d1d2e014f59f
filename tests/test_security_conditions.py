"""Route conditions cannot break or probe the hub: only a safe subset of XPath is accepted
where conditions are configured, and a condition that fails on a record skips that receiver
(recorded on the message) instead of refusing every Submit."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hubstack import HubStack, header, marriage, running_hub

from hub.cli import main
from hub.conditions import Condition, parse_condition
from hub.configuration import state
from hub.configuration.package import describe, read_package
from hub.configuration.state import RouteChange
from hub.errors import ConfigurationError, RegistrationRefused
from hub.operations.render import message_detail
from hub.operations.replay import ReplayRequest, replay
from hub.operations.show import show_message
from hub.polling import wait_for
from hub.routing import RouteEntry

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("document('/etc/passwd')", "function document() is not allowed"),
        ("c:registrationOffice[php:function('x')]", "prefix php: is not allowed"),
        ("c:lookup('x')", "extension functions are not allowed"),
        ("$secret", "variables ($) are not allowed"),
        ("following::c:partyA", "axes (following::) are not allowed"),
        ("c:partyA | c:partyB", "unions (|) are not allowed"),
        ("registrationOffice", "needs the canonical prefix (c:registrationOffice)"),
        ("substring(c:registrationOffice)", "substring() does not take 1 argument(s)"),
        ("c:partyA/c:name" + "/." * 100, "longer than 200 characters"),
    ],
)
def test_a_condition_outside_the_safe_xpath_subset_is_refused_with_the_reason(
    path: str, reason: str
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_condition({"path": path, "prefix": "3201"}, "routes.toml [MarriageRegistered]")

    assert "refused" in refused.value.message
    assert reason in refused.value.message


def test_conditions_inside_the_subset_are_accepted_and_work() -> None:
    for path in (
        "c:registrationOffice",
        "c:partyA/c:identityNumber",
        "normalize-space(substring(c:registrationOffice, 1, 4))",
        "concat(c:partyA/c:sex, '-', c:partyB/c:sex)",
        "//c:partyA[starts-with(c:name, '张') and not(c:sex = '2')]/c:birthDate",
    ):
        assert parse_condition({"path": path, "prefix": "1"}, "here").path == path


def test_routes_add_refuses_a_document_call_and_says_why(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "routes",
            "add",
            "MarriageRegistered",
            "receives",
            "TAX",
            "--when-path",
            "document('http://169.254.169.254/latest/meta-data')",
            "--prefix",
            "1",
            "--actor",
            "admin",
            "--data-dir",
            str(tmp_path),
        ],
    )

    assert result.exit_code != 0
    assert "function document() is not allowed" in result.output


def test_a_package_whose_when_leaves_the_subset_is_refused_at_check(tmp_path: Path) -> None:
    package = tmp_path / "package"
    shutil.copytree(PACKAGE, package)
    description = package / "department.toml"
    description.write_text(
        description.read_text("utf-8").replace(
            'path = "c:registrationOffice"', "path = \"document('/etc/hostname')\""
        ),
        "utf-8",
    )

    with pytest.raises(RegistrationRefused) as refused:
        describe(read_package(package))
    assert any("function document() is not allowed" in r for r in refused.value.reasons)


@pytest.fixture
def stack(tmp_path: Path, database_url: str) -> Iterator[HubStack]:
    with running_hub(tmp_path, database_url=database_url) as running:
        yield running


def store_legacy_condition(stack: HubStack, condition: Condition) -> None:
    """A TAX condition as an older release stored it, before conditions were checked:
    straight into the configuration tables, then every process reloads."""
    entry = RouteEntry("MarriageRegistered", "TAX", "receives", condition, origin="admin")
    at = datetime.now(UTC)
    with stack.runtime.store.engine.begin() as connection:
        state.set_route_change(connection, RouteChange(entry, "add"), entry, at=at, actor="old")
        state.changed(connection, at=at, actor="old", subject="route", details={})
    assert stack.runtime.config.reload()


def test_a_condition_failing_on_a_record_skips_its_receiver_and_the_others_still_get_it(
    stack: HubStack,
) -> None:
    # count() of a string is an XPath error, raised only on records that have a partyA
    store_legacy_condition(stack, Condition("c:partyA[count('x')]", prefixes=("1",)))
    client = stack.client()

    receipt = client.service.Submit(header=header(), message=marriage())

    assert receipt.state == "accepted"
    assert list(receipt.receivers) == ["SOCIAL_SECURITY"]
    status = stack.wait_settled(receipt.messageId)
    legs = {leg.department: (leg.state, leg.last_error) for leg in status.deliveries}
    assert legs["SOCIAL_SECURITY"] == ("delivered", None)
    assert legs["TAX"][0] == "skipped"
    assert "c:partyA[count('x')]" in (legs["TAX"][1] or "")
    shown = message_detail(show_message(stack.runtime.store, receipt.messageId))
    assert "leg TAX: skipped" in shown
    assert "not routed: condition path \"c:partyA[count('x')]\" is not allowed" in shown

    # once the route is fixed, an operator may still send the skipped leg where it belongs
    departments = stack.runtime.departments
    request = ReplayRequest("ops-li", "condition fixed", (receipt.messageId,))
    outcomes = replay(stack.runtime.store, departments, request).outcomes
    assert {o.department: o.result for o in outcomes}["TAX"] == "replayed"

    def tax_leg() -> str | None:
        legs = stack.runtime.store.message_status(receipt.messageId).deliveries
        state = next(leg.state for leg in legs if leg.department == "TAX")
        return state if state == "delivered" else None

    assert wait_for(tax_leg, 20) == "delivered"
