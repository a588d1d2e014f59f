"""Submit/s while 200 mailbox departments wait on Receive, against Submit/s alone, same hub,
same run (issue 13: "200 departments waiting at once do not slow Submit").

Each of the 200 callers loops as an exchange node would: Receive(maxMessages=10,
waitSeconds=30) with its UsernameToken; an answer that came back empty before its wait was
up (no wait slot was free) is followed by a 1 s pause before the next call. The hub runs
without workers, so nothing is ever parked: every Receive waits or is turned away, which is
the cost measured. TAX is the mailbox department all 200 log in as (the wait slots are the
hub's, not per department, so one department or 200 cost the same).
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import messages
from bench.load import closed_loop, load_row
from bench.processes import Fleet
from bench.setups import embedded
from hub.config import Settings
from hub.resources import DEFAULTS_ROOT
from hub.security.credentials import CredentialStore
from hub.security.encryption import KeyRing, new_key_text
from hub.security.native_client import with_username_token
from hub.store import Store

WAITING = 200
QUICK_WAITING = 40
PAUSE_AFTER_REFUSED_WAIT = 1.0
SETTLE_SECONDS = 5.0
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
            _, hub_url = fleet.hub("mailbox-hub", env, "--no-workers")
            username, secret = _tax_credential(env, keys)
            rows = _rows(hub_url, options, waiting, (username, secret))
    return {
        "name": "mailbox",
        "what": f"Submit/s while {waiting} departments long-poll Receive, vs Submit/s alone",
        "goal": "ratio close to 1",
        "skipped": None,
        "rows": rows,
    }


def _rows(
    hub_url: str, options: Any, waiting: int, credential: tuple[str, str]
) -> list[dict[str, Any]]:
    count = int(options.seconds * 4000)
    warm = [messages.submit(2_000, n) for n in range(100)]
    closed_loop(hub_url, warm, concurrency=options.concurrency, seconds=30)
    alone = closed_loop(
        hub_url,
        messages.mixed(count, seed=21),
        concurrency=options.concurrency,
        seconds=options.seconds,
    )
    pollers = _Pollers(hub_url, credential, waiting)
    pollers.start()
    try:
        during = closed_loop(
            hub_url,
            messages.mixed(count, seed=22),
            concurrency=options.concurrency,
            seconds=options.seconds,
        )
    finally:
        calls = pollers.stop()
    row = load_row(f"Submit with {waiting} Receives polling", during, alone)
    row["receive_calls"] = calls.calls
    row["receive_waited"] = calls.waited
    row["receive_faults"] = calls.faults
    return [load_row("Submit alone", alone, None), row]


@dataclass
class _Calls:
    calls: int = 0
    waited: int = 0  # answered only when their wait was up (they held a slot)
    faults: int = 0


class _Pollers:
    def __init__(self, hub_url: str, credential: tuple[str, str], count: int) -> None:
        parts = urlsplit(hub_url)
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
        self._stop.set()
        return self._calls  # pollers in a 30 s wait end with the hub (daemon threads)

    def _poll(self) -> None:
        connection = http.client.HTTPConnection(*self._address, timeout=40)
        while not self._stop.is_set():
            body = with_username_token(_RECEIVE, *self._credential)
            started = time.monotonic()
            try:
                connection.request("POST", "/soap", body, {"Content-Type": "text/xml"})
                answer = connection.getresponse().read()
            except (http.client.HTTPException, OSError):
                connection.close()
                connection = http.client.HTTPConnection(*self._address, timeout=40)
                continue
            waited = time.monotonic() - started >= 29
            with self._lock:
                self._calls.calls += 1
                self._calls.waited += waited
                self._calls.faults += b"Fault>" in answer
            if not waited:
                self._stop.wait(PAUSE_AFTER_REFUSED_WAIT)


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
