"""The real servers, as separate OS processes: `govhub serve`, `govhub worker`, the mock
departments and the echo baseline. Each gets a free port (never 8700-8703) and a log file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

Process = subprocess.Popen[bytes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def peak_rss_mb(process: Process) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    return _status_mb(process.pid, "VmHWM:")


def rss_mb(pid: int) -> float:
    """The process's resident memory now (VmRSS), in MB (0 if it is gone)."""
    return _status_mb(pid, "VmRSS:")


def _status_mb(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Fleet:
    """Every process one benchmark started; ``stop`` ends them all (only these)."""

    logs: Path
    processes: list[Process] = field(default_factory=list)
    by_name: dict[str, Process] = field(default_factory=dict)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Process:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, *args], env={**os.environ, **env}, stdout=log, stderr=log
        )
        self.processes.append(process)
        self.by_name[name] = process
        return process

    def hub(self, name: str, env: dict[str, str], *extra: str) -> tuple[Process, str]:
        port = free_port()
        process = self.spawn(name, ["-m", "hub", "serve", "--port", str(port), *extra], env)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/health", process, self.logs / f"{name}.log")
        return process, url

    def echo(self, env: dict[str, str]) -> tuple[Process, str]:
        port = free_port()
        process = self.spawn("echo", ["-m", "bench.echo", "--port", str(port)], env)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/soap?wsdl", process, self.logs / "echo.log")
        return process, url

    def mocks(self, work: Path, hub_url: str) -> dict[str, str]:
        """The four mock departments in one process; returns GOVHUB_DEPARTMENT_ENDPOINTS."""
        ports = {
            "MARRIAGE_REGISTRY": free_port(),
            "SOCIAL_SECURITY": free_port(),
            "TAX": free_port(),
            "SUPERVISION": free_port(),
        }
        args = ["-m", "hub", "mock-departments", "--data-dir", str(work / "mocks")]
        args += ["--hub-url", hub_url, "--marriage-port", str(ports["MARRIAGE_REGISTRY"])]
        args += ["--social-security-port", str(ports["SOCIAL_SECURITY"])]
        args += ["--tax-port", str(ports["TAX"])]
        args += ["--supervision-port", str(ports["SUPERVISION"])]
        process = self.spawn("mocks", args, {})
        for port in ports.values():
            wait_listening(port, process, self.logs / "mocks.log")
        endpoints = ",".join(
            f"{code}=http://127.0.0.1:{port}{'' if code == 'TAX' else '/soap'}"
            for code, port in ports.items()
        )
        return {"GOVHUB_DEPARTMENT_ENDPOINTS": endpoints}

    def worker(self, name: str, env: dict[str, str]) -> Process:
        return self.spawn(name, ["-m", "hub", "worker"], env)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        self.by_name.clear()

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def wait_healthy(url: str, process: Process, log: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up in {seconds:.0f} s; see {log}")


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def pids_named(*names: str) -> list[int]:
    """Every process whose command name is one of ``names`` (e.g. the database's, the
    broker's: not started by the benchmark, but on the same cores)."""
    found = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text(encoding="ascii").strip() in names:
                found.append(int(comm.parent.name))
        except (OSError, ValueError):
            continue
    return found


def machine_busy_seconds() -> float:
    """CPU seconds spent not idle, summed over every core, since boot (/proc/stat)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def wait_listening(port: int, process: Process, log: Path, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"port {port}: the process exited; see {log}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {seconds:.0f} s; see {log}")
