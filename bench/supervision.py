"""Supervision: every open case evaluated in one signal pass, how its time grows with the
number of cases, and whether a pass holds up ingress.

Open cases are written straight into the case tables (one CaseAccepted event each, accepted
over the three weeks around National Day 2026, one in twenty reported late), and the pass
of the worker service runs over them at 2026-10-12T10:00 in a process of its own
(bench/supervision_pass.py): the first pass issues the signals (about one per case), the
second finds them issued. Then, at the largest size, Submit throughput of a hub
(`serve --no-workers`, same database) is measured alone and during a first pass: the ratio
says how much ingress keeps while a pass runs (the pass, the hub and the client share the
machine's cores, so some loss is CPU, not locks). On PostgreSQL the pass's table locks are
sampled from pg_locks meanwhile (`pass_locks`): the proof that it only reads the tables
ingress writes. Needs PostgreSQL only (else SQLite), not RabbitMQ: the hub runs on memory://.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, delete, insert
from sqlalchemy.engine import make_url

from bench import messages
from bench.backends import postgresql_database
from bench.load import closed_loop, load_row
from bench.processes import Fleet
from bench.setups import embedded
from hub.config import Settings
from hub.store import Store
from hub.supervision.tables import supervision_case_events as events
from hub.supervision.tables import supervision_cases as cases
from hub.supervision.tables import supervision_signals as signals

SIZES = (10_000, 30_000, 100_000)
QUICK_SIZES = (1_000, 3_000)
EVALUATED_AT = "2026-10-12T10:00:00+08:00"
FIRST_ACCEPTED = datetime(2026, 9, 21, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
BATCH = 5_000
PASS_NAME = "govhub-supervision-pass"  # the pass's application_name, to find its locks
LOCKS = (
    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
    "JOIN pg_class c ON c.oid = l.relation "
    "WHERE a.application_name = %s AND l.locktype = 'relation' "
    "AND c.relnamespace = 'public'::regnamespace"
)
LIMITS = json.dumps(
    {"legal_days": 10, "committed_days": 3, "steps": {"handled": 1, "reviewed": 1, "approved": 1}}
)


def run(options: Any) -> dict[str, Any]:
    sizes = QUICK_SIZES if options.quick else SIZES
    missing = "--no-distributed was given" if options.no_distributed else postgresql_missing()
    name, setup = ("SQLite", embedded) if missing else ("PostgreSQL", postgresql)
    rows: list[dict[str, Any]] = []
    with setup(options.work) as env, _store(env) as (store, url):
        for size in sizes:
            _seed(store.engine, size)
            first = _pass(url)
            second = _pass(url)
            rows.append(_growth_row(name, size, first, second))
        with Fleet(options.work / "logs" / "supervision") as fleet:
            _, hub_url = fleet.hub("supervision-hub", env, "--no-workers")
            rows += _ingress_rows(store.engine, url, hub_url, options)
    return {
        "name": "supervision",
        "what": "open cases evaluated in one signal pass; Submit/s during a pass vs without",
        "goal": "time per case flat as cases grow; Submit/s during a pass close to without",
        "skipped": missing,
        "rows": rows,
    }


def postgresql_missing() -> str | None:
    """PostgreSQL is all a pass needs: the hub is measured with --no-workers on memory://."""
    try:
        with postgresql_database():
            return None
    except Exception as exc:
        return f"PostgreSQL is not reachable ({str(exc).strip().splitlines()[0]})"


@contextmanager
def postgresql(work: Path) -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL database; the in-process bus (the hub runs --no-workers)."""
    with postgresql_database() as database_url:
        yield {
            "GOVHUB_DATA_DIR": str(work / "hub-supervision"),
            "GOVHUB_DATABASE_URL": database_url,
            "GOVHUB_BUS_URL": "memory://",
        }


@contextmanager
def _store(env: dict[str, str]) -> Iterator[tuple[Store, str]]:
    settings = Settings(
        data_dir=Path(env["GOVHUB_DATA_DIR"]), database_url=env.get("GOVHUB_DATABASE_URL", "")
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    store = Store(url)
    store.upgrade()
    try:
        yield store, url
    finally:
        store.dispose()


def _seed(engine: Engine, count: int) -> None:
    """Exactly ``count`` open cases, no signal: the tables are emptied first."""
    with engine.begin() as connection:
        for table in (signals, events, cases):
            connection.execute(delete(table))
    for start in range(0, count, BATCH):
        numbers = range(start, min(start + BATCH, count))
        with engine.begin() as connection:
            connection.execute(insert(cases), [_case(n) for n in numbers])
            connection.execute(insert(events), [_event(n) for n in numbers])


def _accepted(n: int) -> datetime:
    return FIRST_ACCEPTED + timedelta(days=n % 21, minutes=n % 480)


def _case(n: int) -> dict[str, Any]:
    accepted = _accepted(n)
    return {
        "case_number": f"BENCH-{n:07d}",
        "item_code": "MZ-HYDJ-001",
        "item_name": "结婚登记",
        "department": "MARRIAGE_REGISTRY",
        "accepted_at": accepted,
        "catalogue_version": 1,
        "limits": LIMITS,
        "steps_done": "",
        "status": "open",
        "suspended_since": None,
        "outcome": "",
        "concluded_at": None,
        "last_event_at": accepted,
    }


def _event(n: int) -> dict[str, Any]:
    accepted = _accepted(n)
    late = timedelta(hours=30) if n % 20 == 0 else timedelta(minutes=1)
    return {
        "case_number": f"BENCH-{n:07d}",
        "kind": "CaseAccepted",
        "step": "",
        "happened_at": accepted,
        "reported_at": accepted + late,
        "handler": "",
        "outcome": "",
        "reason": "",
        "sender": "MARRIAGE_REGISTRY",
        "idempotency_key": f"bench-{n}",
        "message_id": f"bench-{n}",
    }


def _pass(url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.supervision_pass", url, EVALUATED_AT],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _growth_row(
    setup: str, size: int, first: dict[str, Any], second: dict[str, Any]
) -> dict[str, Any]:
    return {
        "setup": f"pass, {setup}",
        "cases": size,
        "first_pass_s": round(first["seconds"], 2),
        "first_us_per_case": round(first["seconds"] / size * 1e6, 1),
        "issued": first["issued"],
        "second_pass_s": round(second["seconds"], 2),
        "second_us_per_case": round(second["seconds"] / size * 1e6, 1),
    }


def _ingress_rows(engine: Engine, url: str, hub_url: str, options: Any) -> list[dict[str, Any]]:
    seconds, concurrency = options.seconds, options.concurrency
    count = int(seconds * 4000)
    warm = [messages.submit(2_000, n) for n in range(100)]
    closed_loop(hub_url, warm, concurrency=concurrency, seconds=30)
    alone = closed_loop(
        hub_url, messages.mixed(count, seed=11), concurrency=concurrency, seconds=seconds
    )
    with engine.begin() as connection:
        connection.execute(delete(signals))  # the next pass is a first pass again
    with _locks_taken(url) as locks:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.supervision_pass", url, EVALUATED_AT],
            env={**os.environ, "PGAPPNAME": PASS_NAME},
            stdout=subprocess.PIPE,
            text=True,
        )
        during = closed_loop(
            hub_url,
            messages.mixed(count, seed=12),
            concurrency=concurrency,
            seconds=options.seconds,
        )
        out, _ = process.communicate()
    pass_seconds = json.loads(out.strip().splitlines()[-1])["seconds"]
    row = load_row("Submit during a first pass", during, alone)
    row["pass_s"] = round(pass_seconds, 2)
    row["pass_locks"] = ", ".join(sorted(locks)) if url.startswith("postgresql") else None
    return [load_row("Submit alone", alone, None), row]


@contextmanager
def _locks_taken(url: str) -> Iterator[set[str]]:
    """The table locks the pass's connections hold, sampled every 5 ms while it runs
    (PostgreSQL's pg_locks; nothing on SQLite)."""
    taken: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as connection:
            while not stop.wait(0.005):
                for table, mode in connection.execute(LOCKS, (PASS_NAME,)):
                    taken.add(f"{table}:{mode}")

    thread = threading.Thread(target=sample, daemon=True)
    if url.startswith("postgresql"):
        thread.start()
    try:
        yield taken
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
