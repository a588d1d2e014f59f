"""`govhub trace` on a hub with neighbours: for each message, every leg it forwarded, as the
hubs on the way answer now (asked live; each answer shows its age)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hub.config import Settings
from hub.federation.config import read_federation
from hub.federation.status import Answer, answer_lines, trace_hubs
from hub.store import Store


def federation_trace(
    settings: Settings, store: Store, message_ids: list[str]
) -> dict[str, dict[str, Answer]]:
    """message id -> forwarded leg -> the next hop's answer; empty for a hub alone."""
    if not settings.federation_file:
        return {}
    config = read_federation(Path(settings.federation_file))
    found = {m: trace_hubs(config, store.message_status(m)) for m in message_ids}
    return {m: legs for m, legs in found.items() if legs}


def federation_lines(message_id: str, legs: dict[str, Answer]) -> str:
    now = datetime.now(UTC)
    lines = [f"{message_id} across hubs:"]
    for department, answer in legs.items():
        lines.append(f"  {department}:")
        lines += answer_lines(answer, now)
    return "\n".join(lines)
