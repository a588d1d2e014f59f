"""The endpoint probe at registration is off unless asked for, and then answers only
"reachable" or "not reachable": never the error, so the hub is no port scanner."""

from __future__ import annotations

import json
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import zeep
from click.testing import CliRunner
from hubstack import running_hub
from zeep.wsse.username import UsernameToken

from hub.cli import main
from hub.config import Settings
from hub.configuration.admin import ConfigurationAdmin
from hub.configuration.package import read_package
from hub.runtime import configuration_loader
from hub.security.admins import AdminStore
from hub.security.encryption import KeyRing, new_key_text
from hub.store import Store

PACKAGE = Path(__file__).resolve().parent.parent / "examples/departments/PUBLIC_SECURITY"


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[ConfigurationAdmin]:
    store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    store.upgrade()
    try:
        yield ConfigurationAdmin(configuration_loader(Settings(data_dir=tmp_path / "hub"), store))
    finally:
        store.dispose()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A department endpoint that only counts who connects (on a free port)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()


def closed_port() -> int:
    """A free port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def package_at(tmp_path: Path, endpoint: str) -> Path:
    folder = tmp_path / "package"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(PACKAGE, folder)
    description = folder / "department.toml"
    description.write_text(
        description.read_text("utf-8").replace("http://127.0.0.1:8704/soap", endpoint), "utf-8"
    )
    return folder


def connections(server: socket.socket) -> int:
    count = 0
    while True:
        try:
            server.accept()[0].close()
        except BlockingIOError:
            return count
        count += 1


def test_check_and_register_do_not_connect_to_the_endpoint_unless_asked(
    admin: ConfigurationAdmin, listener: socket.socket, tmp_path: Path
) -> None:
    port = listener.getsockname()[1]
    package = read_package(package_at(tmp_path, f"http://127.0.0.1:{port}/soap"))

    checked = admin.check(package)
    registered = admin.register(package, "admin")

    assert connections(listener) == 0
    assert checked.endpoint is None and registered.endpoint is None
    assert checked.warnings == []


def test_a_probe_asked_for_says_reachable(
    admin: ConfigurationAdmin, listener: socket.socket, tmp_path: Path
) -> None:
    port = listener.getsockname()[1]
    package = read_package(package_at(tmp_path, f"http://127.0.0.1:{port}/soap"))

    outcome = admin.check(package, probe_endpoint=True)

    assert (outcome.endpoint, outcome.warnings) == ("reachable", [])
    assert connections(listener) == 1


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:CLOSED/soap", "http://no-such-host.invalid/soap", "http://[::1]:CLOSED/"],
)
def test_an_unreachable_endpoint_reads_the_same_whatever_the_cause(
    admin: ConfigurationAdmin, tmp_path: Path, endpoint: str
) -> None:
    endpoint = endpoint.replace("CLOSED", str(closed_port()))
    package = read_package(package_at(tmp_path, endpoint))

    outcome = admin.check(package, probe_endpoint=True)

    assert (outcome.endpoint, outcome.warnings) == ("not reachable", ["endpoint not reachable"])


def test_govhub_departments_check_probes_with_probe_only(
    listener: socket.socket, tmp_path: Path
) -> None:
    port = listener.getsockname()[1]
    package = package_at(tmp_path, f"http://127.0.0.1:{port}/soap")
    command = ["departments", "check", str(package), "--data-dir", str(tmp_path / "hub")]

    quiet = CliRunner().invoke(main, [*command, "--json"])
    assert quiet.exit_code == 0, quiet.output
    assert json.loads(quiet.stdout)["endpoint"] is None
    assert connections(listener) == 0

    probed = CliRunner().invoke(main, [*command, "--probe"])
    assert probed.exit_code == 0, probed.output
    assert "endpoint: reachable" in probed.stdout
    assert connections(listener) == 1


@pytest.mark.slow
def test_the_config_api_probes_only_when_asked(listener: socket.socket, tmp_path: Path) -> None:
    port = listener.getsockname()[1]
    package = read_package(package_at(tmp_path, f"http://127.0.0.1:{port}/soap")).to_zip()
    keys = new_key_text("k1")
    with running_hub(tmp_path / "stack", encryption_keys=keys) as stack:
        admins = AdminStore(stack.runtime.store.engine, keys=KeyRing.parse(keys))
        account = admins.add("admin-wang", ["read", "configure"], actor="root")
        token = UsernameToken(account.username, account.secret, use_digest=True)
        client = zeep.Client(f"{stack.server.url}/admin?wsdl", wsse=token)

        assert client.service.CheckDepartment(package).endpoint is None
        assert connections(listener) == 0
        assert client.service.CheckDepartment(package, True).endpoint == "reachable"
        assert connections(listener) == 1
