"""The soak's readings: what every process and the database hold, sampled every few seconds,
and the per-minute rows made from those samples and from each message's times in the store."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, text

from bench.processes import rss_mb
from bench.stats import latency_ms

MINUTE = 60.0
DATABASE_SIZE = text("SELECT pg_database_size(current_database())")
PRUNED = text("SELECT count(*) FROM messages WHERE pruned_at IS NOT NULL")
# Per message: when it was accepted, when its last leg was confirmed, whether every leg was.
TIMINGS = text(
    "SELECT extract(epoch FROM m.received_at), extract(epoch FROM max(d.delivered_at)), "
    "bool_and(d.delivered_at IS NOT NULL) FROM messages m "
    "JOIN deliveries d ON d.message_id = m.id WHERE m.received_at >= :since GROUP BY m.id"
)
LARGEST_TABLES = text(
    "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables ORDER BY 2 DESC LIMIT 8"
)


@dataclass(frozen=True)
class Sample:
    """One reading, ``second`` seconds into the soak."""

    second: float
    rss_mb: dict[str, float]
    database_mb: float
    bodies_pruned: int


@dataclass(frozen=True)
class Timing:
    """One message: accepted and (None while a leg is not) delivered, in soak seconds."""

    accepted: float
    delivered: float | None


def sample(engine: Engine, processes: dict[str, int], second: float) -> Sample:
    with engine.connect() as connection:
        size = connection.execute(DATABASE_SIZE).scalar_one()
        pruned = connection.execute(PRUNED).scalar_one()
    memory = {name: round(rss_mb(pid), 1) for name, pid in processes.items()}
    return Sample(round(second, 1), memory, round(size / 1e6, 1), int(pruned))


def timings(engine: Engine, started: float) -> list[Timing]:
    """Every message accepted since ``started`` (a Unix time), timed from it."""
    since = datetime.fromtimestamp(started, UTC)
    with engine.connect() as connection:
        rows = connection.execute(TIMINGS, {"since": since}).all()
    return [
        Timing(float(accepted) - started, float(done) - started if complete else None)
        for accepted, done, complete in rows
    ]


def largest_tables_mb(engine: Engine) -> dict[str, float]:
    """The eight largest tables with their indexes and TOAST, in MB (what a size is made of)."""
    with engine.connect() as connection:
        return {name: round(size / 1e6, 2) for name, size in connection.execute(LARGEST_TABLES)}


def per_minute(samples: list[Sample], times: list[Timing], seconds: float) -> list[dict[str, Any]]:
    """One row per minute of the soak (the last one may be shorter): each process's memory and
    the database's size at the minute's end, messages accepted and delivered in it, and the
    accepted→delivered latency of the messages accepted in it."""
    rows = []
    count = max(1, math.ceil((seconds - 1.0) / MINUTE))  # a last second over is not a minute
    for index in range(count):
        start = index * MINUTE
        end = seconds if index == count - 1 else start + MINUTE
        last = _last_before(samples, end)
        accepted = [t for t in times if start <= t.accepted < end]
        waits = [t.delivered - t.accepted for t in accepted if t.delivered is not None]
        row: dict[str, Any] = {"minute": index + 1, "seconds": round(end - start, 1)}
        row.update({f"{name}_mb": mb for name, mb in (last.rss_mb if last else {}).items()})
        row["database_mb"] = last.database_mb if last else None
        row["bodies_pruned"] = last.bodies_pruned if last else None
        row["accepted"] = len(accepted)
        row["delivered"] = sum(1 for t in times if t.delivered and start <= t.delivered < end)
        row.update(latency_ms(waits))
        rows.append(row)
    return rows


def _last_before(samples: list[Sample], second: float) -> Sample | None:
    """The last sample taken by ``second`` (or the first one, if none was yet)."""
    taken = [s for s in samples if s.second <= second + 1.0]
    return taken[-1] if taken else (samples[0] if samples else None)
