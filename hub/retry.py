"""When to try a delivery again: exponential backoff with jitter, then give up."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hub.config import Settings


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n waits between half and all of min(max, base * 2**(n-1)) seconds.

    Keeping half the delay fixed stops a down department from being hammered, and the
    random half spreads the retries of many deliveries that failed together.
    """

    base_seconds: float
    max_seconds: float
    max_attempts: int
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(settings.retry_base_seconds, settings.retry_max_seconds, settings.max_attempts)

    def gives_up_after(self, attempt: int) -> bool:
        """True when ``attempt`` (1-based) was the last one allowed."""
        return attempt >= self.max_attempts

    def delay_seconds(self, attempt: int) -> float:
        exponent = min(max(attempt - 1, 0), 60)  # 2**60 s is past any max; no overflow
        ceiling = min(self.max_seconds, self.base_seconds * 2.0**exponent)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)
