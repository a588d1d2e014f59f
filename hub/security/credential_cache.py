"""Department credentials remembered for a moment, so that a request does not cost two or
three database reads (and the opening of sealed secrets) before any real work.

A change (issue, rotate, revoke, a new certificate) made anywhere takes effect everywhere
within ``seconds``, as configuration changes do. Nonces are never cached: replay protection
stays exact (hub/security/nonces.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from hub.security.credentials import StoredCredential
from hub.security.wsse import CredentialSource

T = TypeVar("T")


class CachedCredentials:
    """A CredentialSource in front of another, each answer kept for ``seconds``."""

    def __init__(
        self,
        source: CredentialSource,
        seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._seconds = seconds
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, object]] = {}
        self._lock = threading.Lock()

    def lookup(self, username: str) -> StoredCredential | None:
        return self._cached("lookup", username, self._source.lookup)

    def for_department(self, department: str) -> list[StoredCredential]:
        return self._cached("department", department, self._source.for_department)

    def ever_registered(self, department: str) -> bool:
        return self._cached("ever", department, self._source.ever_registered)

    def by_certificate(self, sha256: str) -> StoredCredential | None:
        return self._cached("certificate", sha256, self._source.by_certificate)

    def _cached(self, kind: str, key: str, ask: Callable[[str], T]) -> T:
        now = self._clock()
        known = self._answers.get((kind, key))
        if known is not None and now - known[0] < self._seconds:
            return known[1]  # type: ignore[return-value]
        answer = ask(key)
        with self._lock:
            if len(self._answers) > 10_000:  # unknown usernames must not grow it for ever
                self._answers.clear()
            self._answers[(kind, key)] = (now, answer)
        return answer
