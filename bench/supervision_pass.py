"""python -m bench.supervision_pass DATABASE_URL AT: one signal pass of the worker service over
every open case, as `govhub worker` runs it, in a process of its own (so the load client's
threads and the pass do not share one interpreter lock). Prints JSON: seconds, cases, issued."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime

import hub  # noqa: F401  (hub/compat first, as every hub process)
from hub.config import Settings
from hub.store import Store
from hub.supervision import case_book, load_calendar
from hub.supervision.signals import SignalIssuer


def main(database_url: str, at: str) -> None:
    store = Store(database_url)
    settings = Settings(database_url=database_url)
    issuer = SignalIssuer(
        store.engine,
        case_book(settings, store.engine),
        load_calendar(),
        report_hours=settings.supervision_report_hours,
    )
    started = time.perf_counter()
    done = issuer.run_once(datetime.fromisoformat(at))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "issued": len(done.issued), "closed": len(done.closed)}))
    store.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
