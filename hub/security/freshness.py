"""How fresh a request's creation time must be: shared by WS-Security and the native HMAC
check, so both accept the same window (max age into the past, clock skew into the future)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hub.errors import NotAuthenticated


class Freshness:
    def __init__(
        self,
        max_age_seconds: float,
        clock_skew_seconds: float,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.max_age = timedelta(seconds=max_age_seconds)
        self.skew = timedelta(seconds=clock_skew_seconds)
        self.clock = clock or (lambda: datetime.now(UTC))

    def check(self, created_text: str | None, what: str, field: str = "wsu:Created") -> datetime:
        """The parsed time, or NotAuthenticated saying why it is not acceptable now."""
        if not created_text:
            raise NotAuthenticated(f"{what} has no {field}")
        created, now = parse_time(created_text, what), self.clock()
        if created < now - self.max_age:
            raise NotAuthenticated(
                f"stale timestamp: {what} was created more than "
                f"{int(self.max_age.total_seconds())} s ago"
            )
        if created > now + self.skew:
            raise NotAuthenticated(f"stale timestamp: {what} was created in the future")
        return created

    def nonce_expiry(self, created: datetime) -> datetime:
        """Until when a nonce must be remembered: after that its request is stale anyway."""
        return created + self.max_age + self.skew


def parse_time(text: str, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise NotAuthenticated(f"{what} has an unreadable time") from exc
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
