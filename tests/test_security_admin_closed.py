"""/admin answers no one until an admin account exists, in the default `registered` mode too;
the CLI's operations, working on the database directly, are unaffected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from click.testing import CliRunner
from hubstack import HubStack, running_hub

from hub.cli import main
from hub.security import audit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubStack]:
    with running_hub(tmp_path_factory.mktemp("closed")) as running:  # authentication=registered
        yield running


def test_without_an_admin_account_every_admin_call_is_refused_and_audited(
    stack: HubStack,
) -> None:
    client = zeep.Client(f"{stack.server.url}/admin?wsdl")  # the WSDL itself is served

    for call in (
        lambda: client.service.ListMessages(None, False),
        lambda: client.service.Prune(0.0, True, "cleanup", "someone"),
    ):
        with pytest.raises(zeep.exceptions.Fault) as fault:
            call()
        assert fault.value.code.endswith("Client.NotAuthenticated")
        assert "no admin account exists; add one with govhub admins add" in fault.value.message

    with stack.runtime.store.engine.connect() as connection:
        refused = [e.subject for e in audit.entries(connection) if e.action == audit.REFUSED]
    assert refused == ["admin:ListMessages", "admin:Prune"]


def test_admins_list_without_an_account_says_admin_refuses_every_call(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["admins", "list"], env={"GOVHUB_DATABASE_URL": f"sqlite:///{tmp_path}/hub.db"}
    )

    assert result.exit_code == 0, result.output
    assert "/admin refuses every call until `govhub admins add`" in result.output
    assert "open" not in result.output
