"""The soak keeps working: `python -m bench --soak` drives the distributed setup for a fraction
of a minute with pruning on and writes its per-minute rows as JSON and its curves as a PNG.
No figure is asserted (speed depends on the machine); the per-minute arithmetic is checked on
readings made up here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from backends import unavailable
from matplotlib.image import imread

from bench.__main__ import BENCHMARKS, parse_args
from bench.backends import distributed_missing
from bench.soak_samples import Sample, Timing, per_minute

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("api", "worker-0", "worker-1", "mocks")


@pytest.mark.slow
@pytest.mark.distributed
def test_a_short_soak_writes_its_minute_rows_as_json_and_its_curves_as_a_png(
    tmp_path: Path,
) -> None:
    if missing := distributed_missing():
        unavailable("the distributed setup", RuntimeError(missing))
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--soak", "0.25", "--seconds", "2", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    (soak,) = json.loads(out.read_text(encoding="utf-8"))["benchmarks"]
    assert soak["name"] == "soak" and not soak["skipped"]
    assert soak["rate_messages_per_second"] > 0 and soak["failed_submits"] == 0
    (row,) = soak["rows"]  # 15 s: one (short) minute
    assert row["seconds"] == pytest.approx(15, abs=3)
    assert all(row[f"{name}_mb"] > 20 for name in PROCESSES), row
    assert row["database_mb"] > 0 and row["accepted"] > 0 and row["delivered"] > 0
    assert 0 < row["p50_ms"] <= row["p99_ms"]
    assert row["bodies_pruned"] > 0, "pruning did not run during the soak"
    assert soak["pending_at_end"] == 0
    assert set(soak["errors_logged"]) == set(PROCESSES)  # each process's log was read
    picture = imread(out.with_suffix(".png"))
    assert picture.shape[0] > 400 and picture.shape[1] > 600
    assert "soak" in done.stdout and "database_mb" in done.stdout  # the table was printed


def test_rows_are_per_minute_with_the_readings_at_each_minutes_end() -> None:
    samples = [
        Sample(0.0, {"api": 100.0}, 10.0, 0),
        Sample(55.0, {"api": 110.0}, 20.0, 3),
        Sample(60.0, {"api": 120.0}, 25.0, 5),
        Sample(90.0, {"api": 125.0}, 30.0, 9),
    ]
    times = [
        Timing(1.0, 1.1),  # 100 ms
        Timing(59.0, 61.0),  # accepted in minute 1, delivered in minute 2: 2,000 ms
        Timing(70.0, 70.05),
        Timing(80.0, None),  # a leg still pending: accepted, not delivered, not timed
    ]

    first, second = per_minute(samples, times, 90.0)

    assert first == {
        "minute": 1,
        "seconds": 60.0,
        "api_mb": 120.0,
        "database_mb": 25.0,
        "bodies_pruned": 5,
        "accepted": 2,
        "delivered": 1,
        "p50_ms": 100.0,
        "p95_ms": 2000.0,
        "p99_ms": 2000.0,
    }
    assert (second["seconds"], second["api_mb"], second["database_mb"]) == (30.0, 125.0, 30.0)
    assert (second["accepted"], second["delivered"], second["p50_ms"]) == (2, 2, 50.0)
    # A soak overruns its minutes by a moment: that moment is the last minute's, not a row.
    (only,) = per_minute(samples, times, 60.3)
    assert (only["seconds"], only["accepted"]) == (60.3, 2)


def test_the_soak_runs_only_when_asked_and_never_in_the_quick_mode() -> None:
    assert "soak" not in BENCHMARKS
    assert "soak" not in parse_args(["--quick"]).only
    options = parse_args(["--soak", "10"])
    assert options.only == ["soak"] and options.soak == 10.0
    assert (options.json, options.soak_png) == (Path("soak.json"), Path("soak.png"))
    with pytest.raises(SystemExit):
        parse_args(["--soak", "10", "--quick"])
