"""The backlog row of goal 1 for several trees of the hub, alternated, in one sitting.

    python -m bench.backlog [--seconds 2] [--rounds 3] TREE [TREE ...]

Each TREE is a folder holding a copy of the hub (``git archive REV | tar -x -C TREE``).
Every round drains a backlog once per tree, in the order given, each in its own process
with ``PYTHONPATH=TREE`` (the hub's API, workers and the mock departments it starts import
that tree; this benchmark's code is this checkout's for every tree), then the bare pipeline
on the same backlog (bench/bare_pipeline.py). One JSON line per drain: the tree, the load
average when it began, deliveries/s, the hub's and the bare pipeline's CPU per delivery and
their ratio (docs/performance.md, goal 1). Runs on these shared two cores differ by a
quarter and more from one another: compare trees by several alternated rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path

COLUMNS = (
    "deliveries_per_second",
    "cpu_ms_hub",
    "cpu_ms_bare",
    "hub_over_bare",
    "cpu_ms_mocks",
    "cpu_ms_postgres",
)


def drain_once(seconds: float) -> dict[str, object]:
    """One backlog row, with the hub of this process's ``PYTHONPATH``."""
    from bench.end_to_end import _drain_backlog  # here: the tree's hub on the path first

    work = Path(tempfile.mkdtemp(prefix="govhub-backlog-"))
    options = types.SimpleNamespace(
        work=work, seconds=seconds, quick=False, concurrency=16, departments=None
    )
    row = _drain_backlog("backlog", options)
    return {column: row.get(column) for column in COLUMNS}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backlog", description=__doc__)
    parser.add_argument("trees", nargs="*", type=Path, help="folders with a copy of the hub")
    parser.add_argument("--seconds", type=float, default=2.0, help="backlog: 600 per second")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a child
    options = parser.parse_args()
    if options.one:
        print(json.dumps(drain_once(options.seconds)))
        return
    if not options.trees:
        parser.error("name at least one tree (a folder with a copy of the hub)")
    here = str(Path(__file__).resolve().parent.parent)
    for round_number in range(1, options.rounds + 1):
        for tree in options.trees:
            load = os.getloadavg()[0]
            env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
            command = ["-m", "bench.backlog", "--one", "--seconds", str(options.seconds)]
            child = subprocess.run(
                [sys.executable, *command],
                env=env,
                cwd=_bench_only_folder(here),
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(child.stdout.strip().splitlines()[-1])
            line = {"round": round_number, "tree": str(tree), "load": round(load, 1), **row}
            print(json.dumps(line), flush=True)


def _bench_only_folder(here: str) -> str:
    """A folder holding only a link to this checkout's ``bench``: run from it, ``hub``
    comes from the tree on ``PYTHONPATH`` and ``bench`` from here (the current directory
    comes first on the path)."""
    folder = Path(tempfile.gettempdir()) / "govhub-backlog-bench"
    folder.mkdir(exist_ok=True)
    link = folder / "bench"
    if not link.exists():
        link.symlink_to(Path(here) / "bench")
    return str(folder)


if __name__ == "__main__":
    main()
