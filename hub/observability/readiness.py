"""Readiness: named checks, each bounded in time, run side by side, the verdict cached."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from hub.untrusted import shown

log = logging.getLogger(__name__)

Probe = Callable[[], None]  # returns when the thing is usable, raises saying why not


@dataclass(frozen=True)
class Check:
    name: str
    probe: Probe


@dataclass(frozen=True)
class Verdict:
    """Each check's name with "ok" or what is wrong with it."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        return all(outcome == "ok" for outcome in self.checks.values())

    def failing(self) -> list[str]:
        return [name for name, outcome in self.checks.items() if outcome != "ok"]


class Readiness:
    def __init__(
        self,
        checks: Sequence[Check],
        *,
        timeout_seconds: float,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.checks = list(checks)
        self.timeout_seconds = timeout_seconds
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._running: dict[str, Future[None]] = {}
        self._cached: tuple[float, Verdict] | None = None

    def verdict(self) -> Verdict:
        """The checks' outcome, at most ``cache_seconds`` old. Concurrent callers share one
        round of checks."""
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            verdict = self._run_all()
            self._cached = (self._clock(), verdict)
            return verdict

    def _run_all(self) -> Verdict:
        futures = {check.name: self._start(check) for check in self.checks}
        deadline = self._clock() + self.timeout_seconds
        return Verdict(
            {
                name: _outcome(name, future, deadline - self._clock())
                for name, future in futures.items()
            }
        )

    def _start(self, check: Check) -> Future[None]:
        """The check's probe in a thread of its own. One stuck past its bound is waited on
        again, not started again: a hung server costs one thread, not one per request."""
        running = self._running.get(check.name)
        if running is not None and not running.done():
            return running
        future: Future[None] = Future()
        self._running[check.name] = future
        name = f"govhub-ready-{check.name}"
        threading.Thread(target=_run, args=(check.probe, future), name=name, daemon=True).start()
        return future


def _run(probe: Probe, future: Future[None]) -> None:
    try:
        probe()
    except BaseException as exc:  # the check's answer, whatever went wrong
        future.set_exception(exc)
    else:
        future.set_result(None)


def _outcome(name: str, future: Future[None], seconds: float) -> str:
    """ "ok", or what failed in a few words: /ready answers anyone, so the detail (hosts,
    driver messages) goes to the log only."""
    try:
        future.result(timeout=max(seconds, 0.0))
    except TimeoutError:
        log.warning("readiness: %s did not answer in time", name)
        return "no answer in time"
    except Exception as exc:
        log.warning("readiness: %s is not usable: %s", name, _first_line(exc))
        return f"failed ({type(exc).__name__})"
    return "ok"


def _first_line(exc: BaseException) -> str:
    """The error's own words without what drivers append (SQL, parameters, links)."""
    lines = str(exc).strip().splitlines()
    return shown(lines[0] if lines else type(exc).__name__)
