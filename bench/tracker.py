"""13. Tracker: one person's data trail (`govhub tracker`'s Tracker.for_operator, and the
first page of GetDataUsage's citizen view) with a big store behind it: 1,000,000 messages of
which 10,000 name the person, plus 200 queries about them, 100 reveals and 100 replays of
their messages (--quick: 20,000 messages, 200 naming them, a tenth of the rest).

The store is filled as the console benchmark fills it (bench/console.py, bulk insert, on
PostgreSQL when reachable, else SQLite). Each call is made ``repeats`` times after one
warm-up; the baseline in the same run is the bare identity-index read of the person's
message ids (the least any answer must do).
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bench.console import PERSON, database, fill
from bench.stats import ratio
from hub.identity import mask
from hub.query.tables import query_log
from hub.security import audit
from hub.security.admins import AdminStore
from hub.store import Store
from hub.store.models import MessageIdentityRow, OperatorActionRow
from hub.tracker import Tracker, TrackerRules

FULL_MESSAGES = 1_000_000
QUICK_MESSAGES = 20_000
FULL_PERSON_MESSAGES = 10_000
QUICK_PERSON_MESSAGES = 200
GOAL_MS = 1000.0
PORTAL = "CITIZEN_PORTAL"


def run(options: Any) -> dict[str, Any]:
    count = QUICK_MESSAGES if options.quick else FULL_MESSAGES
    mine = QUICK_PERSON_MESSAGES if options.quick else FULL_PERSON_MESSAGES
    repeats = 3 if options.quick else 10
    with database(options) as (backend, env):
        store = Store(env["GOVHUB_DATABASE_URL"])
        store.upgrade()
        started = time.monotonic()
        now = datetime.now(UTC)
        fill(store, count, now, person_messages=mine)
        _more_about_the_person(store, now, mine // 50)
        fill_seconds = round(time.monotonic() - started, 1)
        accounts = AdminStore(store.engine)
        accounts.add("bench-tracker", ["tracker"], actor="bench")
        tracker = Tracker(store, TrackerRules(frozenset({PORTAL}), {}), accounts)
        entries = len(tracker.for_operator("bench-tracker", PERSON, via="bench"))
        rows = [
            _row("identity index only (baseline)", lambda: _bare_index(store), repeats),
            _row(
                "govhub tracker (operator, every entry)",
                lambda: tracker.for_operator("bench-tracker", PERSON, via="bench"),
                repeats,
            ),
            _row(
                "GetDataUsage page 1 of 100 (citizen)",
                lambda: tracker.for_citizen(PORTAL, PERSON, PERSON, page=1, page_size=100),
                repeats,
            ),
        ]
        store.dispose()
    base = rows[0]["median_ms"]
    for row in rows:
        row["ratio"] = ratio(row["median_ms"], base)
    return {
        "name": "tracker",
        "what": f"one person's trail, {entries:,} entries among {count:,} messages ({backend})",
        "goal": f"the whole trail under {GOAL_MS:.0f} ms (slowest call)",
        "fill_seconds": fill_seconds,
        "rows": rows,
    }


def _row(name: str, call: Callable[[], object], repeats: int) -> dict[str, Any]:
    call()  # warm-up: the planner's and the schema's caches
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "call": name,
        "median_ms": round(statistics.median(times), 1),
        "slowest_ms": round(max(times), 1),
    }


def _bare_index(store: Store) -> list[str]:
    digests = store.identities.lookup_digests(PERSON)
    query = select(MessageIdentityRow.message_id).where(
        MessageIdentityRow.identity_sha256.in_(digests)
    )
    with store.engine.connect() as connection:
        return list(connection.scalars(query))


def _more_about_the_person(store: Store, now: datetime, each: int) -> None:
    """Queries about the person, and operators' reveals and replays of their messages."""
    digest = store.identities.digest(PERSON)
    with store.engine.begin() as connection:
        ids = list(
            connection.scalars(
                select(MessageIdentityRow.message_id)
                .where(MessageIdentityRow.identity_sha256 == digest)
                .limit(each)
            )
        )
        connection.execute(insert(query_log), [_query(digest, now, n) for n in range(2 * each)])
        connection.execute(insert(OperatorActionRow), [_replay(i, now) for i in ids])
        reason = {"reason": "bench", "via": "cli"}
        reveals = [audit.NewEntry("bench-op", audit.REVEALED, i, now, reason) for i in ids]
        audit.append_many(connection, reveals)
        connection.exec_driver_sql("ANALYZE")


def _query(digest: str, now: datetime, n: int) -> dict[str, Any]:
    answered = [{"part": "address", "department": "TAX", "status": "ok", "values": 1}]
    return {
        "id": str(uuid.uuid4()),
        "requester": "SOCIAL_SECURITY",
        "subject_hash": digest,
        "subject_masked": mask(PERSON),
        "parts": "address",
        "purpose": "pension claim",
        "asked_at": now - timedelta(hours=n),
        "duration_ms": 50,
        "complete": True,
        "answered": json.dumps(answered),
    }


def _replay(message_id: str, now: datetime) -> dict[str, Any]:
    legs = {"legs": [{"department": "TAX", "result": "replayed", "note": ""}]}
    return {
        "action": "replay",
        "actor": "bench-op",
        "reason": "bench",
        "dry_run": False,
        "at": now,
        "message_id": message_id,
        "detail": json.dumps(legs),
    }
