"""4. Scaling: message size from 2 kB to 10 MB, and fan-out from 1 to 50 departments.

Size: `govhub serve --no-workers` (embedded), a fresh process per size so its peak memory
(VmHWM) starts from the same place; Submit envelopes of one size over 4 connections; the
peak memory's growth is reported next to the message size. One more run at 1 MB over 1 and
16 connections shows whether memory grows with the number of messages in flight. Each row
names the hub's budget of request bytes in flight (GOVHUB_MAX_INFLIGHT_BYTES as the hub
process sees it; hub/api/admission.py), which bounds how many large messages it works on
at once.

Fan-out: the commit step alone (Ingress.commit: the group-committed transaction with one
delivery row per receiver, then one bus message per delivery) from 16 threads, SQLite and
memory://, for 1 to 50 receivers; ratio against 1 receiver.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from bench import messages
from bench.load import closed_loop
from bench.processes import Fleet, peak_rss_mb
from bench.setups import embedded
from bench.stats import latency_ms, ratio
from bench.validate_map import EXAMPLES
from hub.config import Settings
from hub.ingress import PreparedMessage
from hub.runtime import HubRuntime

SIZES = (2_000, 10_000, 100_000, 1_000_000, 10_000_000)
QUICK_SIZES = (2_000, 1_000_000, 10_000_000)
FAN_OUTS = (1, 2, 5, 10, 25, 50)
QUICK_FAN_OUTS = (1, 10, 50)
THREADS = 16


def run(options: Any) -> dict[str, Any]:
    return {
        "name": "scaling",
        "what": "cost as message size and fan-out grow",
        "rows": _sizes(options) + _fan_outs(options),
    }


def _sizes(options: Any) -> list[dict[str, Any]]:
    rows, baseline = [], 0.0
    for size in QUICK_SIZES if options.quick else SIZES:
        row = _one_size(options, size, 4)
        baseline = baseline or row["MB_per_second"]
        rows.append({**row, "ratio": ratio(row["MB_per_second"], baseline)})
    for concurrency in () if options.quick else (1, 16):
        rows.append(_one_size(options, 1_000_000, concurrency))
    return rows


def _one_size(options: Any, size: int, concurrency: int) -> dict[str, Any]:
    count = max(concurrency * 2, min(2_000, int(options.seconds * 40_000_000 / size)))
    bodies = [messages.submit(size, n) for n in range(count)]
    work = options.work / f"size-{size}-{concurrency}"
    with Fleet(work / "logs") as fleet, embedded(work) as env:
        process, url = fleet.hub("serve", env, "--no-workers")
        closed_loop(url, [messages.submit(2_000) for _ in range(20)], concurrency=4, seconds=30)
        before = peak_rss_mb(process)
        result = closed_loop(url, bodies, concurrency=concurrency, seconds=options.seconds * 2)
        growth = peak_rss_mb(process) - before
    return {
        "setup": f"size {size:,} B x {concurrency} connections",
        "per_second": round(result.per_second, 1),
        "MB_per_second": round(result.bytes_sent / result.seconds / 1e6, 2),
        **latency_ms(result.latencies),
        "peak_memory_growth_MB": round(growth, 1),
        "inflight_budget_MB": round(_inflight_budget(env) / 1e6, 2),
        "growth_per_message_size": round(growth / (size / 1e6), 1),
        "failed": result.failed,
        "first_failure": result.first_failure[:300],
    }


def _inflight_budget(env: dict[str, str]) -> int:
    """The hub process's byte budget: its environment is ours plus ``env`` (Fleet.spawn)."""
    return Settings.from_env({**os.environ, **env}).max_inflight_bytes


def _fan_outs(options: Any) -> list[dict[str, Any]]:
    runtime = HubRuntime(Settings(data_dir=options.work / "fan-out"))
    runtime.store.upgrade()
    canonical = (EXAMPLES / "MarriageRegistered.xml").read_bytes()
    rows, baseline = [], 0.0
    try:
        for fan_out in QUICK_FAN_OUTS if options.quick else FAN_OUTS:
            receivers = tuple(f"DEPT{n:02d}" for n in range(fan_out))
            per_second = _commit_rate(runtime, canonical, receivers, options.seconds)
            baseline = baseline or per_second
            rows.append(
                {
                    "setup": f"fan-out {fan_out}",
                    "per_second": round(per_second, 1),
                    "deliveries_per_second": round(per_second * fan_out, 1),
                    "ratio": ratio(per_second, baseline),
                }
            )
    finally:
        runtime.close()
    return rows


def _commit_rate(
    runtime: HubRuntime, canonical: bytes, receivers: tuple[str, ...], seconds: float
) -> float:
    done, deadline = [0] * THREADS, time.perf_counter() + seconds

    def commit(slot: int) -> None:
        while time.perf_counter() < deadline:
            runtime.ingress.commit(PreparedMessage(messages.stored_message(canonical), receivers))
            done[slot] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=commit, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)
