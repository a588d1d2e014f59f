"""python -m bench [--quick] [--only NAME,...] [--json FILE]: run, print a table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.backends import distributed_missing
from bench.machine import describe
from bench.report import print_result

BENCHMARKS = (
    "validate_map",
    "ingest",
    "end_to_end",
    "scaling",
    "large",
    "soap_adapter",
    "supervision",
    "console",
    "catalogue",
    "mailbox",
    "node",
    "query",
    "batch",
    "federation",
    "bundle",
    "tracker",
    "idle",
    "storage",
    "accept_writes",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every benchmark, briefly (CI)")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--seconds", type=float, help="time per measurement")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--no-distributed", action="store_true", help="skip PostgreSQL/RabbitMQ")
    parser.add_argument("--no-embedded", action="store_true", help="skip SQLite/memory://")
    parser.add_argument(
        "--departments",
        metavar="CODE=URL,...",
        help="end to end: deliver to mock departments already running there (e.g. "
        "`govhub mock-departments` on another host, off the hub's cores) instead of "
        "starting them here",
    )
    parser.add_argument(
        "--console-messages",
        type=int,
        metavar="N",
        help="console: messages in the store (default 1,000,000; --quick 20,000)",
    )
    parser.add_argument(
        "--storage-messages",
        type=int,
        metavar="N",
        help="storage: messages in the store (default 200,000; --quick 5,000)",
    )
    parser.add_argument(
        "--soak",
        type=float,
        metavar="MINUTES",
        help="only the soak: the distributed setup at half its maximum rate this long, pruning "
        "on; memory, database size and latency per minute (JSON default soak.json, a PNG beside)",
    )
    parser.add_argument(
        "--soak-rate",
        type=float,
        metavar="N",
        help="soak: submit N messages/s instead of half the maximum measured first",
    )
    options = parser.parse_args(argv)
    options.seconds = options.seconds or (1.0 if options.quick else 8.0)
    if options.soak is not None:
        if options.soak <= 0 or options.only or options.quick:
            parser.error("--soak takes a positive number of minutes, and runs alone")
        options.only = "soak"
        options.json = options.json or Path("soak.json")
        options.soak_png = options.json.with_suffix(".png")
    options.only = options.only.split(",") if options.only else list(BENCHMARKS)
    for name in options.only:
        if name not in BENCHMARKS and options.soak is None:
            parser.error(f"unknown benchmark {name!r} (known: {', '.join(BENCHMARKS)})")
    return options


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    options.distributed_missing = (
        "--no-distributed was given" if options.no_distributed else distributed_missing()
    )
    if options.distributed_missing:
        print(f"distributed runs skipped: {options.distributed_missing}")
    results: dict[str, Any] = {"machine": describe(), "quick": options.quick, "benchmarks": []}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="govhub-bench-") as work:
        options.work = Path(work)
        for name in options.only:
            module = importlib.import_module(f"bench.{name}")
            result = module.run(options)
            print_result(result)
            results["benchmarks"].append(result)
    results["seconds"] = round(time.monotonic() - started, 1)
    if options.json:
        options.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        print(f"written {options.json}")


if __name__ == "__main__":
    main()
