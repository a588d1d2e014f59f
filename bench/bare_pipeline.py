"""The baseline for the hub's CPU per delivery: the least a delivery pipeline can do here.

Written for the benchmark, not the hub: kombu consumers on durable RabbitMQ queues of the same
kind as the hub's (direct exchange, persistent messages, prefetch 1, ack after the write), a
``requests`` POST of the same prepared bytes the hub sent to the same mock department (the
idempotency key swapped in), and one PostgreSQL UPDATE per delivery, batched as the hub
batches its records (one writer thread, everything waiting up to the same group size, one
transaction, ``synchronous_commit`` off as the hub's record connections). It is laid out as
the hub's workers are: the same number of processes and of consumer threads per department.

``bench/end_to_end.py`` runs it on the same backlog as the hub's drain (same messages, same
departments) and measures its processes' CPU the same way: from the first confirmation to
the last. ``python -m bench.bare_pipeline SPEC.json`` is one of its processes.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import kombu
import psycopg
import requests
from sqlalchemy.engine import make_url

from bench.processes import Fleet, process_cpu_seconds
from hub.config import Settings

_kombu: Any = kombu
EXCHANGE = "govhub.bench.bare"
SETTLE_SECONDS = 300.0
DELIVERED = "SELECT count(*) FROM bare_deliveries WHERE delivered_at IS NOT NULL"
# Same length as the keys swapped in for it, so a prepared body keeps its size.
KEY_PLACEHOLDER = "bare-key-" + "x" * 32
ROUTED = ("SOCIAL_SECURITY", "TAX")  # MarriageRegistered's departments in the drain


@dataclass(frozen=True)
class Prepared:
    """One department's request as the hub sent it, with a placeholder for the key."""

    department: str
    url: str
    body: str  # latin-1 text of the bytes (JSON carries no bytes)
    headers: dict[str, str]


@dataclass(frozen=True)
class Spec:
    amqp_url: str
    queue_prefix: str
    database_url: str  # plain libpq (psycopg) URL
    consumers_per_department: int
    group_size: int
    requests: list[Prepared]


def bare_baseline(
    fleet: Fleet, work: Path, env: dict[str, str], hub_database: Any, messages: int, workers: int
) -> dict[str, float]:
    """Drain ``messages`` MarriageRegistered (two legs each) through the bare pipeline, in as
    many processes as the hub has workers; its CPU per confirmed delivery (``cpu_ms_bare``)
    from the first confirmation to the last, as the hub's is measured."""
    settings = Settings.from_env({**os.environ, **env})  # the workers' layout and group size
    database = make_url(env["GOVHUB_DATABASE_URL"]).set(drivername="postgresql")
    spec = Spec(
        amqp_url=env["GOVHUB_BUS_URL"],
        queue_prefix=env["GOVHUB_QUEUE_PREFIX"] + "bare.",
        database_url=database.render_as_string(hide_password=False),
        consumers_per_department=settings.consumers_per_department,
        group_size=settings.delivery_batch_size,
        requests=prepare(hub_database, env["GOVHUB_DEPARTMENT_ENDPOINTS"]),
    )
    spec_file = work / "bare.json"
    spec_file.write_text(json.dumps(asdict(spec)), encoding="utf-8")
    total = messages * len(ROUTED)
    fill(spec.database_url, spec.amqp_url, spec.queue_prefix, messages)
    try:
        processes = [
            fleet.spawn(f"bare-{n}", ["-m", "bench.bare_pipeline", str(spec_file)], {})
            for n in range(workers)
        ]
        while (first := delivered(spec.database_url)) == 0:
            time.sleep(0.05)
        cpu_first = sum(process_cpu_seconds(p.pid) for p in processes)
        started = time.monotonic()
        while (last := delivered(spec.database_url)) < total:
            if time.monotonic() - started > SETTLE_SECONDS:
                raise RuntimeError(f"the bare pipeline delivered {last} of {total}")
            time.sleep(0.1)
        seconds = time.monotonic() - started
        cpu_last = sum(process_cpu_seconds(p.pid) for p in processes)
        for process in processes:
            process.terminate()
    finally:
        delete(spec.amqp_url, spec.queue_prefix)
    count = last - first
    return {
        "bare_deliveries_per_second": round(count / seconds, 1) if seconds > 0 else 0.0,
        "cpu_ms_bare": round((cpu_last - cpu_first) * 1000 / count, 2) if count else 0.0,
    }


def prepare(hub_database: Any, endpoints: str) -> list[Prepared]:
    """The bytes and headers the hub's adapters send for a MarriageRegistered to each routed
    department, built from a leg the hub delivered (its stored document)."""
    from sqlalchemy import text

    from adapters.rest import IDEMPOTENCY_HEADER
    from adapters.soap import SoapAdapter
    from hub.departments import DepartmentDirectory, parse_endpoint_overrides
    from hub.resources import DEFAULTS_ROOT
    from hub.xmlparse import parse

    directory = DepartmentDirectory.from_file(DEFAULTS_ROOT / "departments.toml")
    directory = directory.with_endpoints(parse_endpoint_overrides(endpoints))
    query = text(
        "SELECT payload FROM deliveries WHERE department = :code AND payload IS NOT NULL LIMIT 1"
    )
    prepared = []
    with hub_database.connect() as connection:
        for code in ROUTED:
            payload = connection.execute(query, {"code": code}).scalar_one()
            config = directory.get(code)
            operation = config.operations["MarriageRegistered"]
            if config.adapter == "soap":
                adapter = SoapAdapter(config)
                call = adapter._operations[operation]
                body, headers = adapter._request(call, parse(bytes(payload)), KEY_PLACEHOLDER)
                adapter.close()
                url = config.endpoint
            else:  # REST: the JSON as RestAdapter writes it
                body = json.dumps(json.loads(bytes(payload)), ensure_ascii=False).encode("utf-8")
                headers = {
                    "Content-Type": "application/json; charset=utf-8",
                    "Accept": "application/json",
                    IDEMPOTENCY_HEADER: KEY_PLACEHOLDER,
                }
                url = config.endpoint.rstrip("/") + operation
            prepared.append(Prepared(code, url, body.decode("latin-1"), headers))
    return prepared


def fill(database_url: str, amqp_url: str, queue_prefix: str, messages: int) -> None:
    """The backlog: a row per delivery and its task on the department's queue."""
    tasks = [
        (n * len(ROUTED) + i + 1, code) for n in range(messages) for i, code in enumerate(ROUTED)
    ]
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE bare_deliveries (id bigint PRIMARY KEY, department text NOT NULL, "
            "state text NOT NULL DEFAULT 'pending', delivered_at timestamptz)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bare_deliveries (id, department) VALUES (%s, %s)", tasks
            )
    with _kombu.Connection(amqp_url) as connection:
        producer = connection.Producer()
        for delivery_id, code in tasks:
            queue = _queue(queue_prefix, code)
            producer.publish(
                {"delivery_id": delivery_id, "department": code, "idempotency_key": "bare"},
                exchange=queue.exchange,
                routing_key=queue.routing_key,
                declare=[queue],
                serializer="json",
                delivery_mode=2,
            )


def delete(amqp_url: str, queue_prefix: str) -> None:
    with _kombu.Connection(amqp_url) as connection:
        channel = connection.default_channel
        for code in ROUTED:
            _queue(queue_prefix, code)(channel).delete()


def delivered(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        row = connection.execute(DELIVERED).fetchone()
    return int(row[0]) if row else 0


def _queue(prefix: str, department: str) -> Any:
    name = prefix + department
    exchange = _kombu.Exchange(EXCHANGE, type="direct", durable=True)
    return _kombu.Queue(name, exchange, routing_key=name, durable=True)


class _Recorder:
    """One writer thread: every waiting delivery's UPDATE in one transaction."""

    def __init__(self, database_url: str, group_size: int) -> None:
        from hub.store.batching import Batcher  # the hub's own grouping, stdlib only

        self._connection = psycopg.connect(database_url)
        self._connection.execute("SET synchronous_commit TO OFF")
        self._connection.commit()
        self._batcher: Batcher[int, None] = Batcher(
            self._many, self._one, name="bare-commit", max_batch=group_size
        )
        self.submit = self._batcher.submit

    def _many(self, ids: Sequence[int]) -> list[None]:
        with self._connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE bare_deliveries SET state = 'delivered', delivered_at = now() "
                "WHERE id = %s",
                [(delivery_id,) for delivery_id in ids],
            )
        self._connection.commit()
        return [None] * len(ids)

    def _one(self, delivery_id: int) -> None:
        self._many([delivery_id])


def _consume(spec: Spec, prepared: Prepared, recorder: _Recorder, session: Any) -> None:
    body = prepared.body.encode("latin-1")
    placeholder = KEY_PLACEHOLDER.encode("ascii")
    run = uuid.uuid4().hex[:8]

    def on_message(task: dict[str, Any], message: Any) -> None:
        key = f"bare-{run}-{task['delivery_id']:023d}"  # as long as the placeholder
        headers = {
            name: (key if value == KEY_PLACEHOLDER else value)
            for name, value in prepared.headers.items()
        }
        answer = session.post(
            prepared.url,
            data=body.replace(placeholder, key.encode("ascii")),
            headers=headers,
            timeout=30,
        )
        if 200 <= answer.status_code < 300:
            recorder.submit(int(task["delivery_id"]))
        message.ack()

    with (
        _kombu.Connection(spec.amqp_url) as connection,
        connection.Consumer(
            [_queue(spec.queue_prefix, prepared.department)],
            callbacks=[on_message],
            accept=["json"],
            prefetch_count=1,
        ),
    ):
        while True:
            try:
                connection.drain_events(timeout=1.0)
            except TimeoutError:
                continue


def main(argv: list[str]) -> None:
    raw = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    spec = Spec(**{**raw, "requests": [Prepared(**r) for r in raw["requests"]]})
    recorder = _Recorder(spec.database_url, spec.group_size)
    threads = []
    for prepared in spec.requests:
        session = requests.Session()  # one keep-alive pool per department, as the hub's
        session.trust_env = False
        for _ in range(spec.consumers_per_department):
            thread = threading.Thread(
                target=_consume, args=(spec, prepared, recorder, session), daemon=True
            )
            thread.start()
            threads.append(thread)
    for thread in threads:  # until the benchmark ends the process
        thread.join()


if __name__ == "__main__":
    main(sys.argv[1:])
