"""The soak (`python -m bench --soak MINUTES`): the distributed setup driven at half its
maximum rate for that long, with body pruning on, to see whether anything grows.

PostgreSQL, RabbitMQ, `govhub serve --no-workers`, two `govhub worker` processes and the mock
departments, as in the end-to-end benchmark. First the maximum: the size mix submitted as fast
as the hub takes it for ``--seconds``, then every delivery awaited; messages/s = messages /
(last confirmation - first receipt). Then half of that, paced, for the minutes given (or
``--soak-rate``, skipping the measurement). Bodies are kept a fifth of the soak (2 minutes at
most) and the workers prune every quarter of that, so pruning runs all along.

Every 5 s: each process's resident memory (VmRSS), the database's size, bodies pruned so far.
Per minute: those at the minute's end, messages accepted and delivered in it, and p50/p99
from acceptance (the hub's received_at) to the last leg's confirmation, of the messages
accepted in it. A table, the JSON (``--json``, default soak.json) and a PNG beside it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from bench import messages, soak_chart, soak_samples
from bench.load import LoadResult, closed_loop, paced
from bench.processes import Fleet
from bench.setups import distributed
from bench.soak_samples import Sample

SAMPLE_SECONDS = 5.0
SETTLE_SECONDS = 300.0
WARM_UP_MESSAGES = 50
MAX_RETENTION_SECONDS = 120.0
PENDING = text("SELECT count(*) FROM deliveries WHERE state NOT IN ('delivered', 'failed')")
SPAN = text(
    "SELECT count(DISTINCT m.id), extract(epoch FROM min(m.received_at)), "
    "extract(epoch FROM max(d.delivered_at)) FROM messages m "
    "JOIN deliveries d ON d.message_id = m.id WHERE m.received_at >= to_timestamp(:since)"
)


def run(options: Any) -> dict[str, Any]:
    result: dict[str, Any] = {
        "name": "soak",
        "what": f"{options.soak:g} minutes at half the maximum rate, distributed, body pruning on",
        "goal": "memory of every process, database size and latency flat",
        "skipped": options.distributed_missing or soak_chart.missing(),
        "rows": [],
    }
    if result["skipped"]:
        return result
    seconds = options.soak * 60.0
    retention = min(MAX_RETENTION_SECONDS, max(5.0, seconds / 5))
    work: Path = options.work / "soak"
    with Fleet(work / "logs") as fleet, distributed(work) as env:
        env = {
            **env,
            **fleet.mocks(work, "http://127.0.0.1:9"),  # their own pushes are not used
            "GOVHUB_BODY_RETENTION_DAYS": repr(retention / 86400),
            "GOVHUB_PRUNE_INTERVAL_SECONDS": repr(max(2.0, retention / 4)),
        }
        _, url = fleet.hub("api", env, "--no-workers")
        for n in range(2):
            fleet.worker(f"worker-{n}", env)
        engine = create_engine(env["GOVHUB_DATABASE_URL"])
        try:
            maximum = 2 * options.soak_rate if options.soak_rate else _maximum(url, engine, options)
            rate = maximum / 2
            pids = {name: process.pid for name, process in fleet.by_name.items()}
            result.update(_soak(url, engine, pids, rate, seconds, options, fleet.logs))
        finally:
            engine.dispose()
    result["maximum_messages_per_second"] = round(maximum, 1)
    result["rate_messages_per_second"] = round(rate, 1)
    result["body_retention_seconds"] = retention
    result["png"] = str(options.soak_png)
    return result


def _maximum(url: str, engine: Engine, options: Any) -> float:
    """Messages/s the setup takes and delivers, all legs confirmed, after a short warm-up."""
    closed_loop(url, messages.LazyMix(WARM_UP_MESSAGES), concurrency=4, seconds=600)
    _settle(engine)
    since = time.time()
    closed_loop(
        url, messages.LazyMix(10**6), concurrency=options.concurrency, seconds=options.seconds
    )
    _settle(engine)
    with engine.connect() as connection:
        count, first, last = connection.execute(SPAN, {"since": since}).one()
    return float(count) / (float(last) - float(first)) if count and last > first else 1.0


def _soak(
    url: str,
    engine: Engine,
    pids: dict[str, int],
    rate: float,
    seconds: float,
    options: Any,
    logs: Path,
) -> dict[str, Any]:
    bodies = messages.LazyMix(max(1, int(rate * seconds)), seed=22)
    load: list[LoadResult] = []
    sender = threading.Thread(
        target=lambda: load.append(paced(url, bodies, rate=rate, concurrency=options.concurrency))
    )
    started = time.time()
    tables_before = soak_samples.largest_tables_mb(engine)
    samples = [soak_samples.sample(engine, pids, 0.0)]
    sender.start()
    while sender.is_alive():
        sender.join(timeout=SAMPLE_SECONDS - (time.time() - started) % SAMPLE_SECONDS)
        samples.append(soak_samples.sample(engine, pids, time.time() - started))
    took = time.time() - started
    settle_started = time.monotonic()
    pending = _settle(engine, must=False)
    times = soak_samples.timings(engine, started)
    rows = soak_samples.per_minute(samples, times, took)
    title = f"govhub soak: {took / 60:.1f} min at {rate:.1f} messages/s, distributed, pruning on"
    soak_chart.draw(options.soak_png, title, samples, rows)
    return {
        "rows": rows,
        "soak_seconds": round(took, 1),
        "failed_submits": load[0].failed if load else None,
        "first_failure": load[0].first_failure[:300] if load else "",
        "pending_at_end": pending,
        "settled_after_seconds": round(time.monotonic() - settle_started, 1),
        "largest_tables_mb_before": tables_before,
        "largest_tables_mb_after": soak_samples.largest_tables_mb(engine),
        "growth": _growth(samples),
        "errors_logged": _errors_logged(logs),
        "samples": [vars(s) for s in samples],
    }


def _growth(samples: list[Sample]) -> dict[str, float]:
    """Last minus first: each process's memory (after its first minute, start-up and warm
    caches left out) and the database's size, in MB."""
    steady = [s for s in samples if s.second >= soak_samples.MINUTE] or samples
    first, last = steady[0], samples[-1]
    grown = {f"{name}_mb": round(mb - first.rss_mb[name], 1) for name, mb in last.rss_mb.items()}
    grown["database_mb"] = round(last.database_mb - first.database_mb, 1)
    return grown


def _errors_logged(logs: Path) -> dict[str, Any]:
    """Per process, how many ERROR (or worse) lines it logged and the first of them (the logs
    go with the run's temporary folder; a soak that stayed flat by failing is no soak)."""
    found: dict[str, Any] = {}
    for log in sorted(logs.glob("*.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        bad = [line for line in lines if line.split(" ", 3)[2:3] in (["ERROR"], ["CRITICAL"])]
        found[log.stem] = {"count": len(bad), "first": bad[0][:300] if bad else ""}
    return found


def _settle(engine: Engine, *, must: bool = True) -> int:
    """Until no leg is pending (at most SETTLE_SECONDS); returns how many still are."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        with engine.connect() as connection:
            pending = int(connection.execute(PENDING).scalar_one())
        if pending == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if pending and must:
        raise RuntimeError(f"{pending} deliveries still pending after {SETTLE_SECONDS:.0f} s")
    return pending
