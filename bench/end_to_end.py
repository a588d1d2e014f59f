"""2. End to end: Submit, then every fan-out delivery confirmed by the mock departments.

Each MarriageRegistered goes to SOCIAL_SECURITY (SOAP 1.2) and TAX (REST/JSON), both real
mock departments in their own process. Distributed: `govhub serve --no-workers`, two
`govhub worker` processes, PostgreSQL and RabbitMQ. Embedded: one `govhub serve` with its
workers, SQLite and memory://.

Maximum rate: submit as fast as the API takes it for a while, then wait until every delivery
is confirmed; deliveries/s = confirmed deliveries / (last confirmation - first receipt).
Latency: submit at half that rate, paced, and take per message the time from its receipt to
its last confirmation (the database's received_at and delivered_at).

Those figures cannot exceed twice the API's accept rate. The distributed setup also drains a
backlog: the same messages accepted with no worker running, then two workers started;
deliveries/s = deliveries / (last confirmation - first confirmation): the delivery side alone.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, text

from bench import messages
from bench.bare_pipeline import bare_baseline
from bench.load import closed_loop, paced
from bench.processes import Fleet, machine_busy_seconds, pids_named, process_cpu_seconds
from bench.setups import distributed, embedded
from bench.stats import latency_ms

SETTLE_SECONDS = 300.0
WORKERS = 2
DELIVERED = text("SELECT count(*) FROM deliveries WHERE state = 'delivered'")
PENDING = text("SELECT count(*) FROM deliveries WHERE state NOT IN ('delivered', 'failed')")
SPAN = text(
    "SELECT min(m.received_at), max(d.delivered_at) FROM messages m "
    "JOIN deliveries d ON d.message_id = m.id WHERE m.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
DELIVERED_SPAN = text(
    "SELECT count(*), min(delivered_at), max(delivered_at) FROM deliveries "
    "WHERE state = 'delivered'"
)
PER_MESSAGE = text(
    "SELECT m.received_at, max(d.delivered_at) FROM messages m "
    "JOIN deliveries d ON d.message_id = m.id WHERE m.id IN :ids GROUP BY m.id, m.received_at"
).bindparams(bindparam("ids", expanding=True))


def run(options: Any) -> dict[str, Any]:
    rows = []
    if options.distributed_missing is None:
        rows.append(_run_setup("distributed (PostgreSQL, RabbitMQ, 2 workers)", options, True))
        rows.append(_drain_backlog("distributed, a backlog drained by 2 workers", options))
    if not getattr(options, "no_embedded", False):
        rows.append(_run_setup("embedded (SQLite, memory://, workers in serve)", options, False))
    return {
        "name": "end_to_end",
        "what": "confirmed deliveries/s (2 per message) and latency at half the maximum rate",
        "goal": ">= 1,000 confirmed deliveries/s on the distributed setup (2 cores)",
        "skipped": options.distributed_missing,
        "rows": rows,
    }


def _run_setup(name: str, options: Any, is_distributed: bool) -> dict[str, Any]:
    setup = distributed if is_distributed else embedded
    work: Path = options.work / ("e2e-d" if is_distributed else "e2e-e")
    with Fleet(work / "logs") as fleet, setup(work) as env:
        env = {**env, **_departments(fleet, work, options)}
        if is_distributed:
            _, url = fleet.hub("api", env, "--no-workers")
            for n in range(2):
                fleet.worker(f"worker-{n}", env)
        else:
            _, url = fleet.hub("serve", env)
        database = env.get("GOVHUB_DATABASE_URL") or f"sqlite:///{work}/hub-embedded/hub.db"
        engine = create_engine(database)
        try:
            return _measure(name, url, engine, options)
        finally:
            engine.dispose()


def _drain_backlog(name: str, options: Any) -> dict[str, Any]:
    work: Path = options.work / "e2e-drain"
    with Fleet(work / "logs") as fleet, distributed(work) as env:
        env = {**env, **_departments(fleet, work, options)}
        _, url = fleet.hub("api", env, "--no-workers")
        count = int(options.seconds * (150 if options.quick else 600))
        bodies = [messages.submit(2_000, n) for n in range(count)]
        failed = closed_loop(url, bodies, concurrency=options.concurrency, seconds=3600).failed
        workers = [fleet.worker(f"worker-{n}", env) for n in range(WORKERS)]
        engine = create_engine(env["GOVHUB_DATABASE_URL"])
        try:
            start = _cpu_snapshot(engine, fleet, workers, wait_for_first=True)
            _wait_settled(engine)
            end = _cpu_snapshot(engine, fleet, workers)
            with engine.connect() as connection:
                delivered, first, last = connection.execute(DELIVERED_SPAN).one()
            for worker in workers:  # the bare pipeline has the cores the workers had
                worker.terminate()
                worker.wait(timeout=15)
            bare = bare_baseline(fleet, work, env, engine, count, WORKERS)
        finally:
            engine.dispose()
    span = _seconds(last) - _seconds(first) if delivered else 0.0
    hub = _cpu_per_delivery(start, end)
    return {
        "setup": name,
        "deliveries_per_second": round(delivered / span, 1) if span > 0 else 0.0,
        "messages": count,
        "failed_submits": failed,
        **hub,
        **bare,
        **_against_bare(hub, bare),
    }


def _against_bare(hub: dict[str, float], bare: dict[str, float]) -> dict[str, float]:
    """The hub's CPU per delivery (workers with their relay, and the API's share) and its
    ratio to the bare pipeline's (goal: <= 1.0 ms and <= 1.5)."""
    if "cpu_ms_workers" not in hub or not bare.get("cpu_ms_bare"):
        return {}
    own = round(hub["cpu_ms_workers"] + hub["cpu_ms_api"], 2)
    return {"cpu_ms_hub": own, "hub_over_bare": round(own / bare["cpu_ms_bare"], 2)}


def _departments(fleet: Fleet, work: Path, options: Any) -> dict[str, str]:
    """Where the hub delivers: the endpoints given (``--departments``), else the mock
    departments started here, on the hub's cores (their pushes are not used here)."""
    given = getattr(options, "departments", None)
    if given:
        return {"GOVHUB_DEPARTMENT_ENDPOINTS": given}
    return fleet.mocks(work, "http://127.0.0.1:9")


def _cpu_snapshot(
    engine: Any, fleet: Fleet, workers: list[Any], *, wait_for_first: bool = False
) -> dict[str, float]:
    """CPU seconds so far of each part of the machine, and deliveries confirmed so far.
    ``wait_for_first``: once the first is confirmed, so the workers' start-up is left out."""
    while True:
        with engine.connect() as connection:
            delivered = connection.execute(DELIVERED).scalar_one()
        if delivered or not wait_for_first:
            break
        time.sleep(0.05)
    return {
        "delivered": float(delivered),
        "machine": machine_busy_seconds(),
        "workers": sum(process_cpu_seconds(w.pid) for w in workers),
        "api": process_cpu_seconds(fleet.by_name["api"].pid),
        # Only mock departments started here count; ones on another host use none of ours.
        "mocks": process_cpu_seconds(fleet.by_name["mocks"].pid)
        if "mocks" in fleet.by_name
        else 0.0,
        "postgres": sum(map(process_cpu_seconds, pids_named("postgres"))),
        "rabbitmq": sum(map(process_cpu_seconds, pids_named("beam.smp"))),
    }


def _cpu_per_delivery(start: dict[str, float], end: dict[str, float]) -> dict[str, float]:
    """Milliseconds of CPU per confirmed delivery, per part (``cpu_ms_machine``: all cores,
    everything on them, the load generator's idle process included)."""
    count = end["delivered"] - start["delivered"]
    if count <= 0:
        return {}
    parts = ("machine", "workers", "api", "mocks", "postgres", "rabbitmq")
    return {f"cpu_ms_{part}": round((end[part] - start[part]) * 1000 / count, 2) for part in parts}


def _measure(name: str, url: str, engine: Any, options: Any) -> dict[str, Any]:
    _submit_and_settle(url, engine, 50, None, options)  # warm-up: connections, JIT caches
    count = int(options.seconds * (150 if options.quick else 600))
    ids, _ = _submit_and_settle(url, engine, count, None, options)
    with engine.connect() as connection:
        first, last = connection.execute(SPAN, {"ids": ids}).one()
    span = _seconds(last) - _seconds(first)
    deliveries_per_second = 2 * len(ids) / span if span > 0 else 0.0
    half = max(1.0, deliveries_per_second / 4)  # messages/s: half the maximum deliveries/s
    paced_ids, failed = _submit_and_settle(
        url, engine, max(20, int(half * options.seconds)), half, options
    )
    with engine.connect() as connection:
        pairs = connection.execute(PER_MESSAGE, {"ids": paced_ids}).all()
    latencies = [_seconds(done) - _seconds(received) for received, done in pairs if done]
    return {
        "setup": name,
        "deliveries_per_second": round(deliveries_per_second, 1),
        "messages": len(ids),
        "half_rate_messages_per_second": round(half, 1),
        **{f"half_rate_{k}": v for k, v in latency_ms(latencies).items()},
        "failed_submits": failed,
    }


def _submit_and_settle(
    url: str, engine: Any, count: int, rate: float | None, options: Any
) -> tuple[list[str], int]:
    bodies = [messages.submit(2_000, n) for n in range(count)]
    if rate is None:
        result = closed_loop(url, bodies, concurrency=options.concurrency, seconds=3600)
    else:
        result = paced(url, bodies, rate=rate, concurrency=options.concurrency)
    _wait_settled(engine)
    return [messages.message_id(body) for body in bodies], result.failed


def _wait_settled(engine: Any) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(PENDING).scalar_one() == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"deliveries still pending after {SETTLE_SECONDS:.0f} s")


def _seconds(moment: Any) -> float:
    if isinstance(moment, str):  # SQLite keeps naive UTC text
        from datetime import datetime

        moment = datetime.fromisoformat(moment)
    return float(moment.timestamp())
