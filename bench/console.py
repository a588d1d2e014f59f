"""7. Console: the pages an operator browses, served over HTTP by `govhub serve --no-workers`,
with a big store behind them (1,000,000 messages by default, two legs each; --quick: 20,000).

The store is filled by bulk insert (not through Submit: only the pages are measured), on
PostgreSQL when it is reachable (GOVHUB_BENCH_DATABASE_URL, else GOVHUB_TEST_DATABASE_URL,
else the default in bench/backends.py), else on SQLite. Messages arrive one every 2.5 s back
from now (a month for a million); 1 TAX leg in 50 failed, 1 in 200 retrying, the rest
delivered half a second after arrival with one attempt (attempts kept for the last day only);
one citizen is named by 20 messages spread over the month. Each page is asked for
``REPEATS`` times after one warm-up; the baseline is /health in the same run.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, insert, inspect

from bench.backends import postgresql_database, postgresql_missing
from bench.processes import Fleet
from bench.stats import ratio
from hub.identity import make_number
from hub.security.admins import AdminStore
from hub.store import Store
from hub.store.models import AttemptRow, DeliveryRow, MessageIdentityRow, MessageRow

FULL_MESSAGES = 1_000_000
QUICK_MESSAGES = 20_000
BATCH = 5_000
SPACING = timedelta(seconds=2.5)
PERSON = make_number("11010519900307", "131")
PERSON_MESSAGES = 20
SENDERS = ("MARRIAGE_REGISTRY", "HOUSEHOLD", "CIVIL_AFFAIRS", "COURTS", "HEALTH")
TYPES = ("MarriageRegistered", "BirthRegistered", "AddressChanged")
GOAL_MS = 300.0
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_AFTER = re.compile(r'name="after" value="([^"]+)"')


def run(options: Any) -> dict[str, Any]:
    count = options.console_messages or (QUICK_MESSAGES if options.quick else FULL_MESSAGES)
    repeats = 5 if options.quick else 20
    with database(options) as (backend, env), Fleet(options.work / "logs" / "console") as fleet:
        store = Store(env["GOVHUB_DATABASE_URL"])
        store.upgrade()
        started = time.monotonic()
        newest_id = fill(store, count, datetime.now(UTC))
        fill_seconds = round(time.monotonic() - started, 1)
        account = AdminStore(store.engine).add("bench-reader", ["read"], actor="bench")
        store.engine.dispose()
        _, url = fleet.hub("console", env, "--no-workers")
        client = _logged_in(url, account.username, account.secret)
        rows = _measure_pages(client, url, newest_id, repeats)
    return {
        "name": "console",
        "what": f"console pages over HTTP, {count:,} messages ({backend}), ms per page",
        "goal": f"every page under {GOAL_MS:.0f} ms (median)",
        "fill_seconds": fill_seconds,
        "rows": rows,
    }


@contextmanager
def database(options: Any) -> Iterator[tuple[str, dict[str, str]]]:
    env = {"GOVHUB_DATA_DIR": str(options.work / "hub-console"), "GOVHUB_BUS_URL": "memory://"}
    if not options.no_distributed and postgresql_missing() is None:
        with postgresql_database() as url:
            yield "PostgreSQL", {**env, "GOVHUB_DATABASE_URL": url}
        return
    Path(env["GOVHUB_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{Path(env['GOVHUB_DATA_DIR']).resolve() / 'hub.db'}"
    yield "SQLite", {**env, "GOVHUB_DATABASE_URL": url}


def fill(
    store: Store,
    count: int,
    now: datetime,
    *,
    person_messages: int = PERSON_MESSAGES,
    spacing: timedelta = SPACING,
    body: Callable[[int], bytes] | None = None,
) -> str:
    """``count`` messages with their legs, newest first, ``spacing`` apart, ``person_messages``
    of them naming PERSON; the newest message's id. ``body``: message n's original and
    canonical (default: a few bytes), also kept as the payload of its delivered legs."""
    person_hash = store.identities.digest(PERSON)
    key_id = store.identities.key_id
    every = max(count // person_messages, 1)
    # A fill at a schema before 0027_failures_newest (bench/storage.py's "before"): the
    # migration copies the messages' arrival onto the legs when it runs.
    arrival = "received_at" in {c["name"] for c in inspect(store.engine).get_columns("deliveries")}
    for start in range(0, count, BATCH):
        numbers = range(start, min(start + BATCH, count))
        messages, legs, attempts, identities = [], [], [], []
        for n in numbers:
            message_id = f"{n:08d}-bench-0000-0000-000000000000"
            received = now - spacing * n
            document = body(n) if body else None
            messages.append(_message(n, message_id, received, document))
            for offset, department in enumerate(("SOCIAL_SECURITY", "TAX")):
                leg_id = 2 * n + offset + 1
                state = _state(n, department)
                delivered_at = received + timedelta(seconds=0.5) if state == "delivered" else None
                leg = _leg(leg_id, message_id, department, state, received, delivered_at)
                if not arrival:
                    del leg["received_at"]
                legs.append({**leg, "payload": document if delivered_at else None})
                if received > now - timedelta(days=1):
                    attempts.append(_attempt(leg_id, received, state))
            hashed = person_hash if n % every == 0 else f"{n:064x}"
            identities.append(
                {"message_id": message_id, "identity_sha256": hashed, "key_id": key_id}
            )
        _insert(store.engine, (MessageRow, messages), (DeliveryRow, legs))
        _insert(store.engine, (AttemptRow, attempts), (MessageIdentityRow, identities))
    _analyze(store.engine)
    return f"{0:08d}-bench-0000-0000-000000000000"


def _state(n: int, department: str) -> str:
    if department == "TAX" and n % 50 == 7:
        return "failed"
    if department == "TAX" and n % 200 == 11:
        return "retrying"
    return "delivered"


def _message(n: int, message_id: str, received: datetime, document: bytes | None) -> dict[str, Any]:
    return {
        "id": message_id,
        "message_type": TYPES[n % len(TYPES)],
        "sender": SENDERS[n % len(SENDERS)],
        "correlation_id": f"case-{n % 100_000}",
        "idempotency_key": message_id,
        "purpose": "bench",
        "sent_at": received,
        "received_at": received,
        "schema_version": "1.0",
        "original": document or b"<bench/>",
        "original_content_type": "application/soap+xml",
        "original_sha256": "0" * 64,
        "canonical": document or b"<bench/>",
        "canonical_sha256": "0" * 64,
    }


def _leg(
    leg_id: int,
    message_id: str,
    department: str,
    state: str,
    received: datetime,
    delivered_at: datetime | None,
) -> dict[str, Any]:
    return {
        "id": leg_id,
        "message_id": message_id,
        "department": department,
        "state": state,
        "attempts": 1,
        "lease_until": received,
        "next_attempt_at": received + timedelta(minutes=5) if state == "retrying" else None,
        "last_error": None if state == "delivered" else "PermanentDeliveryError: rejected",
        "delivered_at": delivered_at,
        "idempotency_key": f"{message_id}:{department}",
        "queued_at": received,
        "received_at": received,
    }


def _attempt(leg_id: int, received: datetime, state: str) -> dict[str, Any]:
    outcome = {"delivered": "delivered", "failed": "failed"}.get(state, "retry")
    return {
        "delivery_id": leg_id,
        "started_at": received + timedelta(seconds=0.1),
        "duration_ms": 40,
        "outcome": outcome,
    }


def _insert(engine: Engine, *tables: tuple[type[Any], list[dict[str, Any]]]) -> None:
    with engine.begin() as connection:
        for table, rows in tables:
            if rows:
                connection.execute(insert(table), rows)


def _analyze(engine: Engine) -> None:
    """Fresh planner statistics, as autovacuum would have after a month of traffic."""
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


def _logged_in(url: str, username: str, secret: str) -> requests.Session:
    client = requests.Session()
    form = client.get(f"{url}/console/login", timeout=30)
    client.post(
        f"{url}/console/login",
        data={"csrf": _csrf(form.text), "username": username, "secret": secret},
        timeout=30,
    )
    return client


def _measure_pages(
    client: requests.Session, url: str, newest_id: str, repeats: int
) -> list[dict[str, Any]]:
    csrf = _csrf(client.get(f"{url}/console/messages", timeout=30).text)

    def later_page() -> requests.Response:
        """The 11th page: ten "Next page" forms followed, the last one timed."""
        return client.post(
            f"{url}/console/messages", data={"csrf": csrf, "after": cursor}, timeout=30
        )

    cursor = ""
    for _ in range(10):
        page = client.post(
            f"{url}/console/messages", data={"csrf": csrf, "after": cursor}, timeout=30
        )
        found = _AFTER.search(page.text)
        assert found, page.text[-500:]
        cursor = found.group(1)
    pages: list[tuple[str, Callable[[], requests.Response]]] = [
        ("/health (baseline)", lambda: client.get(f"{url}/health", timeout=30)),
        ("messages, first page", lambda: client.get(f"{url}/console/messages", timeout=30)),
        (
            "messages, failed at TAX",
            lambda: client.get(
                f"{url}/console/messages",
                params={"state": "failed", "department": "TAX"},
                timeout=30,
            ),
        ),
        ("messages, page 11 (keyset)", later_page),
        (
            "messages, by identity number",
            lambda: client.post(
                f"{url}/console/messages", data={"csrf": csrf, "person": PERSON}, timeout=30
            ),
        ),
        ("a message's page", lambda: client.get(f"{url}/console/messages/{newest_id}", timeout=30)),
        ("dashboard", lambda: client.get(f"{url}/console/dashboard", timeout=60)),
    ]
    timed = {name: _timed(ask, repeats) for name, ask in pages}
    baseline = timed["/health (baseline)"][0]
    return [
        {
            "page": name,
            "median_ms": round(median, 1),
            "max_ms": round(slowest, 1),
            "ratio": ratio(median, baseline),
        }
        for name, (median, slowest) in timed.items()
    ]


def _timed(ask: Callable[[], requests.Response], repeats: int) -> tuple[float, float]:
    answer = ask()  # warm-up, and the page must be a page
    assert answer.status_code == 200, f"{answer.status_code}: {answer.text[:300]}"
    spent = []
    for _ in range(repeats):
        started = time.perf_counter()
        ask().raise_for_status()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent), max(spent)


def _csrf(page: str) -> str:
    found = _CSRF.search(page)
    assert found, page[:300]
    return found.group(1)
