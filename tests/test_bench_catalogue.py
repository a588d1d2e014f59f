"""The catalogue benchmark keeps working in its quick mode: one hub answers ListServices,
GetSchema and the GetStatus baseline, none of them a fault. No figure is asserted: speed is
the machine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow


def test_the_quick_catalogue_benchmark_measures_both_operations_against_getstatus(
    tmp_path: Path,
) -> None:
    (benchmark,) = cast(
        list[dict[str, Any]], run_bench(tmp_path, "--only", "catalogue")["benchmarks"]
    )

    rows = {row["operation"]: row for row in benchmark["rows"]}
    assert list(rows) == ["GetStatus (baseline)", "ListServices", "GetSchema"]
    assert all(row["ok"] > 0 and row["failed"] == 0 for row in rows.values())
    assert rows["ListServices"]["ratio"] is not None
