"""A process-wide doorbell for the relay: rung after a commit that makes deliveries due sooner
than a resting relay expects (a replay, a resume, a publish that failed, a delivery attempt
that scheduled its retry), so the relay need not look every second to find them.

Every relay of the process wakes at a ring (a counter and a condition, not an event one
waiter could clear for the others). A ring in another process is not heard: there the relay
finds the work at its next pass, at most ``relay_rest_seconds`` later (docs/operations.md).
"""

from __future__ import annotations

import threading


class Doorbell:
    def __init__(self) -> None:
        self._rung = threading.Condition()
        self._rings = 0

    @property
    def rings(self) -> int:
        """How often it was rung: what a waiter remembers before it looks for work."""
        return self._rings

    def ring(self) -> None:
        with self._rung:
            self._rings += 1
            self._rung.notify_all()

    def wait(self, heard: int, seconds: float) -> bool:
        """Until rung after ``heard`` rings, or ``seconds`` passed; True if it was rung."""
        with self._rung:
            return self._rung.wait_for(lambda: self._rings != heard, seconds)


DELIVERIES_DUE = Doorbell()
