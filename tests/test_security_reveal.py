"""Revealing identity numbers needs the `reveal` permission (/admin) and a reason, and writes
an audit entry naming who, which message and why; the CLI refuses --reveal without --reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from backends import IDENTITY_NUMBER, new_message
from click.testing import CliRunner, Result
from hubstack import HUSBAND_ID, HubStack, header, marriage, running_hub
from zeep.wsse.username import UsernameToken

from hub.cli import main
from hub.security import audit
from hub.security.admins import AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.store import Store

KEYS = new_key_text("k1")


def reveal_entries(engine: object) -> list[dict[str, str]]:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return [
            {"actor": e.actor, "subject": e.subject, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == audit.REVEALED
        ]


# --- the CLI -----------------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Store, str]]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    receipt = store.save_accepted(new_message(), ("TAX",), lease_seconds=30)
    yield store, receipt.message_id
    store.dispose()


def govhub(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path)])


def test_the_cli_refuses_reveal_without_a_reason_and_shows_nothing(
    tmp_path: Path, stored: tuple[Store, str]
) -> None:
    store, message_id = stored

    result = govhub(tmp_path, "messages", "show", message_id, "--json", "--reveal")

    assert result.exit_code == 2 and "reason" in result.output
    assert IDENTITY_NUMBER not in result.output
    assert reveal_entries(store.engine) == []


def test_the_cli_reveals_with_a_reason_and_audits_who_which_message_and_why(
    tmp_path: Path, stored: tuple[Store, str]
) -> None:
    store, message_id = stored
    why = "court order 2026-117"

    shown = govhub(
        tmp_path, "messages", "show", message_id, "--json", "--reveal", "--reason", why,
        "--actor", "clerk-wang",
    )  # fmt: skip
    traced = govhub(
        tmp_path, "trace", IDENTITY_NUMBER, "--reveal", "--reason", why, "--actor", "clerk-wang"
    )

    assert shown.exit_code == 0 and IDENTITY_NUMBER in shown.output
    assert traced.exit_code == 0
    entries = reveal_entries(store.engine)
    assert [(e["actor"], e["subject"], e["reason"]) for e in entries] == [
        ("clerk-wang", message_id, why),
        ("clerk-wang", message_id, why),
    ]
    assert IDENTITY_NUMBER not in json.dumps(entries)  # the trace key is masked in the entry


# --- /admin -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("reveal"), encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def accounts(stack: HubStack) -> dict[str, IssuedSecret]:
    store = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    return {
        "reader": store.add("ops-li", ["read"], actor="root"),
        "revealer": store.add("ops-zhao", ["read", "reveal"], actor="root"),
    }


@pytest.fixture(scope="module")
def message_id(stack: HubStack, accounts: dict[str, IssuedSecret]) -> str:
    receipt = stack.client().service.Submit(header=header(), message=marriage())
    stack.wait_settled(receipt.messageId)
    return str(receipt.messageId)


def admin_as(stack: HubStack, issued: IssuedSecret) -> zeep.Client:
    token = UsernameToken(issued.username, issued.secret, use_digest=True)
    return zeep.Client(f"{stack.server.url}/admin?wsdl", wsse=token)


@pytest.mark.slow
def test_a_read_account_may_not_reveal_and_the_refusal_is_audited(
    stack: HubStack, accounts: dict[str, IssuedSecret], message_id: str
) -> None:
    reader = admin_as(stack, accounts["reader"])

    with pytest.raises(zeep.exceptions.Fault) as fault:
        reader.service.ShowMessage(message_id, True, "curious")

    assert fault.value.code.endswith("Client.NotAuthorized")
    assert "reveal" in fault.value.message
    assert HUSBAND_ID not in reader.service.ShowMessage(message_id, False).canonical
    with stack.runtime.store.engine.connect() as connection:
        refused = [
            (e.actor, e.subject, json.loads(e.details)["code"])
            for e in audit.entries(connection)
            if e.action == audit.REFUSED
        ]
    assert ("ops-li", "admin:ShowMessage", "Client.NotAuthorized") in refused
    assert reveal_entries(stack.runtime.store.engine) == []


@pytest.mark.slow
def test_reveal_needs_a_reason_even_with_the_permission(
    stack: HubStack, accounts: dict[str, IssuedSecret], message_id: str
) -> None:
    revealer = admin_as(stack, accounts["revealer"])

    for reason in (None, "  "):
        with pytest.raises(zeep.exceptions.Fault) as fault:
            revealer.service.Trace(HUSBAND_ID, True, reason)
        assert fault.value.code.endswith("Client.ReasonRequired")


@pytest.mark.slow
def test_a_reveal_account_with_a_reason_sees_numbers_and_is_audited_per_message(
    stack: HubStack, accounts: dict[str, IssuedSecret], message_id: str
) -> None:
    revealer = admin_as(stack, accounts["revealer"])

    shown = revealer.service.ShowMessage(message_id, True, "benefit appeal 88")
    listed = revealer.service.ListMessages({"identityNumber": HUSBAND_ID}, True, "appeal 88")

    assert HUSBAND_ID in shown.canonical
    assert message_id in [m.messageId for m in listed]
    entries = reveal_entries(stack.runtime.store.engine)
    assert {"actor": "ops-zhao", "subject": message_id, "reason": "benefit appeal 88"}.items() <= (
        entries[0].items()
    )
    assert [e["via"] for e in entries] == ["ShowMessage", "ListMessages"]
