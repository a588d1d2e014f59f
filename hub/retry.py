"""When to try a delivery again: exponential backoff with jitter, then give up.

One policy comes from the settings; a department may override any part of it in the
departments file (``retry = { max_attempts = 40, max_age_seconds = 86400 }``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from hub.config import Settings


@dataclass(frozen=True)
class RetryOverrides:
    """A department's own retry settings; None keeps the hub-wide value."""

    max_attempts: int | None = None
    max_age_seconds: float | None = None
    base_seconds: float | None = None
    max_seconds: float | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Attempt n waits between half and all of min(max, base * 2**(n-1)) seconds.

    Keeping half the delay fixed stops a down department from being hammered, and the
    random half spreads the retries of many deliveries that failed together. Attempts are
    counted, and age measured, per round: from creation, or from the last replay.
    """

    base_seconds: float
    max_seconds: float
    max_attempts: int
    # No retry is scheduled later than this after the round began; 0 means no limit.
    max_age_seconds: float = 0.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            settings.retry_base_seconds,
            settings.retry_max_seconds,
            settings.max_attempts,
            settings.retry_max_age_seconds,
        )

    def with_overrides(self, overrides: RetryOverrides | None) -> RetryPolicy:
        if overrides is None:
            return self
        given = {k: v for k, v in vars(overrides).items() if v is not None}
        return replace(self, **given)

    def gives_up_after(self, attempt: int) -> bool:
        """True when ``attempt`` (1-based, in this round) was the last one allowed."""
        return attempt >= self.max_attempts

    def too_old(self, round_began: datetime | None, retry_at: datetime) -> bool:
        """True when a retry at ``retry_at`` would be past the maximum age."""
        if not self.max_age_seconds or round_began is None:
            return False
        return retry_at - round_began > timedelta(seconds=self.max_age_seconds)

    def delay_seconds(self, attempt: int) -> float:
        exponent = min(max(attempt - 1, 0), 60)  # 2**60 s is past any max; no overflow
        ceiling = min(self.max_seconds, self.base_seconds * 2.0**exponent)
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)
