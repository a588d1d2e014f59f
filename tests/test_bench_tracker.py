"""The tracker benchmark keeps working: its quick store filled, the person's trail and the
citizen's first page timed against the bare identity-index read. No figure is asserted
(speed depends on the machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow


def test_the_tracker_benchmark_times_the_trail_against_the_index_read(tmp_path: Path) -> None:
    result = run_bench(tmp_path, "--only", "tracker")

    (tracker,) = result["benchmarks"]  # type: ignore[misc]
    assert "216 entries among 20,000 messages (SQLite)" in tracker["what"]
    assert [row["call"] for row in tracker["rows"]] == [
        "identity index only (baseline)",
        "govhub tracker (operator, every entry)",
        "GetDataUsage page 1 of 100 (citizen)",
    ]
    assert all(row["median_ms"] > 0 and row["ratio"] for row in tracker["rows"])
