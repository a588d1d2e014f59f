"""Hubs at three levels as separate `govhub serve` processes (each its own SQLite database,
data folder and free port), joined by a federation file each, with the mock departments each
hub serves. A hub can be killed (SIGKILL) and started again on its port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests
from backends import fresh_postgresql_database
from deployment import free_port

from hub.polling import wait_for
from hub.store import Store
from mock_departments.runner import MockDepartments, start_mock_departments

Process = subprocess.Popen[bytes]
# Which hub is whose parent, by division code (GB/T 2260).
PARENTS = {"320100": "320000", "320102": "320100"}


@dataclass
class FederatedHub:
    division: str
    port: int
    env: dict[str, str]
    data_dir: Path
    logs: Path
    mocks: MockDepartments
    database_url: str
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def federation_file(self) -> Path:
        return self.data_dir.parent / f"federation-{self.division}.toml"

    def start(self) -> None:
        path = self.logs / f"hub-{self.division}-{uuid.uuid4().hex[:6]}.log"
        with path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        process = self.process
        assert wait_for(lambda: self.healthy() or process.poll() is not None, seconds=60)
        assert self.healthy(), f"hub {self.division} did not come up: {path.read_text()[-2000:]}"

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/health", timeout=1).ok
        except requests.RequestException:
            return False

    def store(self) -> Store:
        return Store(self.database_url)


def federation_toml(division: str, hubs: Mapping[str, FederatedHub], secrets: Path) -> str:
    """This hub's file: its division, its parent and its children, each link's secret."""

    def link(other: str) -> str:
        low, high = sorted((division, other))
        return (
            f'division = "{other}"\nendpoint = "{hubs[other].url}/soap"\n'
            f'secret = "file:{secrets / f"link-{low}-{high}"}"\n'
        )

    text = f'division = "{division}"\n'
    if division in PARENTS:
        text += "\n[parent]\n" + link(PARENTS[division])
    for child, parent in PARENTS.items():
        if parent == division:
            text += "\n[[children]]\n" + link(child)
    return text


@contextmanager
def three_hubs(
    tmp_path: Path,
    departments: Mapping[str, list[str]],
    routes: Mapping[str, str],
    *,
    postgresql: bool = False,
) -> Iterator[dict[str, FederatedHub]]:
    """``departments``: the mock departments each hub serves; ``routes``: a routes file's
    text for the hubs that need their own; ``postgresql``: each hub on a PostgreSQL database
    of its own (else SQLite in its data folder)."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for child, parent in PARENTS.items():
        (secrets / f"link-{min(child, parent)}-{max(child, parent)}").write_text(uuid.uuid4().hex)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("GOVHUB_")}
    hubs: dict[str, FederatedHub] = {}
    with ExitStack() as stack:
        for division in ("320000", "320100", "320102"):
            port = free_port()
            root = tmp_path / division
            database_url = (
                stack.enter_context(fresh_postgresql_database())
                if postgresql
                else f"sqlite:///{root / 'hub' / 'hub.db'}"
            )
            mocks = start_mock_departments(
                data_dir=root / "mocks",
                codes=departments[division],
                ports=dict.fromkeys(departments[division], 0),
                hub_url=f"http://127.0.0.1:{port}",
                retry_seconds=0.2,
            )
            stack.callback(mocks.stop)
            env = {
                **base_env,
                "GOVHUB_DATA_DIR": str(root / "hub"),
                "GOVHUB_DATABASE_URL": database_url,
                "GOVHUB_DEPARTMENT_ENDPOINTS": ",".join(
                    f"{code}={url}" for code, url in mocks.endpoints().items()
                ),
                "GOVHUB_FEDERATION_FILE": str(root / f"federation-{division}.toml"),
                "GOVHUB_RELAY_INTERVAL_SECONDS": "0.2",
                "GOVHUB_LEASE_SECONDS": "3",
                "GOVHUB_RETRY_BASE_SECONDS": "0.2",
                "GOVHUB_RETRY_MAX_SECONDS": "1",
                "GOVHUB_CONSUMERS_PER_DEPARTMENT": "2",
            }
            if division in routes:
                routes_file = root / "routes.toml"
                root.mkdir(parents=True, exist_ok=True)
                routes_file.write_text(routes[division], encoding="utf-8")
                env["GOVHUB_ROUTES_FILE"] = str(routes_file)
            logs = root / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            hub = FederatedHub(division, port, env, root / "hub", logs, mocks, database_url)
            hubs[division] = hub
            stack.callback(hub.stop)
        for division, hub in hubs.items():
            hub.federation_file.write_text(federation_toml(division, hubs, secrets))
        for hub in hubs.values():
            hub.start()
        yield hubs
