"""The bundle benchmark keeps working in its quick mode: every single Submit accepted, then
all of them carried by one bundle, imported on the other hub and settled by its receipt, each
with a ratio against the Submits. No figure is asserted: speed is the machine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow


def test_the_quick_bundle_benchmark_carries_every_message_and_settles_every_leg(
    tmp_path: Path,
) -> None:
    (benchmark,) = cast(list[dict[str, Any]], run_bench(tmp_path, "--only", "bundle")["benchmarks"])

    baseline, export, imported, settled = benchmark["rows"]
    assert baseline["records"] == 300 and baseline["failed"] == 0
    assert export["records"] == imported["records"] == 300 and export["bytes"] > 0
    assert settled["records"] == 300
    assert all(row["ratio"] is not None for row in (export, imported, settled))
