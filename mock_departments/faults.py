"""Fault injection for a mock department: fail the next N deliveries, answer slowly, be down.

The plan is consulted once per delivery; each department turns the verdict into its own
protocol's answer (HTTP 500/400, SOAP Server/Client fault, 503).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from hub.errors import ClientError


class Verdict(Enum):
    """What to do with the delivery in hand."""

    ACCEPT = "accept"
    FAIL = "fail"  # retryable: HTTP 500 / SOAP Server fault
    REJECT = "reject"  # permanent: HTTP 400 / SOAP Client fault
    DOWN = "down"  # HTTP 503 to everything


@dataclass(frozen=True)
class FaultState:
    fail_next: int = 0
    permanent: bool = False
    delay_seconds: float = 0.0
    down: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "fail_next": self.fail_next,
            "permanent": self.permanent,
            "slow": self.delay_seconds,
            "down": self.down,
        }


class FaultPlan:
    """Thread-safe fault settings of one mock; every change replaces the whole state."""

    def __init__(self) -> None:
        self._state = FaultState()
        self._lock = threading.Lock()

    @property
    def state(self) -> FaultState:
        return self._state

    @property
    def delay_seconds(self) -> float:
        return self._state.delay_seconds

    @property
    def is_down(self) -> bool:
        return self._state.down

    def fail_next(self, count: int, *, permanent: bool = False) -> None:
        """Fail the next ``count`` deliveries (retryable unless ``permanent``)."""
        if count < 0:
            raise ClientError(f"fail_next must be 0 or more, not {count}")
        with self._lock:
            self._state = replace(self._state, fail_next=count, permanent=permanent)

    def slow(self, seconds: float) -> None:
        """Wait ``seconds`` before answering each delivery (0 answers at once)."""
        if seconds < 0:
            raise ClientError(f"delay must be 0 or more seconds, not {seconds}")
        with self._lock:
            self._state = replace(self._state, delay_seconds=seconds)

    def down(self, is_down: bool = True) -> None:
        with self._lock:
            self._state = replace(self._state, down=is_down)

    def clear(self) -> None:
        with self._lock:
            self._state = FaultState()

    def verdict(self) -> Verdict:
        """The verdict for one delivery; consumes one of the failures to come."""
        with self._lock:
            state = self._state
            if state.down:
                return Verdict.DOWN
            if state.fail_next == 0:
                return Verdict.ACCEPT
            self._state = replace(state, fail_next=state.fail_next - 1)
            return Verdict.REJECT if state.permanent else Verdict.FAIL

    def apply(self, request: dict[str, Any]) -> FaultState:
        """Apply a control request: {"fail_next": N, "permanent": bool} | {"slow": s} |
        {"down": bool} | {"clear": true}; several keys may be combined."""
        unknown = set(request) - {"fail_next", "permanent", "slow", "down", "clear"}
        if unknown:
            raise ClientError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        if request.get("clear"):
            self.clear()
        if "fail_next" in request:
            permanent = bool(request.get("permanent"))
            self.fail_next(_number(request, "fail_next", int), permanent=permanent)
        if "slow" in request:
            self.slow(_number(request, "slow", float))
        if "down" in request:
            self.down(bool(request["down"]))
        return self.state


def _number(request: dict[str, Any], name: str, kind: type[int] | type[float]) -> Any:
    value = request[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClientError(f"{name} must be a number, not {value!r}")
    return kind(value)
