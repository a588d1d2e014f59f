"""1. Ingest: concurrent SOAP Submit with the realistic size mix, against a spyne echo.

Both servers are separate processes behind the same WSGI server and thread count; the
client sends the same mix of pre-built envelopes over the same number of connections.
The hub runs `govhub serve --no-workers`: every accepted message is parsed, validated,
checked and committed (with its deliveries) before its receipt; workers would compete for
the same two cores, and end-to-end is measured separately.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import messages
from bench.load import LoadResult, closed_loop, load_row
from bench.processes import Fleet, process_cpu_seconds
from bench.setups import distributed, embedded
from bench.stats import ratio

Setup = Callable[[Path], AbstractContextManager[dict[str, str]]]
WARM_UP = 100


def run(options: Any) -> dict[str, Any]:
    count = int(options.seconds * 4000)
    bodies = messages.mixed(count)
    rows: list[dict[str, Any]] = []
    with Fleet(options.work / "logs" / "ingest") as fleet:
        echo, echo_url = fleet.echo({})
        baseline = _measure(echo_url, bodies, options, echo.pid)
        fleet.stop()
        rows.append(_row("spyne echo (baseline)", baseline, None))
        setups: list[tuple[str, Setup]] = []
        if not getattr(options, "no_embedded", False):
            setups.append(("embedded (SQLite, memory://)", embedded))
        if options.distributed_missing is None:
            setups.append(("distributed (PostgreSQL, RabbitMQ)", distributed))
        for name, setup in setups:
            with setup(options.work) as env:
                hub, hub_url = fleet.hub(name.split()[0], env, "--no-workers")
                result = _measure(hub_url, messages.mixed(count, seed=7), options, hub.pid)
                rows.append(_row(f"hub, {name}", result, baseline))
                fleet.stop()
    return {
        "name": "ingest",
        "what": "accepted Submit/s, size mix 2 kB 30% / 10 kB 60% / 100 kB 9% / 1 MB 1%",
        "concurrency": options.concurrency,
        "mean_body_bytes": messages.mean_size(bodies),
        "goal": "hub >= 0.6 of the echo",
        "skipped": options.distributed_missing,
        "rows": rows,
    }


def _measure(url: str, bodies: list[bytes], options: Any, pid: int) -> _Measured:
    warm = [messages.submit(2_000, n) for n in range(WARM_UP)]
    closed_loop(url, warm, concurrency=options.concurrency, seconds=30)
    cpu_before = process_cpu_seconds(pid)
    result = closed_loop(url, bodies, concurrency=options.concurrency, seconds=options.seconds)
    return _Measured(result, process_cpu_seconds(pid) - cpu_before)


@dataclass(frozen=True)
class _Measured:
    """A load run and the server process's CPU seconds over it (all its threads)."""

    load: LoadResult
    server_cpu: float

    @property
    def cpu_ms_per_message(self) -> float | None:
        return self.server_cpu * 1000 / self.load.ok if self.load.ok else None


def _row(name: str, measured: _Measured, baseline: _Measured | None) -> dict[str, Any]:
    """The load columns, then the server's CPU per accepted message and its ratio: the echo's
    over the hub's, so that 0.6 means the hub spends 1/0.6 of the echo's CPU per message
    (the issue's goal, steadier than throughput on shared cores)."""
    result, cpu_ms = measured.load, measured.cpu_ms_per_message
    echo_cpu_ms = baseline.cpu_ms_per_message if baseline else cpu_ms
    return {
        **load_row(name, result, baseline.load if baseline else None),
        "cpu_ms_per_message": round(cpu_ms, 3) if cpu_ms else None,
        "cpu_ratio": ratio(echo_cpu_ms, cpu_ms) if echo_cpu_ms and cpu_ms else None,
        "MB_per_second": round(result.bytes_sent / result.seconds / 1e6, 1),
        "client_cpu_cores": result.client_cpu,
    }
