"""psycopg's CPU to turn a record batch's parameters into what goes on the wire: the arrays
typed by their columns (hub/store/arrays.py, as the hub sends them) against the same values
in untyped arrays, which psycopg inspects to choose each one's type (the baseline, measured
in the same run). No database: only the client's conversion is measured, as each execution
makes it (a new cursor, so a new transformer, every time).

    python -m bench.array_dumps [--records 4] [--seconds 2]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg._queries import PostgresQuery
from psycopg.adapt import Transformer

from hub.store import recorded_rows
from hub.store.arrays import BinaryArray

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def record_parameters(records: int) -> dict[str, Any]:
    """The parameters of ``recorded_rows.record`` for ``records`` delivered attempts."""
    attempts = [
        {
            "delivery_id": 1000 + n,
            "attempt": 1,
            "started_at": NOW,
            "duration_ms": 12,
            "outcome": "delivered",
            "error_class": None,
            "error_message": None,
            "response_excerpt": "<ack>accepted</ack>",
            "payload_sha256": "ab" * 32,
            "outbound_mapping": "TAX/outbound/MarriageRegistered@1",
        }
        for n in range(records)
    ]
    moves = [
        {
            "id": 1000 + n,
            "attempt": 1,
            "target": "delivered",
            "retry_at": None,
            "error": None,
            "mapping": "TAX/outbound/MarriageRegistered@1",
            "version": "1",
            "payload": b"<doc/>" * 300,
            "entries": 1,
        }
        for n in range(records)
    ]
    return {
        **recorded_rows.ATTEMPTS.parameters(attempts),
        **recorded_rows._MOVES.parameters(moves),
        "m_now": NOW + timedelta(seconds=1),
    }


def _untyped(parameters: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: BinaryArray(value) if isinstance(value, BinaryArray) else value
        for name, value in parameters.items()
    }


def _query(parameters: Mapping[str, Any]) -> str:
    return "SELECT " + ", ".join(f"%({name})s" for name in parameters)


def cpu_per_conversion(
    variants: Mapping[str, Mapping[str, Any]], seconds: float
) -> dict[str, float]:
    """µs of this thread's CPU per conversion of each variant's parameters, measured in
    alternating blocks so that a noisy neighbour weighs on every variant alike."""
    queries = {name: _query(parameters) for name, parameters in variants.items()}
    spent = dict.fromkeys(variants, 0.0)
    blocks = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, parameters in variants.items():
            started = time.thread_time()
            for _ in range(_BLOCK):
                PostgresQuery(Transformer()).convert(queries[name], parameters)
            spent[name] += time.thread_time() - started
        blocks += 1
    return {name: total / (blocks * _BLOCK) * 1e6 for name, total in spent.items()}


_BLOCK = 20


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.array_dumps", description=__doc__)
    parser.add_argument("--records", type=int, default=4, help="attempt records per batch")
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    typed = record_parameters(options.records)
    untyped = _untyped(typed)
    for round_number in range(1, options.rounds + 1):
        spent = cpu_per_conversion({"untyped": untyped, "typed": typed}, options.seconds)
        baseline, hub = spent["untyped"], spent["typed"]
        row = {
            "round": round_number,
            "records": options.records,
            "arrays": sum(isinstance(value, BinaryArray) for value in typed.values()),
            "untyped_us": round(baseline, 1),
            "typed_us": round(hub, 1),
            "typed_over_untyped": round(hub / baseline, 2),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
