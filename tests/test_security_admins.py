"""/admin accepts admin accounts only, each with its permissions; through the running hub with
zeep's UsernameToken, and `govhub admins` through click."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from click.testing import CliRunner
from hubstack import HubStack, running_hub
from zeep.wsse.username import UsernameToken

from hub import xmlparse
from hub.cli import main
from hub.errors import NotAuthenticated
from hub.security import audit
from hub.security.admins import AdminGuard, AdminStore
from hub.security.credentials import IssuedSecret
from hub.security.encryption import KeyRing, new_key_text
from hub.security.nonces import MemoryNonceCache
from hub.security.wsse import WsseVerifier
from hub.store import Store

KEYS = new_key_text("k1")


def admin_client(stack: HubStack, issued: IssuedSecret | None = None) -> zeep.Client:
    token = UsernameToken(issued.username, issued.secret, use_digest=True) if issued else None
    return zeep.Client(f"{stack.server.url}/admin?wsdl", wsse=token)


def audit_entries(stack: HubStack, action: str) -> list[dict[str, str]]:
    with stack.runtime.store.engine.connect() as connection:
        return [
            {"actor": e.actor, "subject": e.subject, **json.loads(e.details)}
            for e in audit.entries(connection)
            if e.action == action
        ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("admins"), encryption_keys=KEYS) as running:
        yield running


@pytest.fixture(scope="module")
def accounts(stack: HubStack) -> dict[str, IssuedSecret]:
    store = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(KEYS))
    # while no account exists /admin answers no one (authentication=registered, the demo)
    with pytest.raises(zeep.exceptions.Fault, match="no admin account exists"):
        admin_client(stack).service.ListMessages(None, False)
    return {
        "reader": store.add("ops-li", ["read"], actor="root"),
        "operator": store.add("ops-chen", ["read", "operate"], actor="root"),
    }


@pytest.mark.slow
def test_once_an_admin_account_exists_a_call_without_a_token_is_refused_and_audited(
    stack: HubStack, accounts: dict[str, IssuedSecret]
) -> None:
    with pytest.raises(zeep.exceptions.Fault) as fault:
        admin_client(stack).service.ListMessages(None, False)

    assert fault.value.code.endswith("Client.NotAuthenticated")
    assert any(
        r["subject"] == "admin:ListMessages" and r["code"] == "Client.NotAuthenticated"
        for r in audit_entries(stack, audit.REFUSED)
    )


@pytest.mark.slow
def test_a_read_only_admin_may_list_but_may_not_prune(
    stack: HubStack, accounts: dict[str, IssuedSecret]
) -> None:
    reader = admin_client(stack, accounts["reader"])

    assert reader.service.ListMessages(None, False) == []
    with pytest.raises(zeep.exceptions.Fault) as fault:
        reader.service.Prune(1.0, True, "tidy up", None)

    assert fault.value.code.endswith("Client.NotAuthorized")
    assert "lacks the 'operate' permission needed for Prune" in fault.value.message
    assert any(
        r["actor"] == "ops-li" and r["code"] == "Client.NotAuthorized"
        for r in audit_entries(stack, audit.REFUSED)
    )


@pytest.mark.slow
def test_an_operator_may_prune_and_a_wrong_secret_is_refused(
    stack: HubStack, accounts: dict[str, IssuedSecret]
) -> None:
    operator = admin_client(stack, accounts["operator"])
    wrong = IssuedSecret("ops-chen", "", accounts["operator"].secret + "x", 1)

    assert operator.service.Prune(1.0, True, "tidy up", None).dryRun is True
    with pytest.raises(zeep.exceptions.Fault) as fault:
        admin_client(stack, wrong).service.ListMessages(None, False)
    assert fault.value.code.endswith("Client.NotAuthenticated")


def run(tmp_path: Path, *args: str, code: int = 0) -> str:
    env = {"GOVHUB_DATA_DIR": str(tmp_path), "GOVHUB_ENCRYPTION_KEYS": KEYS}
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_admins_add_grant_revoke_and_list_are_audited_and_list_never_shows_a_secret(
    tmp_path: Path,
) -> None:
    added = json.loads(
        run(tmp_path, "admins", "add", "ops-li", "read", "--actor", "root", "--json")
    )
    run(tmp_path, "admins", "grant", "ops-li", "operate", "--actor", "root")
    run(tmp_path, "admins", "revoke", "ops-li", "read", "--actor", "root")
    listed = run(tmp_path, "admins", "list", "--json")
    run(tmp_path, "admins", "revoke", "ops-li", "--actor", "root")

    assert added["secret"] not in listed
    assert json.loads(listed)[0]["permissions"] == ["operate"]
    assert "revoked" in run(tmp_path, "admins", "list")
    assert json.loads(run(tmp_path, "audit", "verify", "--json"))["entries"] == 4
    refused = run(tmp_path, "admins", "grant", "ops-li", "delete", "--actor", "root", code=2)
    assert "'delete' is not one of" in refused


def test_admin_is_closed_before_the_first_account_and_again_after_revoking_every_one(
    tmp_path: Path,
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    accounts = AdminStore(store.engine, keys=KeyRing.parse(KEYS))
    verifier = WsseVerifier(accounts, MemoryNonceCache(), authentication="required")
    guard = AdminGuard(accounts, verifier)
    envelope = xmlparse.parse(
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
    )
    try:
        with pytest.raises(NotAuthenticated, match="no admin account exists"):
            guard.check(envelope, "ListMessages")
        accounts.add("ops-li", ["read"], actor="root")
        accounts.revoke("ops-li", actor="root")

        with pytest.raises(NotAuthenticated, match="every admin account is revoked"):
            guard.check(envelope, "ListMessages")
    finally:
        store.dispose()
