"""Federation: what one hop to a neighbour hub costs. Two `govhub serve` processes (county
320102 and city 320100, embedded SQLite each) and mock departments beside each; every
marriage Submitted at the county goes to the county's own TAX and, forwarded, to the city's
TAX. Per message: seconds from the county's acceptance to the local TAX delivery (the
baseline) and to the city's TAX delivery (through the forward), in the same run; and how long
each set of legs took to drain.

Marriages go through both hubs first and are not counted, one per request thread: a hub's
first requests compile its schemas, which is the cost of a start, not of a hop. The hubs' CPU
seconds over the measured messages, per message: the county accepts, delivers and forwards
each one; the city takes the forward in and delivers it."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import messages
from bench.load import closed_loop
from bench.processes import Fleet, Process, process_cpu_seconds
from bench.stats import latency_ms, ratio
from hub.config import DEFAULT_MAILBOX_WAIT_SLOTS
from hub.store import Store, delivery_key
from hub.store.models import MessageRow
from hub.webserver import DEFAULT_THREADS

COUNTY, CITY = "320102", "320100"
# Marriages through both hubs before the measured ones: one per request thread of a hub
# (waitress hands each request to its longest-idle thread, and a thread compiles the header
# and canonical schemas at its first request: ~3.5 ms, the cost of a start, not of a hop).
WARM_UP = DEFAULT_THREADS + DEFAULT_MAILBOX_WAIT_SLOTS + 8
ROUTES = """
[MarriageRegistered]
senders = ["MARRIAGE_REGISTRY"]
receivers = ["TAX", "320100/TAX"]
"""


def run(options: Any) -> dict[str, Any]:
    count = max(50, int(options.seconds * 40))
    work: Path = options.work / "federation"
    work.mkdir(parents=True)
    (work / "link").write_text(uuid.uuid4().hex)
    (work / "routes.toml").write_text(ROUTES)
    with Fleet(work / "logs") as fleet:
        city, city_url = _hub(fleet, work, CITY, f'[[children]]\ndivision = "{COUNTY}"\n', "")
        county, county_url = _hub(fleet, work, COUNTY, f'[parent]\ndivision = "{CITY}"\n', city_url)
        county_store = Store(f"sqlite:///{work / COUNTY / 'hub.db'}")
        city_store = Store(f"sqlite:///{work / CITY / 'hub.db'}")
        try:
            warm = [messages.submit(2_000, count + n) for n in range(WARM_UP)]
            closed_loop(county_url, warm, concurrency=options.concurrency, seconds=120)
            warmed = set(_accepted(county_store))
            _latencies(county_store, city_store, sorted(warmed), seconds=120)
            cpu_before = [process_cpu_seconds(p.pid) for p in (county, city)]
            bodies = [messages.submit(2_000, n) for n in range(count)]
            sent = closed_loop(county_url, bodies, concurrency=options.concurrency, seconds=120)
            ids = [i for i in _accepted(county_store) if i not in warmed]
            local, forwarded = _latencies(county_store, city_store, ids, seconds=180)
            cpu = [
                process_cpu_seconds(p.pid) - b
                for p, b in zip((county, city), cpu_before, strict=True)
            ]
        finally:
            county_store.dispose()
            city_store.dispose()
    county_cpu, city_cpu = (round(seconds * 1000 / max(1, len(ids)), 2) for seconds in cpu)
    rows: list[dict[str, Any]] = [
        {"leg": "county TAX (baseline)", **latency_ms(local), "delivered": len(local)},
        {"leg": "city TAX, one hop", **latency_ms(forwarded), "delivered": len(forwarded)},
    ]
    for quantile in ("p50", "p99"):
        rows[1][f"{quantile}_ratio"] = ratio(rows[1][f"{quantile}_ms"], rows[0][f"{quantile}_ms"])
    # Each row's hub: the county accepts, delivers and forwards; the city takes in, delivers.
    rows[0]["hub_cpu_ms_per_msg"], rows[1]["hub_cpu_ms_per_msg"] = county_cpu, city_cpu
    return {
        "name": "federation",
        "what": f"{len(ids)} marriages ({sent.ok} accepted): accepted -> delivered, locally "
        "and one hub away; CPU per marriage of the county's hub and of the city's",
        "concurrency": options.concurrency,
        "rows": rows,
    }


def _hub(fleet: Fleet, work: Path, division: str, neighbour: str, url: str) -> tuple[Process, str]:
    """A hub of ``division`` with mocks beside it; ``url``: the neighbour's, once known."""
    folder = work / division
    endpoint = f"{url}/soap" if url else "http://127.0.0.1:9/soap"
    federation = folder.with_suffix(".toml")
    federation.write_text(
        f'division = "{division}"\n{neighbour}endpoint = "{endpoint}"\n'
        f'secret = "file:{work / "link"}"\n'
    )
    env = {
        "GOVHUB_DATA_DIR": str(folder),
        "GOVHUB_BUS_URL": "memory://",
        "GOVHUB_FEDERATION_FILE": str(federation),
        "GOVHUB_ROUTES_FILE": str(work / "routes.toml"),
    }
    endpoints = fleet.mocks(folder, "http://127.0.0.1:9")
    return fleet.hub(f"hub-{division}", {**env, **endpoints})


def _accepted(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.scalars(select(MessageRow.id)))


def _latencies(
    county: Store, city: Store, ids: list[str], seconds: float
) -> tuple[list[float], list[float]]:
    """Accepted -> delivered at the county's TAX, and at the city's TAX through the forward;
    waits until every leg is delivered or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    local: dict[str, float] = {}
    forwarded: dict[str, float] = {}
    while time.monotonic() < deadline and (len(local) < len(ids) or len(forwarded) < len(ids)):
        for message_id in ids:
            status = county.message_status(message_id)
            legs = {d.department: d for d in status.deliveries}
            tax = legs["TAX"]
            if message_id not in local and tax.delivered_at is not None:
                local[message_id] = (tax.delivered_at - status.received_at).total_seconds()
            if message_id not in forwarded and legs[f"{CITY}/TAX"].state == "delivered":
                there = city.message_status(delivery_key(message_id, f"{CITY}/TAX"))
                if there.deliveries[0].delivered_at is not None:
                    arrived = there.deliveries[0].delivered_at - status.received_at
                    forwarded[message_id] = arrived.total_seconds()
        time.sleep(0.5)
    return list(local.values()), list(forwarded.values())
