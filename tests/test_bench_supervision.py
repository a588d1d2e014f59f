"""The supervision benchmark keeps working in its quick mode (SQLite, as CI runs it): each
size's pass evaluates every case and issues its signals, a second pass issues none, and
Submit is measured alone and during a pass. No figure is asserted: speed is the machine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow


def test_the_quick_supervision_benchmark_measures_passes_and_submit_during_one(
    tmp_path: Path,
) -> None:
    result = run_bench(tmp_path, "--only", "supervision", "--seconds", "0.3")

    benchmark: dict[str, Any] = result["benchmarks"][0]  # type: ignore[index]
    passes = [row for row in benchmark["rows"] if row["setup"].startswith("pass")]
    assert [row["cases"] for row in passes] == [1000, 3000]
    # Every case accepted before 12 October has a deadline signal; one in twenty a late card.
    assert all(row["issued"] >= row["cases"] for row in passes)
    assert all(row["first_pass_s"] > 0 and row["second_pass_s"] > 0 for row in passes)
    alone, during = benchmark["rows"][-2:]
    assert (alone["setup"], during["setup"]) == ("Submit alone", "Submit during a first pass")
    assert alone["ok"] > 0 and during["ok"] > 0 and during["failed"] == 0
    assert during["ratio"] is not None and during["pass_s"] > 0
