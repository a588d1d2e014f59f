"""The distributed setup as separate OS processes: `govhub serve --no-workers` and
`govhub worker`s on PostgreSQL and RabbitMQ, the mock departments in the test process.
Processes can be killed (SIGKILL) and restarted, as an operator's bad day would have it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from backends import amqp_url, fresh_postgresql_database
from queue_cleanup import session_queue_prefix

from hub.bus import delete_queues
from hub.polling import wait_for
from hub.store import Store
from mock_departments.runner import MockDepartments, start_mock_departments

DEPARTMENTS = ["MARRIAGE_REGISTRY", "SOCIAL_SECURITY", "TAX", "SUPERVISION"]
# A process's start (imports, waiting for its database and bus) takes a few seconds, and
# many more on a machine as loaded as a shared CI runner; waits return as soon as it is up.
PROCESS_START_SECONDS = 90
Process = subprocess.Popen[bytes]


@dataclass
class Deployment:
    port: int
    env: dict[str, str]
    store: Store
    mocks: MockDepartments
    logs: Path
    api: Process | None = None
    workers: list[Process] = field(default_factory=list)

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_api(self) -> None:
        self.api = self._spawn("api", "serve", "--no-workers", "--port", str(self.port))
        assert wait_for(self.healthy, seconds=PROCESS_START_SECONDS), (
            f"govhub serve did not come up: {self.log_tail('api')}"
        )

    def start_worker(self, *options: str) -> Process:
        worker = self._spawn(f"worker-{len(self.workers)}", "worker", *options)
        self.workers.append(worker)
        return worker

    def log_tail(self, name: str, chars: int = 2000) -> str:
        """The end of the newest log of the process named ``name`` (api, worker-0, …)."""
        logs = sorted(self.logs.glob(f"{name}-*.log"), key=lambda path: path.stat().st_mtime)
        return logs[-1].read_text(errors="replace")[-chars:] if logs else "(no log)"

    def kill(self, process: Process) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.hub_url}/health", timeout=1).ok
        except requests.RequestException:
            return False

    def all_delivered(self, message_ids: list[str]) -> bool:
        return all(self.store.message_status(m).state == "delivered" for m in message_ids)

    def stop(self) -> None:
        running = [p for p in [self.api, *self.workers] if p is not None and p.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def _spawn(self, name: str, *args: str) -> Process:
        log = (self.logs / f"{name}-{uuid.uuid4().hex[:6]}.log").open("wb")
        return subprocess.Popen(
            [sys.executable, "-m", "hub", *args], env=self.env, stdout=log, stderr=log
        )


@contextmanager
def deployed(tmp_path: Path, *, bus: str | None = None, **settings: str) -> Iterator[Deployment]:
    """Database, bus, mocks and the environment; the test starts the processes it wants.
    ``bus``: another bus URL than the test one (e.g. a virtual host of the test's own)."""
    bus = bus or amqp_url()
    prefix = session_queue_prefix()
    port = free_port()
    with fresh_postgresql_database() as database_url:
        mocks = start_mock_departments(
            data_dir=tmp_path / "mocks",
            ports=dict.fromkeys(DEPARTMENTS, 0),
            hub_url=f"http://127.0.0.1:{port}",
            retry_seconds=0.2,
        )
        env = {
            **os.environ,
            "GOVHUB_DATA_DIR": str(tmp_path / "hub"),
            "GOVHUB_DATABASE_URL": database_url,
            "GOVHUB_BUS_URL": bus,
            "GOVHUB_QUEUE_PREFIX": prefix,
            "GOVHUB_DEPARTMENT_ENDPOINTS": ",".join(
                f"{code}={url}" for code, url in mocks.endpoints().items()
            ),
            "GOVHUB_RELAY_INTERVAL_SECONDS": "0.2",
            "GOVHUB_LEASE_SECONDS": "3",
            "GOVHUB_RETRY_BASE_SECONDS": "0.1",
            "GOVHUB_RETRY_MAX_SECONDS": "1",
            **{f"GOVHUB_{key.upper()}": value for key, value in settings.items()},
        }
        subprocess.run(
            [sys.executable, "-m", "hub", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        logs = tmp_path / "logs"
        logs.mkdir()
        deployment = Deployment(port, env, Store(database_url), mocks, logs)
        try:
            yield deployment
        finally:
            deployment.stop()
            deployment.store.dispose()
            mocks.stop()
            delete_queues(bus, DEPARTMENTS, prefix)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
