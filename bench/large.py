"""Large messages (issue 22, goal 3): what one message in flight costs the API process in
memory, as a multiple of its size, and its throughput against the spyne echo of that size.

`govhub serve --no-workers` (embedded) and the echo (bench/echo.py), each a fresh process
per size so its peak resident memory (VmHWM) starts from the same place, warmed with small
messages; then Submits of one size over ONE connection (one message in flight). Growth =
VmHWM after - VmHWM before over the whole run (what the allocator keeps counts too); the
multiple = growth / message size. The goal: at most 3. Then a few messages one at a time,
each with the peak reset first (/proc/PID/clear_refs): the largest peak over the resident
memory just before it, a message's own cost in flight.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench import messages
from bench.load import LoadResult, closed_loop
from bench.processes import Fleet, Process, peak_rss_mb, rss_mb
from bench.setups import embedded
from bench.stats import latency_ms, ratio

SIZES = (1_000_000, 10_000_000)
GOAL = 3.0


def run(options: Any) -> dict[str, Any]:
    rows = []
    for size in SIZES:
        echo = _measure(options, size, "echo")
        hub = _measure(options, size, "hub")
        rows.append(_row(f"spyne echo, {size / 1e6:g} MB", echo, size))
        rows.append(
            {
                **_row(f"hub, {size / 1e6:g} MB", hub, size),
                "MB_per_second_vs_echo": ratio(_mb_per_second(hub[0]), _mb_per_second(echo[0])),
            }
        )
    return {
        "name": "large",
        "what": "memory per large message in flight, throughput against the echo",
        "goal": f"peak memory growth <= {GOAL:g} x the message size",
        "rows": rows,
    }


def _measure(options: Any, size: int, which: str) -> tuple[LoadResult, float, float]:
    """The load's result and the process's peak memory growth in MB."""
    count = max(4, min(200, int(options.seconds * 20_000_000 / size)))
    bodies = [messages.submit(size, n) for n in range(count)]
    work = options.work / f"large-{which}-{size}"
    with Fleet(work / "logs") as fleet, embedded(work) as env:
        process, url = _start(fleet, which, env)
        closed_loop(url, [messages.submit(2_000) for _ in range(20)], concurrency=1, seconds=30)
        before = peak_rss_mb(process)
        result = closed_loop(url, bodies, concurrency=1, seconds=options.seconds)
        growth = peak_rss_mb(process) - before
        return result, growth, max(_one_peak(process, url, size, n) for n in range(3))


def _one_peak(process: Process, url: str, size: int, serial: int) -> float:
    """One message alone: its peak resident memory over what the process held before it."""
    body = messages.submit(size, 1_000 + serial)
    before = rss_mb(process.pid)
    Path(f"/proc/{process.pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
    closed_loop(url, [body], concurrency=1, seconds=60)
    return peak_rss_mb(process) - before


def _start(fleet: Fleet, which: str, env: dict[str, str]) -> tuple[Process, str]:
    if which == "echo":
        return fleet.echo({})
    return fleet.hub("serve", env, "--no-workers")


def _mb_per_second(result: LoadResult) -> float:
    return result.bytes_sent / result.seconds / 1e6 if result.seconds else 0.0


def _row(setup: str, measured: tuple[LoadResult, float, float], size: int) -> dict[str, Any]:
    result, growth, alone = measured
    return {
        "setup": setup,
        "per_second": round(result.per_second, 1),
        "MB_per_second": round(_mb_per_second(result), 1),
        **latency_ms(result.latencies),
        "peak_memory_growth_MB": round(growth, 1),
        "growth_per_message_size": round(growth / (size / 1e6), 1),
        "one_message_peak_MB": round(alone, 1),
        "one_message_per_size": round(alone / (size / 1e6), 1),
        "failed": result.failed,
        "first_failure": result.first_failure[:300],
    }
