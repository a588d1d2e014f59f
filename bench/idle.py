"""Idle: what a hub costs while nothing happens. CPU seconds per minute of every hub process,
measured over a window after it settled, with no traffic: the embedded `govhub serve` (SQLite,
memory://, workers in the process) and the distributed `govhub serve --no-workers` and
`govhub worker` (PostgreSQL, RabbitMQ). A laptop or a county server runs the hub all day.

Goal: the embedded hub below 0.5% of a core (0.3 CPU s per minute)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.processes import Fleet, Process, process_cpu_seconds
from bench.setups import distributed, embedded

GOAL_CORE_PERCENT = 0.5
SETTLE_SECONDS = 5.0  # start-up work (imports done, first passes of every loop) is not idle


def run(options: Any) -> dict[str, Any]:
    window = 6.0 if options.quick else max(30.0, options.seconds * 4)
    rows: list[dict[str, Any]] = []
    skipped = []
    if not options.no_embedded:
        with Fleet(options.work / "logs" / "idle-embedded") as fleet, embedded(options.work) as env:
            hub, _ = fleet.hub("embedded", env)
            rows += _measured("embedded", {"govhub serve": hub}, window)
    if options.distributed_missing:
        skipped.append(f"distributed: {options.distributed_missing}")
    else:
        with (
            Fleet(options.work / "logs" / "idle-distributed") as fleet,
            distributed(options.work) as env,
        ):
            api, _ = fleet.hub("api", env, "--no-workers")
            worker = fleet.worker("worker", env)
            _wait_started(fleet.logs / "worker.log", "govhub worker running", worker)
            processes = {"govhub serve --no-workers": api, "govhub worker": worker}
            rows += _measured("distributed", processes, window)
    return {
        "name": "idle",
        "what": f"CPU of each idle hub process over {window:.0f} s, no traffic",
        "goal": f"embedded below {GOAL_CORE_PERCENT}% of a core",
        "rows": rows,
        "skipped": "; ".join(skipped),
    }


def _wait_started(log: Path, line: str, process: Process, seconds: float = 120.0) -> None:
    """Until the process printed ``line`` (its start-up CPU is not idle CPU)."""
    deadline = time.monotonic() + seconds
    while line not in (log.read_text(errors="replace") if log.exists() else ""):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{log.stem} did not start; see {log}")
        time.sleep(0.2)


def _measured(setup: str, processes: dict[str, Process], window: float) -> list[dict[str, Any]]:
    time.sleep(SETTLE_SECONDS)
    before = {name: process_cpu_seconds(p.pid) for name, p in processes.items()}
    time.sleep(window)
    rows = []
    for name, process in processes.items():
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} while idle")
        used = process_cpu_seconds(process.pid) - before[name]
        rows.append(
            {
                "setup": setup,
                "process": name,
                "cpu_s_per_min": round(used * 60 / window, 3),
                "core_percent": round(used * 100 / window, 2),
            }
        )
    return rows
