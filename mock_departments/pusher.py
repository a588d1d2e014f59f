"""Pushes a mock's outbox (what its clerks entered) to the hub, and retries in the background.

2xx: pushed. 4xx: rejected (kept, with the hub's answer). Unreachable or 5xx: stays pending and
is tried again every ``retry_seconds``; the idempotency key makes a repeat harmless.
"""

from __future__ import annotations

import logging
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from hub.errors import ConfigurationError
from hub.identity import mask_in_text
from hub.security.native_client import authorization_header, with_username_token
from mock_departments.store import PENDING, PUSHED, REJECTED, MockStore, OutboxEntry

log = logging.getLogger(__name__)

DEFAULT_HUB_URL = "http://127.0.0.1:8700"
DEFAULT_RETRY_SECONDS = 2.0
DEFAULT_TIMEOUT_SECONDS = 10.0
_ERROR_CHARS = 500


@dataclass(frozen=True)
class PushCredentials:
    """A credential the hub issued (``govhub credentials issue``): SOAP pushes carry it as a
    WS-Security UsernameToken, other pushes as an HMAC Authorization header."""

    username: str
    secret: str

    def __repr__(self) -> str:  # a stray log line never carries the secret
        return f"PushCredentials({self.username!r})"


def load_credentials(path: Path) -> dict[str, PushCredentials]:
    """``[DEPARTMENT] username = "…" secret = "…"`` tables of a TOML file, by department."""
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read credentials file {path}: {exc}") from exc
    found: dict[str, PushCredentials] = {}
    for code, table in tables.items():
        if not isinstance(table, dict) or not isinstance(table.get("secret"), str):
            raise ConfigurationError(f"credentials file {path}: [{code}] needs a secret")
        found[code.upper()] = PushCredentials(str(table.get("username") or code), table["secret"])
    return found


def signed(
    credentials: PushCredentials | None, url: str, content_type: str, body: bytes
) -> tuple[bytes, dict[str, str]]:
    """The body and extra headers of one push with ``credentials`` (fresh nonce and time)."""
    if credentials is None:
        return body, {}
    if content_type.startswith(("text/xml", "application/soap+xml")):
        return with_username_token(body, credentials.username, credentials.secret), {}
    path = urlsplit(url).path
    value = authorization_header(credentials.username, credentials.secret, "POST", path, body)
    return body, {"Authorization": value}


class Pusher:
    """Pushes outbox entries of one store to ``hub_url()``; thread-safe."""

    def __init__(
        self,
        store: MockStore,
        hub_url: Callable[[], str],
        *,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        credentials: PushCredentials | None = None,
    ) -> None:
        self.store = store
        self.hub_url = hub_url
        # None: pushes go unauthenticated (a hub where this department has no credentials).
        self.credentials = credentials
        self.retry_seconds = retry_seconds
        self.timeout_seconds = timeout_seconds
        self._session = requests.Session()
        self._push_lock = threading.Lock()  # one push at a time: no double send of one entry
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def push(self, entry: OutboxEntry) -> str:
        """Try one entry once; record and return its new status."""
        with self._push_lock:
            current = self.store.outbox_entry(entry.idempotency_key).status
            if current != PENDING:  # the other thread got there first
                return current
            status, error = self._send(entry)
            self.store.mark(entry.id, status, error)
        if status == PENDING:
            log.info("push of %s to the hub failed, will retry: %s", entry.kind, error)
        return status

    def push_pending(self) -> int:
        """One pass over the pending entries, oldest first; stop at the first failure."""
        pushed = 0
        for entry in self.store.outbox(status=PENDING):
            if self._stopping.is_set() or self.push(entry) == PENDING:
                break
            pushed += 1
        return pushed

    def _send(self, entry: OutboxEntry) -> tuple[str, str | None]:
        headers = {"Content-Type": entry.content_type, "Idempotency-Key": entry.idempotency_key}
        if entry.content_type.startswith("text/xml"):
            headers["SOAPAction"] = '""'  # SOAP 1.1 wants the header; the URL says the intent
        url = self.hub_url().rstrip("/") + entry.path
        body, extra = signed(self.credentials, url, entry.content_type, entry.body)
        try:
            answer = self._session.post(
                url, data=body, headers=headers | extra, timeout=self.timeout_seconds
            )
        except requests.RequestException as exc:
            return PENDING, f"hub unreachable: {exc.__class__.__name__}"
        if answer.ok:
            return PUSHED, None
        error = mask_in_text(f"HTTP {answer.status_code}: {answer.text[:_ERROR_CHARS]}")
        return (REJECTED if answer.status_code < 500 else PENDING), error

    # -- background retries -----------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="mock-pusher", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_seconds + 1)
            self._thread = None
        self._session.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.retry_seconds)
            self._wake.clear()
            try:
                self.push_pending()
            except Exception:  # a retry loop must survive anything; the entry stays pending
                log.exception("outbox pass failed")
