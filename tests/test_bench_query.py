"""The query benchmark keeps working in its quick mode: three mock departments answering in
50 ms each, asked directly and through the hub, every dossier complete. No figure is
asserted: speed is the machine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from test_bench_quick_runner import run_bench

pytestmark = pytest.mark.slow


def test_the_quick_query_benchmark_reports_each_source_the_query_and_the_merge(
    tmp_path: Path,
) -> None:
    (benchmark,) = cast(list[dict[str, Any]], run_bench(tmp_path, "--only", "query")["benchmarks"])

    rows = benchmark["rows"]
    assert [row["operation"].split(" ")[0] for row in rows] == [
        "source",
        "source",
        "source",
        "Query",
        "merge:",
    ]
    query = rows[3]
    assert query["ok"] > 0 and query["failed"] == 0, query["first_failure"]
    assert query["ratio_to_slowest_source"] is not None
