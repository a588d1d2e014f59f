"""Submit/s while 200 mailbox departments wait on Receive, against Submit/s alone, same hub,
same run (issue 13: "200 departments waiting at once do not slow Submit"). Submit runs alone,
then with the Receives waiting, then alone again once they have ended; the middle run is
compared with the mean of the two around it (the store grows and the machine's other load
moves between runs).

Each of the 200 callers loops as an exchange node would: Receive(maxMessages=10,
waitSeconds=30) with its UsernameToken; an answer that came back empty before its wait was
up (no wait slot was free) is followed by a 1 s pause before the next call. The hub runs
without workers, so nothing is ever parked: every Receive waits or is turned away, which is
the cost measured. TAX is the mailbox department all 200 log in as (the wait slots are the
hub's, not per department, so one department or 200 cost the same).

Beside the rates, each row has the hub process's CPU milliseconds per Submit (user + system,
all its threads, from /proc): on a machine shared with other work the rate moves with the
neighbours' load, the hub's own CPU per request much less. ``cpu_ratio`` is the row's CPU
per Submit against the alone row's (1.0: waiting Receives cost the hub nothing).
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import messages
from bench.load import LoadResult, closed_loop, load_row
from bench.processes import Fleet
from bench.setups import embedded
from bench.stats import ratio
from hub.config import Settings
from hub.resources import DEFAULTS_ROOT
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.security.native_client import with_username_token
from hub.store import Store

WAITING = 200
QUICK_WAITING = 40
WAIT_SECONDS = 30  # each Receive's waitSeconds, the most the hub allows
QUICK_WAIT_SECONDS = 8  # --quick: the pollers end sooner, so "alone, after" starts sooner
PAUSE_AFTER_REFUSED_WAIT = 1.0
SETTLE_SECONDS = 2.0
# After the pollers' first calls, the hub is settled when a second passes with less than this
# much of its CPU (their WS-Security checks done): only then is "during" measured.
QUIET_CPU_SECONDS = 0.05
MAX_SETTLE_SECONDS = 60.0
IDLE_SAMPLE_SECONDS = 2.0
_RECEIVE = (
    b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:h="urn:govhub:hub:1"><soapenv:Body><h:Receive><h:maxMessages>10</h:maxMessages>'
    b"<h:waitSeconds>30</h:waitSeconds></h:Receive></soapenv:Body></soapenv:Envelope>"
)


def run(options: Any) -> dict[str, Any]:
    waiting = QUICK_WAITING if options.quick else WAITING
    keys = new_key_text("bench")
    with embedded(options.work / "mailbox") as env:
        env = {**env, "GOVHUB_ENCRYPTION_KEYS": keys}
        env["GOVHUB_DEPARTMENTS_FILE"] = str(_mailbox_departments(options.work))
        with Fleet(options.work / "logs" / "mailbox") as fleet:
            hub, hub_url = fleet.hub("mailbox-hub", env, "--no-workers")
            username, secret = _tax_credential(env, keys)
            rows = _rows(hub_url, options, waiting, (username, secret), hub.pid)
    return {
        "name": "mailbox",
        "what": f"Submit/s while {waiting} departments long-poll Receive, vs Submit/s alone",
        "goal": "ratio close to 1",
        "skipped": None,
        "rows": rows,
    }


def _rows(
    hub_url: str, options: Any, waiting: int, credential: tuple[str, str], hub_pid: int
) -> list[dict[str, Any]]:
    count = int(options.seconds * 4000)
    warm = [messages.submit(2_000, n) for n in range(100)]
    closed_loop(hub_url, warm, concurrency=options.concurrency, seconds=30)

    def submits(seed: int) -> tuple[LoadResult, float]:
        started = _cpu_seconds(hub_pid)
        result = closed_loop(
            hub_url,
            messages.mixed(count, seed=seed),
            concurrency=options.concurrency,
            seconds=options.seconds,
        )
        return result, _cpu_seconds(hub_pid) - started

    before, before_cpu = submits(21)
    idle_alone = _idle_cpu_ms_per_s(hub_pid)
    wait = QUICK_WAIT_SECONDS if options.quick else WAIT_SECONDS
    pollers = _Pollers(hub_url, credential, waiting, wait)
    pollers.start()
    try:
        _settle(hub_pid)
        idle_waiting = _idle_cpu_ms_per_s(hub_pid)
        during, during_cpu = submits(22)
    finally:
        calls = pollers.stop()
    # Alone again once every Receive has ended: the store grew meanwhile, and the neighbours'
    # load moved; "during" is compared with the mean of the two alone runs around it.
    after, after_cpu = submits(23)
    rows = [
        _row("Submit alone, before", before, before_cpu, idle_alone),
        _row(f"Submit with {waiting} Receives waiting", during, during_cpu, idle_waiting),
        _row("Submit alone, after", after, after_cpu, None),
    ]
    alone_rate = (before.per_second + after.per_second) / 2
    alone_cpu = _mean([rows[0]["cpu_ms_per_submit"], rows[2]["cpu_ms_per_submit"]])
    for row in rows:
        row["ratio"] = ratio(row["per_second"], alone_rate)
        if alone_cpu and row["cpu_ms_per_submit"]:
            row["cpu_ratio"] = round(row["cpu_ms_per_submit"] / alone_cpu, 3)
    rows[1].update(
        receive_calls=calls.calls, receive_waited=calls.waited, receive_faults=calls.faults
    )
    return rows


def _row(name: str, result: LoadResult, cpu: float, idle: float | None) -> dict[str, Any]:
    row = load_row(name, result, None)
    row["cpu_ms_per_submit"] = _per_request_ms(cpu, result.ok)
    if idle is not None:
        row["idle_cpu_ms_per_s"] = idle
    return row


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v]
    return sum(known) / len(known) if known else None


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads (Linux /proc; 0 elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _idle_cpu_ms_per_s(pid: int) -> float:
    """The hub's CPU while no Submit runs (with or without Receives waiting), ms per second."""
    started = _cpu_seconds(pid)
    time.sleep(IDLE_SAMPLE_SECONDS)
    return round((_cpu_seconds(pid) - started) * 1000 / IDLE_SAMPLE_SECONDS, 1)


def _settle(pid: int) -> None:
    """Until the hub has taken every poller's first call (a quiet second), or a minute."""
    deadline = time.monotonic() + MAX_SETTLE_SECONDS
    while time.monotonic() < deadline:
        started = _cpu_seconds(pid)
        time.sleep(1.0)
        if _cpu_seconds(pid) - started < QUIET_CPU_SECONDS:
            return


def _per_request_ms(cpu_seconds: float, requests: int) -> float | None:
    return round(cpu_seconds * 1000 / requests, 3) if cpu_seconds and requests else None


@dataclass
class _Calls:
    calls: int = 0
    waited: int = 0  # answered only when their wait was up (they held a slot)
    faults: int = 0


class _Pollers:
    def __init__(
        self, hub_url: str, credential: tuple[str, str], count: int, wait_seconds: int
    ) -> None:
        parts = urlsplit(hub_url)
        self._wait_seconds = wait_seconds
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._credential = credential
        self._count = count
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._calls = _Calls()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for _ in range(self._count):
            thread = threading.Thread(target=self._poll, daemon=True)
            thread.start()
            self._threads.append(thread)
        time.sleep(SETTLE_SECONDS)  # every poller has asked once and is waiting

    def stop(self) -> _Calls:
        """After each poller's current wait has ended (its connection is closed)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(self._wait_seconds + 10)
        return self._calls

    def _poll(self) -> None:
        connection = http.client.HTTPConnection(*self._address, timeout=self._wait_seconds + 10)
        request = _RECEIVE.replace(
            b"<h:waitSeconds>30<", f"<h:waitSeconds>{self._wait_seconds}<".encode()
        )
        while not self._stop.is_set():
            body = with_username_token(request, *self._credential)
            started = time.monotonic()
            try:
                connection.request("POST", "/soap", body, {"Content-Type": "text/xml"})
                answer = connection.getresponse().read()
            except (http.client.HTTPException, OSError):
                connection.close()
                connection = http.client.HTTPConnection(
                    *self._address, timeout=self._wait_seconds + 10
                )
                continue
            waited = time.monotonic() - started >= self._wait_seconds - 1
            with self._lock:
                self._calls.calls += 1
                self._calls.waited += waited
                self._calls.faults += b"Fault>" in answer
            if not waited:
                self._stop.wait(PAUSE_AFTER_REFUSED_WAIT)
        connection.close()


def _mailbox_departments(work: Path) -> Path:
    text = (DEFAULTS_ROOT / "departments.toml").read_text(encoding="utf-8")
    section = text.index("[TAX]")
    text = text[:section] + text[section:].replace('adapter = "rest"', 'adapter = "mailbox"', 1)
    path = work / "mailbox-departments.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _tax_credential(env: dict[str, str], keys: str) -> tuple[str, str]:
    store = Store(Settings.from_env(env).effective_database_url)
    try:
        issued = CredentialStore(store.engine, keys=KeyRing.parse(keys)).issue("TAX", actor="bench")
    finally:
        store.dispose()
    return issued.username, issued.secret
