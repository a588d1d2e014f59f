"""Load generation: many keep-alive connections sending pre-built bodies.

Threads with ``http.client`` (cheaper per request than requests, so the client is less of a
bottleneck). Closed loop: each connection sends its next body as soon as the answer arrives.
Paced: requests start on a fixed schedule, and latency counts from the scheduled start, so a
stall is not hidden by the client waiting for it (coordinated omission).
"""

from __future__ import annotations

import http.client
import itertools
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.stats import latency_ms, ratio

Check = Callable[[int, bytes], bool]


def soap_ok(status: int, body: bytes) -> bool:
    return status == 200 and b"Fault>" not in body


@dataclass
class LoadResult:
    sent: int = 0
    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    bytes_sent: int = 0
    client_cpu: float = 0.0  # share of one core the client used (1.0 = one whole core)
    latencies: list[float] = field(default_factory=list)
    first_failure: str = ""

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


class _Sender:
    def __init__(self, url: str, path: str, content_type: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._path = path
        self._headers = {"Content-Type": content_type, "SOAPAction": '""'}
        self._connection: http.client.HTTPConnection | None = None

    def send(self, body: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a server may close an idle keep-alive connection
            try:
                connection = self._connection or self._connect()
                connection.request("POST", self._path, body, self._headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _connect(self) -> http.client.HTTPConnection:
        self._connection = http.client.HTTPConnection(self._host, self._port, timeout=120)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def closed_loop(
    url: str,
    bodies: Sequence[bytes],
    *,
    concurrency: int,
    seconds: float,
    path: str = "/soap",
    content_type: str = "text/xml; charset=utf-8",
    check: Check = soap_ok,
) -> LoadResult:
    """Send until ``seconds`` pass or the bodies run out; each body at most once."""
    result, lock = LoadResult(), threading.Lock()
    numbers = itertools.count()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        sender = _Sender(url, path, content_type)
        try:
            while time.perf_counter() < deadline:
                n = next(numbers)
                if n >= len(bodies):
                    return
                _one(sender, bodies[n], time.perf_counter(), result, lock, check)
        finally:
            sender.close()

    return _run(worker, concurrency, result)


def paced(
    url: str,
    bodies: Sequence[bytes],
    *,
    rate: float,
    concurrency: int,
    path: str = "/soap",
    content_type: str = "text/xml; charset=utf-8",
    check: Check = soap_ok,
) -> LoadResult:
    """Send every body, the n-th at start + n/rate, from ``concurrency`` connections."""
    result, lock = LoadResult(), threading.Lock()
    numbers = itertools.count()
    start = time.perf_counter() + 0.05

    def worker() -> None:
        sender = _Sender(url, path, content_type)
        try:
            while (n := next(numbers)) < len(bodies):
                due = start + n / rate
                if (wait := due - time.perf_counter()) > 0:
                    time.sleep(wait)
                _one(sender, bodies[n], due, result, lock, check)
        finally:
            sender.close()

    return _run(worker, concurrency, result)


def _one(
    sender: _Sender,
    body: bytes,
    started: float,
    result: LoadResult,
    lock: threading.Lock,
    check: Check,
) -> None:
    try:
        status, answer = sender.send(body)
        good = check(status, answer)
        failure = "" if good else f"HTTP {status}: {answer[:300]!r}"
    except (http.client.HTTPException, OSError) as exc:
        good, failure = False, repr(exc)
    elapsed = time.perf_counter() - started
    with lock:
        result.sent += 1
        result.bytes_sent += len(body)
        if good:
            result.ok += 1
            result.latencies.append(elapsed)
        else:
            result.failed += 1
            result.first_failure = result.first_failure or failure


def _run(worker: Callable[[], None], concurrency: int, result: LoadResult) -> LoadResult:
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    cpu_before, started = _cpu_seconds(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    result.client_cpu = round((_cpu_seconds() - cpu_before) / result.seconds, 2)
    return result


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def load_row(
    name: str, result: LoadResult, baseline: LoadResult | None, *, label: str = "setup"
) -> dict[str, Any]:
    """One table row: requests/s, its ratio to ``baseline``'s, latency percentiles, outcome;
    ``name`` in the column ``label``."""
    return {
        label: name,
        "per_second": round(result.per_second, 1),
        "ratio": ratio(result.per_second, baseline.per_second) if baseline else 1.0,
        **latency_ms(result.latencies),
        "ok": result.ok,
        "failed": result.failed,
        "first_failure": result.first_failure[:300],
    }
