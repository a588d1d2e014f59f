"""The batch benchmark keeps working in its quick mode: every single Submit accepted, the
batch sent in full with a ratio against them, and the check's memory measured at two sizes.
No figure is asserted: speed is the machine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow


def test_the_quick_batch_benchmark_measures_the_batch_against_single_submits(
    tmp_path: Path,
) -> None:
    (benchmark,) = cast(list[dict[str, Any]], run_bench(tmp_path, "--only", "batch")["benchmarks"])

    baseline, batch, soap, quarter, whole = benchmark["rows"]
    assert baseline["records"] == 500 and baseline["failed"] == 0
    assert batch["records"] == 500 and batch["ratio"] is not None
    assert soap["records"] == 500 and soap["ratio"] is not None
    assert quarter["records"] == 125 and whole["records"] == 500
    assert whole["peak_kib"] > 0 and whole["ratio"] is not None
